"""ASR-ConfigureSNSTopicForStack: add an SNS notification topic to one CloudFormation stack."""

from __future__ import annotations

import time
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
UPDATABLE = {
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
}
POLL_SECONDS, MAX_POLLS = 10, 50


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _stack(cloudformation: Any, arn: str) -> dict[str, Any]:
    try:
        return cloudformation.describe_stacks(StackName=arn)["Stacks"][0]
    except ClientError as err:
        if "does not exist" in str(err):
            raise RemediationError(f"StackArn {arn}: no such stack in this account and Region") from None
        raise


def _wait(cloudformation: Any, arn: str, sleep: Any = time.sleep) -> dict[str, Any]:
    for _ in range(MAX_POLLS):
        stack = _stack(cloudformation, arn)
        status = stack["StackStatus"]
        if status == "UPDATE_COMPLETE":
            return stack
        if not status.endswith("_IN_PROGRESS"):
            raise RemediationError(
                f"StackArn {arn}: the update ended in {status}: {stack.get('StackStatusReason', '')}"
            )
        sleep(POLL_SECONDS)
    raise RemediationError(f"StackArn {arn}: still updating after {POLL_SECONDS * MAX_POLLS} s; check the stack events")


def configure_notifications(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    arn, topic_name = event["StackArn"], event["TopicName"]
    cloudformation = boto3.client("cloudformation", config=BOTO_CONFIG)
    stack = _stack(cloudformation, arn)
    existing = stack.get("NotificationARNs") or []
    if existing:
        return {
            "StackArn": arn,
            "NotificationARNs": existing,
            "TopicArn": "",
            "Message": "The stack already notifies an SNS topic; nothing changed.",
        }
    if stack["StackStatus"] not in UPDATABLE:
        raise RemediationError(
            f"StackArn {arn}: the stack is {stack['StackStatus']} and cannot be updated now; nothing changed"
        )
    topic = boto3.client("sns", config=BOTO_CONFIG).create_topic(Name=topic_name)["TopicArn"]
    update: dict[str, Any] = {"StackName": arn, "UsePreviousTemplate": True, "NotificationARNs": [topic]}
    if stack.get("Parameters"):
        update["Parameters"] = [
            {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True} for p in stack["Parameters"]
        ]
    if stack.get("Capabilities"):
        update["Capabilities"] = stack["Capabilities"]
    cloudformation.update_stack(**update)
    after = _wait(cloudformation, arn).get("NotificationARNs") or []
    if topic not in after:
        raise RemediationError(f"StackArn {arn}: topic {topic} is not in the stack's notifications after the update")
    return {
        "StackArn": arn,
        "NotificationARNs": after,
        "TopicArn": topic,
        "Message": f"The stack now notifies {topic}.",
    }
