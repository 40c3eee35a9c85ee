"""ASR-TagGuardDutyResource: add the required tag keys to one GuardDuty detector or filter."""

from __future__ import annotations

import re
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
# ASCII only and used with fullmatch: a Unicode digit ("\u0661") or a trailing newline is refused.
_ARN = re.compile(
    r"arn:[a-z-]+:guardduty:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):detector/(?P<detector>[0-9a-f]{32})"
    r"(?:/filter/(?P<filter>[A-Za-z0-9_.-]{3,64}))?",
    re.ASCII,
)


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _parse(arn: str, account: str, region: str) -> re.Match[str]:
    match = _ARN.fullmatch(arn)
    if not match:
        raise RemediationError(f"ResourceArn {arn}: not a GuardDuty detector or filter ARN")
    if (match["account"], match["region"]) != (account, region):
        raise RemediationError(
            f"ResourceArn {arn}: the resource is in {match['account']}/{match['region']}, this runs in "
            f"{account}/{region}; it only tags resources of its own account and Region"
        )
    return match


def _check_exists(guardduty: Any, arn: str, match: re.Match[str]) -> None:
    try:
        guardduty.get_detector(DetectorId=match["detector"])
        if match["filter"]:
            guardduty.get_filter(DetectorId=match["detector"], FilterName=match["filter"])
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in (
            "BadRequestException",
            "InvalidInputException",
            "ResourceNotFoundException",
        ):
            kind = "filter" if match["filter"] else "detector"
            raise RemediationError(f"ResourceArn {arn}: no such GuardDuty {kind} in this account and Region") from None
        raise


def tag_guardduty_resource(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    arn = event["ResourceArn"]
    keys = list(dict.fromkeys(event["RequiredTagKeys"]))
    match = _parse(arn, event["AccountId"], event["Region"])
    guardduty = boto3.client("guardduty", config=BOTO_CONFIG)
    _check_exists(guardduty, arn, match)
    existing = guardduty.list_tags_for_resource(ResourceArn=arn).get("Tags", {})
    missing = [k for k in keys if k not in existing]
    if missing:
        # An empty value: the control checks that the keys exist; existing values are never changed.
        guardduty.tag_resource(ResourceArn=arn, Tags=dict.fromkeys(missing, ""))
        after = guardduty.list_tags_for_resource(ResourceArn=arn).get("Tags", {})
        still = [k for k in keys if k not in after]
        if still:
            raise RemediationError(f"ResourceArn {arn}: tag keys {', '.join(still)} are missing after the change")
    return {
        "ResourceArn": arn,
        "AddedTagKeys": missing,
        "Message": (
            f"Added tag keys {', '.join(missing)} (empty values) to {arn}; existing tags are unchanged."
            if missing
            else f"{arn} already has tag keys {', '.join(keys)}; nothing changed."
        ),
    }
