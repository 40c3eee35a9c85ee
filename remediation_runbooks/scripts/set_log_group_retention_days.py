"""ASR-SetLogGroupRetentionDays: make one CloudWatch Logs log group keep its events long enough."""

from __future__ import annotations

import re
from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})

#: The only values PutRetentionPolicy accepts.
VALID_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)
# ASCII only and used with fullmatch: a Unicode digit ("\u0661") or a trailing newline is refused.
# Log group names: "a-z, A-Z, 0-9, '_' (underscore), '-' (hyphen), '/' (forward slash), '.' (period),
# and '#' (number sign)", 1-512 characters
# (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html).
_ARN = re.compile(
    r"arn:(?P<partition>aws|aws-cn|aws-us-gov):logs:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-[0-9]):"
    r"(?P<account>[0-9]{12}):log-group:(?P<name>[A-Za-z0-9_.\-/#]{1,512})(?::\*)?",
    re.ASCII,
)


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def retention_at_least(days: int) -> int:
    """The smallest retention CloudWatch Logs accepts that keeps events at least ``days`` days."""
    for valid in VALID_RETENTION_DAYS:
        if valid >= days:
            return valid
    raise RemediationError(f"RetentionDays {days}: must be between 1 and {VALID_RETENTION_DAYS[-1]}")


def _parse_arn(arn: str) -> re.Match[str]:
    match = _ARN.fullmatch(arn)
    if not match:
        raise RemediationError(f"LogGroupArn {arn}: not a CloudWatch Logs log group ARN")
    return match


def _current_retention(logs: Any, arn: str, name: str) -> int | None:
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
        for group in page["logGroups"]:
            if group["logGroupName"] == name:
                return group.get("retentionInDays")
    raise RemediationError(f"LogGroupArn {arn}: no such log group in this account and Region")


def set_log_group_retention_days(event: dict[str, Any], _context: Any) -> dict[str, str]:
    arn = event["LogGroupArn"]
    match = _parse_arn(arn)
    wanted = retention_at_least(int(event["RetentionDays"]))
    account = boto3.client("sts", config=BOTO_CONFIG).get_caller_identity()["Account"]
    if match["account"] != account:
        raise RemediationError(f"LogGroupArn {arn}: belongs to account {match['account']}, this runs in {account}")
    logs = boto3.client("logs", region_name=match["region"], config=BOTO_CONFIG)
    name = match["name"]
    before = _current_retention(logs, arn, name)
    if before is None or before >= wanted:
        kept = "never expire" if before is None else f"{before} days"
        return {
            "LogGroupName": name,
            "RetentionBefore": "never" if before is None else str(before),
            "RetentionAfter": "never" if before is None else str(before),
            "Message": f"Log group already keeps events {kept} (at least {wanted} days); nothing changed.",
        }
    logs.put_retention_policy(logGroupName=name, retentionInDays=wanted)
    after = _current_retention(logs, arn, name)
    if after != wanted:
        raise RemediationError(f"LogGroupArn {arn}: retention is {after} after PutRetentionPolicy, expected {wanted}")
    return {
        "LogGroupName": name,
        "RetentionBefore": str(before),
        "RetentionAfter": str(after),
        "Message": f"Log group retention raised from {before} to {after} days.",
    }
