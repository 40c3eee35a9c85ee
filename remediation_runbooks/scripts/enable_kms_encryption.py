"""ASR-EnableEncryptionForSNSTopic and ASR-EnableEncryptionForSQSQueue: server-side encryption with a KMS key.

Both documents embed this script; each has its own handler.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def check_key(key_arn: str) -> None:
    """Refuse a key the service could not encrypt with: missing, not enabled, not symmetric encryption."""
    kms = boto3.client("kms", config=BOTO_CONFIG)
    try:
        meta = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
    except kms.exceptions.NotFoundException:
        raise RemediationError(f"KmsKeyArn {key_arn}: no such KMS key") from None
    if meta.get("KeyState") != "Enabled":
        raise RemediationError(f"KmsKeyArn {key_arn}: key is {meta.get('KeyState')}; only Enabled keys encrypt")
    spec, usage = meta.get("KeySpec", "SYMMETRIC_DEFAULT"), meta.get("KeyUsage", "ENCRYPT_DECRYPT")
    if spec != "SYMMETRIC_DEFAULT" or usage != "ENCRYPT_DECRYPT":
        raise RemediationError(
            f"KmsKeyArn {key_arn}: not a symmetric encryption key ({spec}, {usage})"
        )


def _result(kind: str, resource: str, before: str, after: str) -> dict[str, str]:
    return {
        kind: resource,
        "EncryptionBefore": before or "none",
        "EncryptionAfter": after,
        "Message": f"Encryption enabled with {after}."
        if not before
        else f"Already encrypted with {before}; nothing changed.",
    }


def encrypt_sns_topic(event: dict[str, Any], _context: Any) -> dict[str, str]:
    topic_arn, key_arn = event["TopicArn"], event["KmsKeyArn"]
    sns = boto3.client("sns", config=BOTO_CONFIG)
    try:
        before = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"].get("KmsMasterKeyId", "")
    except sns.exceptions.NotFoundException:
        raise RemediationError(f"TopicArn {topic_arn}: no such SNS topic in this account and Region") from None
    if before:
        return _result("TopicArn", topic_arn, before, before)
    check_key(key_arn)
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
    return "SSE-SQS" if attrs.get("SqsManagedSseEnabled") == "true" else ""


def encrypt_sqs_queue(event: dict[str, Any], _context: Any) -> dict[str, str]:
    name, key_arn = event["SQSQueueName"], event["KmsKeyArn"]
    sqs = boto3.client("sqs", config=BOTO_CONFIG)
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        raise RemediationError(f"SQSQueueName {name}: no such SQS queue in this account and Region") from None
    before = _queue_encryption(sqs, url)
    if before:
        return _result("QueueUrl", url, before, before)
    check_key(key_arn)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": key_arn})
    after = _queue_encryption(sqs, url)
    if after != key_arn:
        raise RemediationError(f"SQSQueueName {name}: KmsMasterKeyId is {after or 'unset'} after SetQueueAttributes")
    return _result("QueueUrl", url, before, after)
