"""ASR-ConfigureSNSTopicForStack: add an SNS notification topic to one CloudFormation stack.

The topic is added through a change set, never UpdateStack: an update re-resolves the stack's
parameters (SSM parameter types such as the latest AMI, dynamic references) and may modify or
replace resources. The change set keeps the previous template and parameter values and only adds the
notification ARN; it is executed only when it changes nothing else -- no resource change and no
parameter resolving to another value (DescribeChangeSet, AWS CloudFormation API Reference:
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeChangeSet.html).
Otherwise it is deleted and the run fails, naming what would have changed.

Waits are bounded (change set creation, then the update) and a wait that runs out is reported as
such -- with what was already done -- never as success.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
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
# The step's timeoutSeconds is 600: both waits together stay well within it.
CHANGE_SET_POLL_SECONDS, CHANGE_SET_MAX_POLLS = 5, 12
POLL_SECONDS, MAX_POLLS = 10, 45

Sleep = Callable[[float], None]


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _stack(cloudformation: Any, arn: str) -> dict[str, Any]:
    try:
        return cloudformation.describe_stacks(StackName=arn)["Stacks"][0]
    except ClientError as err:
        if "does not exist" in str(err):
            raise RemediationError(f"StackArn {arn}: no such stack in this account and Region") from None
        raise


def _change_set(cloudformation: Any, arn: str, name: str) -> dict[str, Any]:
    pages: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"StackName": arn, "ChangeSetName": name}
    while True:
        page = cloudformation.describe_change_set(**kwargs)
        pages.append(page)
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    return {**pages[0], "Changes": [c for p in pages for c in p.get("Changes", [])]}


def _wait_for_change_set(cloudformation: Any, arn: str, name: str, sleep: Sleep) -> dict[str, Any]:
    for attempt in range(CHANGE_SET_MAX_POLLS):
        change_set = _change_set(cloudformation, arn, name)
        if change_set["Status"] in ("CREATE_COMPLETE", "FAILED"):
            return change_set
        if attempt < CHANGE_SET_MAX_POLLS - 1:
            sleep(CHANGE_SET_POLL_SECONDS)
    _discard(cloudformation, arn, name)
    raise RemediationError(
        f"StackArn {arn}: change set {name} was still {change_set['Status']} after "
        f"{CHANGE_SET_POLL_SECONDS * CHANGE_SET_MAX_POLLS} s; it was not executed (deleted) and the stack is "
        "unchanged. Run again later."
    )


def _discard(cloudformation: Any, arn: str, name: str) -> None:
    # Best effort: the error that made us discard it is the one to report.
    with contextlib.suppress(ClientError):
        cloudformation.delete_change_set(StackName=arn, ChangeSetName=name)


def _describe_change(change: dict[str, Any]) -> str:
    detail = change.get("ResourceChange") or {}
    replacement = detail.get("Replacement")
    return (
        f"{detail.get('Action', change.get('Type', '?'))} {detail.get('LogicalResourceId', '?')}"
        f" ({detail.get('ResourceType', '?')}"
        + (f", replacement {replacement}" if replacement and replacement != "False" else "")
        + ")"
    )


def _resolved(parameters: list[dict[str, Any]] | None) -> dict[str, str]:
    return {p["ParameterKey"]: p.get("ResolvedValue", p.get("ParameterValue", "")) for p in parameters or []}


def _beyond_notifications(stack: dict[str, Any], change_set: dict[str, Any]) -> list[str]:
    """Everything the change set would change besides the notification ARNs."""
    problems = [_describe_change(c) for c in change_set.get("Changes", [])]
    before, after = _resolved(stack.get("Parameters")), _resolved(change_set.get("Parameters"))
    problems += [
        f"parameter {key} would resolve to {after[key]!r} instead of {before.get(key)!r}"
        for key in sorted(after)
        if after[key] != before.get(key)
    ]
    return problems


def _wait_for_update(cloudformation: Any, arn: str, name: str, sleep: Sleep) -> dict[str, Any]:
    for attempt in range(MAX_POLLS):
        stack = _stack(cloudformation, arn)
        status = stack["StackStatus"]
        if status == "UPDATE_COMPLETE":
            return stack
        if not status.endswith("_IN_PROGRESS"):
            raise RemediationError(
                f"StackArn {arn}: the update (change set {name}) ended in {status}: "
                f"{stack.get('StackStatusReason', '')}"
            )
        if attempt < MAX_POLLS - 1:
            sleep(POLL_SECONDS)
    raise RemediationError(
        f"StackArn {arn}: change set {name} was executed, but the stack is still {status} after "
        f"{POLL_SECONDS * MAX_POLLS} s, so the notification is not confirmed. CloudFormation carries on with "
        "the update: check the stack events, then run again to confirm."
    )


def _change_set_arguments(stack: dict[str, Any], arn: str, name: str, topic: str) -> dict[str, Any]:
    args: dict[str, Any] = {
        "StackName": arn,
        "ChangeSetName": name,
        "ChangeSetType": "UPDATE",
        "UsePreviousTemplate": True,
        "NotificationARNs": [topic],
        "Description": "ASR CloudFormation.1: add an SNS notification topic; no other change",
    }
    if stack.get("Parameters"):
        args["Parameters"] = [
            {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True} for p in stack["Parameters"]
        ]
    if stack.get("Capabilities"):
        args["Capabilities"] = stack["Capabilities"]
    if stack.get("RoleARN"):
        args["RoleARN"] = stack["RoleARN"]  # the stack's own service role, as before (passed explicitly)
    return args


def configure_notifications(event: dict[str, Any], _context: Any, sleep: Sleep = time.sleep) -> dict[str, Any]:
    arn, topic_name = event["StackArn"], event["TopicName"]
    cloudformation = boto3.client("cloudformation", config=BOTO_CONFIG)
    stack = _stack(cloudformation, arn)
    existing = stack.get("NotificationARNs") or []
    if existing:
        return {
            "StackArn": arn,
            "NotificationARNs": existing,
            "TopicArn": "",
            "ChangeSet": "",
            "Message": "The stack already notifies an SNS topic; nothing changed.",
        }
    if stack["StackStatus"] not in UPDATABLE:
        raise RemediationError(
            f"StackArn {arn}: the stack is {stack['StackStatus']} and cannot be updated now; nothing changed"
        )
    topic = boto3.client("sns", config=BOTO_CONFIG).create_topic(Name=topic_name)["TopicArn"]
    name = f"ASR-CloudFormation1-{datetime.now(UTC):%Y%m%d%H%M%S}"
    cloudformation.create_change_set(**_change_set_arguments(stack, arn, name, topic))
    change_set = _wait_for_change_set(cloudformation, arn, name, sleep)
    if change_set["Status"] == "FAILED":
        _discard(cloudformation, arn, name)
        raise RemediationError(
            f"StackArn {arn}: change set {name} failed: {change_set.get('StatusReason', '')}; nothing changed"
        )
    problems = _beyond_notifications(stack, change_set)
    if problems:
        _discard(cloudformation, arn, name)
        raise RemediationError(
            f"StackArn {arn}: adding the notification topic would also change the stack ({'; '.join(problems)}); "
            f"change set {name} was deleted, not executed, and the stack is unchanged. Add topic {topic} to the "
            "stack's notification options in your own next update."
        )
    cloudformation.execute_change_set(StackName=arn, ChangeSetName=name)
    after = _wait_for_update(cloudformation, arn, name, sleep).get("NotificationARNs") or []
    if topic not in after:
        raise RemediationError(f"StackArn {arn}: topic {topic} is not in the stack's notifications after the update")
    return {
        "StackArn": arn,
        "NotificationARNs": after,
        "TopicArn": topic,
        "ChangeSet": name,
        "Message": f"The stack now notifies {topic} (change set {name}; no resource or parameter changed).",
    }
