"""ASR-EnableBucketEventNotifications: send one bucket's events to an SNS topic, keeping other notifications."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import ClientError

from remediation_runbooks.scripts._member_key import (  # %%INLINE%%
    BOTO_CONFIG,
    KEY_PARAMETER,  # noqa: F401 -- the tests read it
    RemediationError,
    configured_key,
)

CONFIG_ID = "ASR Bucket Notification Topic Config"
TOPIC_SID = "ASR S3 Notification Policy"
DESTINATIONS = ("TopicConfigurations", "QueueConfigurations", "LambdaFunctionConfigurations")


# S3 bucket settings are eventually consistent ("Bucket configurations have an eventual consistency model",
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel): a change is read
# back for up to a minute before the document says it failed.
VERIFY_ATTEMPTS = 6
VERIFY_INTERVAL_SECONDS = 10


def read_back(read: Callable[[], Any], done: Callable[[Any], bool], sleep: Callable[[float], None]) -> Any:
    """``read()`` until ``done`` says it shows the change, at most VERIFY_ATTEMPTS times; the last read."""
    value = read()
    for _ in range(VERIFY_ATTEMPTS - 1):
        if done(value):
            break
        sleep(VERIFY_INTERVAL_SECONDS)
        value = read()
    return value


def _error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _check_bucket(s3: Any, bucket: str, owner: str, region: str) -> None:
    try:
        location = s3.get_bucket_location(Bucket=bucket, ExpectedBucketOwner=owner).get("LocationConstraint")
    except ClientError as err:
        code = _error_code(err)
        if code == "NoSuchBucket":
            raise RemediationError(f"BucketName {bucket}: no such bucket") from None
        if code in ("AccessDenied", "403"):
            raise RemediationError(
                f"BucketName {bucket}: access denied; the bucket is not owned by AccountId {owner} "
                "or the role lacks s3:GetBucketLocation"
            ) from None
        raise
    location = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)
    if location != region:
        raise RemediationError(
            f"BucketName {bucket}: the bucket is in Region {location}, this document runs in {region}; "
            "S3 can only notify a topic in the bucket's Region"
        )


def overlaps(a: str, b: str) -> bool:
    """True if two S3 event types select a common event (s3:ObjectCreated:* and s3:ObjectCreated:Put)."""
    if a == b:
        return True
    return any(x.endswith(":*") and y.startswith(x[:-1]) for x, y in ((a, b), (b, a)))


def _topic_statement(topic_arn: str, account: str, partition: str) -> dict[str, Any]:
    return {
        "Sid": TOPIC_SID,
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "SNS:Publish",
        "Resource": topic_arn,
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": f"arn:{partition}:s3:::*"},
        },
    }


def _check_key(key_arn: str) -> None:
    kms = boto3.client("kms", config=BOTO_CONFIG)
    try:
        state = kms.describe_key(KeyId=key_arn)["KeyMetadata"]["KeyState"]
    except ClientError as err:
        if _error_code(err) == "NotFoundException":
            raise RemediationError(f"KmsKeyArn {key_arn}: no such KMS key") from None
        raise
    if state != "Enabled":
        raise RemediationError(f"KmsKeyArn {key_arn}: key is {state}, not Enabled")


def ensure_topic(name: str, account: str, region: str, partition: str, key_arn: str) -> tuple[str, list[str]]:
    """ARN of the topic (created if missing) whose policy lets this account's buckets publish.

    The topic is encrypted with ``key_arn`` or the member's key, if any (SNS.1 flags a topic without KmsMasterKeyId,
    https://docs.aws.amazon.com/securityhub/latest/userguide/sns-controls.html#sns-1); a topic already
    encrypted keeps its key. S3 can only publish to an encrypted topic whose key policy lets
    s3.amazonaws.com use the key: the solution's remediation key does."""
    sns = boto3.client("sns", config=BOTO_CONFIG)
    arn = f"arn:{partition}:sns:{region}:{account}:{name}"
    changes = []
    # Without a customer managed key (RemediationKeyMode None) the topic has no SSE: S3 cannot publish to a
    # topic encrypted with the AWS managed key alias/aws/sns, whose policy admits no service
    # (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
    key_arn = configured_key(key_arn)
    try:
        attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    except ClientError as err:
        if _error_code(err) not in ("NotFound", "NotFoundException"):
            raise
        if key_arn:
            _check_key(key_arn)
        arn = sns.create_topic(Name=name, Attributes={"KmsMasterKeyId": key_arn} if key_arn else {})["TopicArn"]
        attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        changes.append(
            f"created SNS topic {arn} encrypted with {key_arn}"
            if key_arn
            else f"created SNS topic {arn} without SSE (no customer managed key is configured)"
        )
    if key_arn and not attributes.get("KmsMasterKeyId"):
        _check_key(key_arn)
        sns.set_topic_attributes(TopicArn=arn, AttributeName="KmsMasterKeyId", AttributeValue=key_arn)
        changes.append(f"topic encrypted with {key_arn}")
    policy = json.loads(attributes.get("Policy") or '{"Version": "2012-10-17", "Statement": []}')
    statements = [s for s in policy.get("Statement", []) if s.get("Sid") != TOPIC_SID]
    wanted = _topic_statement(arn, account, partition)
    if wanted not in policy.get("Statement", []):
        policy["Statement"] = [*statements, wanted]
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(policy))
        changes.append(f"topic policy statement '{TOPIC_SID}'")
    return arn, changes


def _current(s3: Any, bucket: str, owner: str) -> dict[str, Any]:
    config = s3.get_bucket_notification_configuration(Bucket=bucket, ExpectedBucketOwner=owner)
    config.pop("ResponseMetadata", None)
    return config


def _split_events(config: dict[str, Any], requested: list[str]) -> tuple[list[str], list[str]]:
    """(event types to send to the topic, event types another destination already receives)."""
    taken = [
        e for key in DESTINATIONS for c in config.get(key, []) if c.get("Id") != CONFIG_ID for e in c.get("Events", [])
    ]
    wanted = [e for e in requested if not any(overlaps(e, t) for t in taken)]
    return wanted, [e for e in requested if e not in wanted]


def _mine(config: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in config.get("TopicConfigurations", []) if c.get("Id") == CONFIG_ID), None)


def _put(s3: Any, bucket: str, owner: str, config: dict[str, Any], topic_arn: str, events: list[str]) -> None:
    new = {k: v for k, v in config.items() if k in (*DESTINATIONS, "EventBridgeConfiguration")}
    others = [c for c in new.get("TopicConfigurations", []) if c.get("Id") != CONFIG_ID]
    new["TopicConfigurations"] = [*others, {"Id": CONFIG_ID, "TopicArn": topic_arn, "Events": events}]
    s3.put_bucket_notification_configuration(Bucket=bucket, ExpectedBucketOwner=owner, NotificationConfiguration=new)


def enable_bucket_event_notifications(
    event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, Any]:
    bucket, owner = event["BucketName"], event["AccountId"]
    region, partition = event["Region"], event["Partition"]
    requested = list(dict.fromkeys(event["EventTypes"]))
    s3 = boto3.client("s3", config=BOTO_CONFIG)
    _check_bucket(s3, bucket, owner, region)
    config = _current(s3, bucket, owner)
    events, skipped = _split_events(config, requested)
    result: dict[str, Any] = {"BucketName": bucket, "SkippedEventTypes": skipped}
    if not events:
        return {
            **result,
            "Message": f"Bucket {bucket} already sends every requested event type elsewhere; nothing changed.",
        }
    topic_arn, changes = ensure_topic(event["TopicName"], owner, region, partition, event.get("KmsKeyArn", ""))
    mine = _mine(config)
    if not (mine and mine["TopicArn"] == topic_arn and set(mine["Events"]) == set(events)):
        _put(s3, bucket, owner, config, topic_arn, events)
        changes.append(f"bucket notification '{CONFIG_ID}' for {', '.join(events)}")
        if not _mine(read_back(lambda: _current(s3, bucket, owner), lambda got: bool(_mine(got)), sleep)):
            raise RemediationError(
                f"BucketName {bucket}: notification '{CONFIG_ID}' is not shown after {VERIFY_ATTEMPTS} reads"
            )
    result.update(TopicArn=topic_arn, EventTypes=events, Changes=changes)
    if not changes:
        return {**result, "Message": f"Bucket {bucket} already notifies {topic_arn}; nothing changed."}
    return {**result, "Message": f"Bucket {bucket}: " + "; ".join(changes) + ". Other notifications are unchanged."}
