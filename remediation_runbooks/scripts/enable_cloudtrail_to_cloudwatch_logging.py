"""ASR-EnableCloudTrailToCloudWatchLogging: deliver one trail's events to a CloudWatch Logs log group."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
# ASCII only and used with fullmatch: a Unicode digit ("\u0661") or a trailing newline is refused.
_ROLE_ARN = re.compile(r"arn:[a-z-]+:iam::(?P<account>[0-9]{12}):role/(?:[\w+=,.@-]+/)*(?P<name>[\w+=,.@-]+)", re.ASCII)
# The trail is read back for up to a minute after UpdateTrail.
VERIFY_ATTEMPTS = 6
VERIFY_INTERVAL_SECONDS = 10
#: The values PutRetentionPolicy accepts
#: (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html).
VALID_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _get_trail(cloudtrail: Any, name: str) -> dict[str, Any]:
    try:
        trail = cloudtrail.get_trail(Name=name)["Trail"]
    except cloudtrail.exceptions.TrailNotFoundException:
        raise RemediationError(f"TrailName {name}: no such trail in this account and Region") from None
    home = trail.get("HomeRegion") or cloudtrail.meta.region_name
    if home != cloudtrail.meta.region_name:
        raise RemediationError(
            f"TrailName {name}: the trail's home Region is {home}; it can only be changed there, "
            f"not in {cloudtrail.meta.region_name}"
        )
    return trail


def _check_role(role_arn: str, account: str) -> None:
    """The role must exist in this account (a wrong or unsuffixed role name fails here, clearly)."""
    match = _ROLE_ARN.fullmatch(role_arn)
    if not match or match["account"] != account:
        raise RemediationError(f"CloudWatchLogsRole {role_arn}: not a role ARN of account {account}")
    iam = boto3.client("iam", config=BOTO_CONFIG)
    try:
        iam.get_role(RoleName=match["name"])
    except iam.exceptions.NoSuchEntityException:
        raise RemediationError(f"CloudWatchLogsRole {role_arn}: no such IAM role in this account") from None
    except ClientError as err:
        if err.response["Error"]["Code"] != "AccessDenied":
            raise
        raise RemediationError(
            f"CloudWatchLogsRole {role_arn}: not allowed; this remediation may only pass the solution's "
            "SO0111-CloudTrailToCloudWatchLogs-<namespace> role"
        ) from None


def _find_log_group(logs: Any, name: str) -> dict[str, Any] | None:
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
        for group in page["logGroups"]:
            if group["logGroupName"] == name:
                return group
    return None


def _retention(value: Any) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        days = -1
    if days not in VALID_RETENTION_DAYS:
        raise RemediationError(f"RetentionDays {value!r}: must be one of {', '.join(map(str, VALID_RETENTION_DAYS))}")
    return days


def _ensure_log_group(logs: Any, name: str, retention: int) -> tuple[str, bool]:
    """ARN (ending ``:*``, as CloudTrail wants it) of log group ``name``, and whether it was created.

    A log group it creates keeps events ``retention`` days: CloudWatch Logs' default is to keep them
    forever, which CloudWatch.16 accepts but nobody budgets for. An existing log group is kept as it is."""
    group = _find_log_group(logs, name)
    created = group is None
    if created:
        logs.create_log_group(logGroupName=name)
        logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
        group = _find_log_group(logs, name)
    if group is None:
        raise RemediationError(f"LogGroupName {name}: log group not found after CreateLogGroup")
    if created and group.get("retentionInDays") != retention:
        raise RemediationError(
            f"LogGroupName {name}: retention reads {group.get('retentionInDays')} after PutRetentionPolicy, "
            f"expected {retention}"
        )
    arn = group["arn"]
    return (arn if arn.endswith(":*") else f"{arn}:*"), created


def enable_cloudtrail_to_cloudwatch_logging(
    event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, str]:
    name, role_arn, group_name = event["TrailName"], event["CloudWatchLogsRole"], event["LogGroupName"]
    retention = _retention(event.get("RetentionDays", 365))
    cloudtrail = boto3.client("cloudtrail", config=BOTO_CONFIG)
    trail = _get_trail(cloudtrail, name)
    if trail.get("CloudWatchLogsLogGroupArn"):
        return {
            "TrailArn": trail["TrailARN"],
            "LogGroupArn": trail["CloudWatchLogsLogGroupArn"],
            "LogGroupCreated": "false",
            "Message": "Trail already delivers to CloudWatch Logs; its log group was kept and nothing changed.",
        }
    account = boto3.client("sts", config=BOTO_CONFIG).get_caller_identity()["Account"]
    _check_role(role_arn, account)
    group_arn, created = _ensure_log_group(boto3.client("logs", config=BOTO_CONFIG), group_name, retention)
    cloudtrail.update_trail(Name=trail["TrailARN"], CloudWatchLogsLogGroupArn=group_arn, CloudWatchLogsRoleArn=role_arn)
    after = _get_trail(cloudtrail, trail["TrailARN"])
    for _ in range(VERIFY_ATTEMPTS - 1):
        if after.get("CloudWatchLogsLogGroupArn") == group_arn:
            break
        sleep(VERIFY_INTERVAL_SECONDS)
        after = _get_trail(cloudtrail, trail["TrailARN"])
    if after.get("CloudWatchLogsLogGroupArn") != group_arn:
        raise RemediationError(
            f"TrailName {name}: CloudWatch Logs delivery not set {VERIFY_ATTEMPTS} reads after UpdateTrail"
        )
    return {
        "TrailArn": trail["TrailARN"],
        "LogGroupArn": group_arn,
        "LogGroupCreated": str(created).lower(),
        "Message": f"Trail now delivers to log group {group_name}"
        + (f" (created, retention {retention} days)." if created else "."),
    }
