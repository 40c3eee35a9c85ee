"""ASR-EnableEncryptionForSNSTopic and ASR-EnableEncryptionForSQSQueue: server-side encryption with a KMS key.

Both documents embed this script; each has its own handler.
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any

import boto3

from remediation_runbooks.scripts._member_key import (  # %%INLINE%%
    BOTO_CONFIG,
    KEY_PARAMETER,  # noqa: F401 -- the tests read it
    RemediationError,
    configured_key,
)

SSE_SQS = "SSE-SQS"
AWS_MANAGED_SNS_KEY = "alias/aws/sns"


# What to do when there is no customer managed key (docs/encryption.md).
KEY_MODE_HINT = (
    "deploy the member stack with RemediationKeyMode Existing (and RemediationKeyArn) or PerStack in this "
    "account and Region, or pass KMSKeyArn"
)


def check_key(key_arn: str) -> str:
    """Refuse a key the service could not encrypt with: missing, not enabled, not symmetric encryption.
    Returns the key's ARN (``key_arn`` may name an alias)."""
    kms = boto3.client("kms", config=BOTO_CONFIG)
    try:
        meta = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
    except kms.exceptions.NotFoundException:
        raise RemediationError(f"KmsKeyArn {key_arn}: no such KMS key") from None
    if meta.get("KeyState") != "Enabled":
        raise RemediationError(f"KmsKeyArn {key_arn}: key is {meta.get('KeyState')}; only Enabled keys encrypt")
    spec, usage = meta.get("KeySpec", "SYMMETRIC_DEFAULT"), meta.get("KeyUsage", "ENCRYPT_DECRYPT")
    if spec != "SYMMETRIC_DEFAULT" or usage != "ENCRYPT_DECRYPT":
        raise RemediationError(f"KmsKeyArn {key_arn}: not a symmetric encryption key ({spec}, {usage})")
    return meta["Arn"]


def _result(kind: str, resource: str, before: str, after: str) -> dict[str, str]:
    return {
        kind: resource,
        "EncryptionBefore": before or "none",
        "EncryptionAfter": after,
        "Message": f"Encryption enabled with {after}."
        if not before
        else f"Already encrypted with {before}; nothing changed.",
    }


# --- SNS: publishers the key must admit --------------------------------------------
#
# Once a topic is encrypted, a publisher needs kms:GenerateDataKey* and kms:Decrypt on its key; AWS
# services that publish to topics (EventBridge, CloudWatch alarms, S3 and RDS events, Budgets, CodeStar
# Notifications ...) and other accounts get them only from the key policy, or their messages are refused:
# https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
PUBLISH_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
SNS_KEY_DOC = "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services"


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _account_of(principal: str) -> str:
    """The account of an AWS principal (an account id or an IAM ARN)."""
    return principal.split(":")[4] if principal.startswith("arn:") else principal


def _covers(patterns: Any, action: str) -> bool:
    return any(fnmatchcase(action.lower(), str(p).lower()) for p in _listed(patterns))


def topic_publishers(policy: dict[str, Any], topic_arn: str) -> dict[str, str]:
    """Publishers the topic's access policy names that need the key policy: AWS services, and principals
    of other accounts (``account <id>``), each with the statement that lets it publish. The owner
    account's principals get KMS permissions from IAM; a wildcard principal names nobody in particular."""
    owner = topic_arn.split(":")[4]
    found: dict[str, str] = {}
    for index, statement in enumerate(_listed(policy.get("Statement"))):
        if statement.get("Effect") != "Allow" or not _covers(statement.get("Action"), "sns:Publish"):
            continue
        principal = statement.get("Principal")
        if not isinstance(principal, dict):
            continue
        where = f"topic policy statement {statement.get('Sid') or index}"
        for service in _listed(principal.get("Service")):
            found.setdefault(service, where)
        for aws in _listed(principal.get("AWS")):
            if aws != "*" and _account_of(aws) != owner:
                found.setdefault(f"account {_account_of(aws)}", where)
    return found


def alarm_publishers(cloudwatch: Any, topic_arn: str) -> dict[str, str]:
    """CloudWatch alarms that notify the topic: they publish as cloudwatch.amazonaws.com, with no
    statement in the topic policy."""
    for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm", "CompositeAlarm"]):
        for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
            actions = [
                *alarm.get("AlarmActions", []),
                *alarm.get("OKActions", []),
                *alarm.get("InsufficientDataActions", []),
            ]
            if topic_arn in actions:
                return {"cloudwatch.amazonaws.com": f"CloudWatch alarm {alarm['AlarmName']}"}
    return {}


def _statement_names(statement: dict[str, Any], publisher: str) -> bool:
    principal = statement.get("Principal")
    wildcard = principal == "*" or (isinstance(principal, dict) and "*" in _listed(principal.get("AWS")))
    if wildcard:
        # Everyone, unless conditions narrow it (as the policy of an AWS managed key does, to callers of
        # the account through the service): then it does not vouch for a service or another account.
        return not statement.get("Condition")
    if not isinstance(principal, dict):
        return False
    if publisher.startswith("account "):
        account = publisher.split(" ", 1)[1]
        return any(_account_of(str(p)) == account for p in _listed(principal.get("AWS")))
    return publisher in _listed(principal.get("Service"))


def key_admits(key_policy: dict[str, Any], publisher: str) -> bool:
    """The key policy allows ``publisher`` both kms:GenerateDataKey* and kms:Decrypt (and denies neither)."""
    allowed: set[str] = set()
    for statement in _listed(key_policy.get("Statement")):
        if not _statement_names(statement, publisher):
            continue
        covered = {a for a in PUBLISH_KEY_ACTIONS if _covers(statement.get("Action"), a)}
        if statement.get("Effect") == "Deny" and covered:
            return False
        if statement.get("Effect") == "Allow":
            allowed |= covered
    return allowed == set(PUBLISH_KEY_ACTIONS)


def check_publishers(
    topic_arn: str, attributes: dict[str, str], key_arn: str, key_id: str, aws_managed: bool = False
) -> None:
    """Refuse a key that some publisher of the topic could not use: encrypting would drop its messages."""
    publishers = topic_publishers(json.loads(attributes.get("Policy") or "{}"), topic_arn)
    publishers.update(alarm_publishers(boto3.client("cloudwatch", config=BOTO_CONFIG), topic_arn))
    if not publishers:
        return
    kms = boto3.client("kms", config=BOTO_CONFIG)
    owner = key_id.split(":")[4]
    if owner != topic_arn.split(":")[4]:
        # GetKeyPolicy does not work across accounts
        # (https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyPolicy.html): what the key admits
        # cannot be checked from here.
        who = ", ".join(sorted(publishers))
        raise RemediationError(
            f"TopicArn {topic_arn}: publishers {who} need kms:GenerateDataKey* and kms:Decrypt on the key of "
            f"KmsKeyArn {key_arn}, which belongs to account {owner}: its key policy cannot be read from here to "
            f"check it admits them. Encrypt this topic by hand once the key policy admits them ({SNS_KEY_DOC}). "
            "Nothing changed."
        )
    key_policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    stranded = {p: where for p, where in sorted(publishers.items()) if not key_admits(key_policy, p)}
    if stranded:
        who = "; ".join(f"{p} ({where})" for p, where in stranded.items())
        if aws_managed:
            raise RemediationError(
                f"TopicArn {topic_arn}: publishers {who} could not use the AWS managed key {key_arn}: its key "
                "policy admits no AWS service or other account and cannot be changed, so their messages would be "
                "refused once the topic is encrypted. No customer managed key is configured here (member stack "
                f"RemediationKeyMode None): {KEY_MODE_HINT}, with a key whose policy admits them "
                f"({SNS_KEY_DOC}). Nothing changed."
            )
        raise RemediationError(
            f"TopicArn {topic_arn}: publishers {who} could not use the key of KmsKeyArn {key_arn}: its key policy "
            f"does not allow them kms:GenerateDataKey* and kms:Decrypt, so their messages would be refused once "
            f"the topic is encrypted. Add them to the key policy ({SNS_KEY_DOC}) or give a KmsKeyArn whose "
            "policy admits them. Nothing changed."
        )


def encrypt_sns_topic(event: dict[str, Any], _context: Any) -> dict[str, str]:
    topic_arn, key_arn = event["TopicArn"], event.get("KmsKeyArn", "")
    sns = boto3.client("sns", config=BOTO_CONFIG)
    try:
        attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    except sns.exceptions.NotFoundException:
        raise RemediationError(f"TopicArn {topic_arn}: no such SNS topic in this account and Region") from None
    before = attributes.get("KmsMasterKeyId", "")
    if before:
        return _result("TopicArn", topic_arn, before, before)
    key_arn = configured_key(key_arn)
    aws_managed = not key_arn
    if aws_managed:
        # RemediationKeyMode None: the AWS managed key of SNS passes SNS.1 and costs nothing; DescribeKey creates
        # it on first use (https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html). Publishers
        # that are AWS services or other accounts cannot use it: check_publishers refuses those topics.
        _, partition, _, region, account, _ = topic_arn.split(":", 5)
        key_arn = f"arn:{partition}:kms:{region}:{account}:{AWS_MANAGED_SNS_KEY}"
    key_id = check_key(key_arn)
    check_publishers(topic_arn, attributes, key_arn, key_id, aws_managed)
    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="KmsMasterKeyId", AttributeValue=key_arn)
    after = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"].get("KmsMasterKeyId", "")
    if after != key_arn:
        raise RemediationError(f"TopicArn {topic_arn}: KmsMasterKeyId is {after or 'unset'} after SetTopicAttributes")
    return _result("TopicArn", topic_arn, before, after)


def _queue_encryption(sqs: Any, url: str) -> str:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["KmsMasterKeyId", "SqsManagedSseEnabled"])
    attrs = attrs.get("Attributes", {})
    if attrs.get("KmsMasterKeyId"):
        return attrs["KmsMasterKeyId"]
    return SSE_SQS if attrs.get("SqsManagedSseEnabled") == "true" else ""


def encrypt_sqs_queue(event: dict[str, Any], _context: Any) -> dict[str, str]:
    """SSE-SQS when no key is given (the default); SSE-KMS with ``KmsKeyArn`` when one is.

    SSE-SQS passes SQS.1 and needs no permission of the queue's producers and consumers; with SSE-KMS
    each of them (AWS services included) needs kms:GenerateDataKey and kms:Decrypt on the key
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html).
    """
    name, key_arn = event["SQSQueueName"], (event.get("KmsKeyArn") or "").strip()
    sqs = boto3.client("sqs", config=BOTO_CONFIG)
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        raise RemediationError(f"SQSQueueName {name}: no such SQS queue in this account and Region") from None
    before = _queue_encryption(sqs, url)
    if before:
        return _result("QueueUrl", url, before, before)
    if key_arn:
        check_key(key_arn)
        wanted, attributes = key_arn, {"KmsMasterKeyId": key_arn}
    else:
        wanted, attributes = SSE_SQS, {"SqsManagedSseEnabled": "true"}
    sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    after = _queue_encryption(sqs, url)
    if after != wanted:
        raise RemediationError(
            f"SQSQueueName {name}: encryption is {after or 'off'} after SetQueueAttributes, expected {wanted}"
        )
    return _result("QueueUrl", url, before, after)
