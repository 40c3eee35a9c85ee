"""ASR-EnableDeliveryStatusLoggingForSNSTopic: log delivery status of one SNS topic to CloudWatch Logs."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
PROTOCOLS = ("HTTP", "Firehose", "Lambda", "SQS", "Application")


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _sample_rate(event: dict[str, Any]) -> str:
    raw = str(event["SampleRate"])
    if not raw.isdigit() or not 0 <= int(raw) <= 100:
        raise RemediationError(f"SampleRate {raw!r}: must be a whole percentage, 0-100")
    return str(int(raw))


def check_logging_role(role_arn: str, topic_arn: str) -> None:
    """The role must exist in the topic's account and trust sns.amazonaws.com."""
    if role_arn.split(":")[4] != topic_arn.split(":")[4]:
        raise RemediationError(f"LoggingRole {role_arn}: not in the topic's account {topic_arn.split(':')[4]}")
    iam = boto3.client("iam", config=BOTO_CONFIG)
    try:
        role = iam.get_role(RoleName=role_arn.rsplit("/", 1)[-1])["Role"]
    except iam.exceptions.NoSuchEntityException:
        raise RemediationError(
            f"LoggingRole {role_arn}: no such IAM role (is the ASR member roles stack deployed?)"
        ) from None
    trust = role.get("AssumeRolePolicyDocument", {})
    if "sns.amazonaws.com" not in (trust if isinstance(trust, str) else json.dumps(trust)):
        raise RemediationError(f"LoggingRole {role_arn}: its trust policy does not allow sns.amazonaws.com")


def _attributes(sns: Any, topic_arn: str) -> dict[str, str]:
    try:
        return sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    except sns.exceptions.NotFoundException:
        raise RemediationError(f"SNSTopicArn {topic_arn}: no such SNS topic in this account and Region") from None


def missing_settings(attributes: dict[str, str], role_arn: str, rate: str) -> dict[str, str]:
    """Delivery-status attributes the topic lacks, with the value to set; existing ones are kept."""
    wanted = {}
    for protocol in PROTOCOLS:
        wanted[f"{protocol}SuccessFeedbackRoleArn"] = role_arn
        wanted[f"{protocol}FailureFeedbackRoleArn"] = role_arn
        wanted[f"{protocol}SuccessFeedbackSampleRate"] = rate
    return {name: value for name, value in wanted.items() if not attributes.get(name)}


def enable_delivery_status_logging(event: dict[str, Any], _context: Any) -> dict[str, str]:
    topic_arn, role_arn = event["SNSTopicArn"], event["LoggingRole"]
    rate = _sample_rate(event)
    sns = boto3.client("sns", config=BOTO_CONFIG)
    changes = missing_settings(_attributes(sns, topic_arn), role_arn, rate)
    if changes:
        check_logging_role(role_arn, topic_arn)
    for name, value in changes.items():
        sns.set_topic_attributes(TopicArn=topic_arn, AttributeName=name, AttributeValue=value)
    still = missing_settings(_attributes(sns, topic_arn), role_arn, rate)
    if still:
        raise RemediationError(f"SNSTopicArn {topic_arn}: {', '.join(still)} still unset after SetTopicAttributes")
    return {
        "SNSTopicArn": topic_arn,
        "AttributesSet": ",".join(changes),
        "Message": f"Delivery status logging set: {', '.join(changes)}."
        if changes
        else "Delivery status logging was already configured for every protocol; nothing changed.",
    }
