"""ASR-EnableCloudTrailLogFileValidation: turn on log file integrity validation of one trail."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
# The trail is read back for up to a minute after UpdateTrail.
VERIFY_ATTEMPTS = 6
VERIFY_INTERVAL_SECONDS = 10


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _get_trail(cloudtrail: Any, name: str) -> dict[str, Any]:
    try:
        return cloudtrail.get_trail(Name=name)["Trail"]
    except cloudtrail.exceptions.TrailNotFoundException:
        raise RemediationError(f"TrailName {name}: no such trail in this account and Region") from None


def enable_cloudtrail_log_file_validation(
    event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, str]:
    name = event["TrailName"]
    cloudtrail = boto3.client("cloudtrail", config=BOTO_CONFIG)
    trail = _get_trail(cloudtrail, name)
    home = trail.get("HomeRegion") or cloudtrail.meta.region_name
    if home != cloudtrail.meta.region_name:
        raise RemediationError(
            f"TrailName {name}: the trail's home Region is {home}; it can only be changed there, "
            f"not in {cloudtrail.meta.region_name}"
        )
    before = bool(trail.get("LogFileValidationEnabled"))
    if not before:
        cloudtrail.update_trail(Name=trail["TrailARN"], EnableLogFileValidation=True)
    after = bool(_get_trail(cloudtrail, trail["TrailARN"]).get("LogFileValidationEnabled"))
    for _ in range(VERIFY_ATTEMPTS - 1):
        if after:
            break
        sleep(VERIFY_INTERVAL_SECONDS)
        after = bool(_get_trail(cloudtrail, trail["TrailARN"]).get("LogFileValidationEnabled"))
    if not after:
        raise RemediationError(
            f"TrailName {name}: log file validation is still off {VERIFY_ATTEMPTS} reads after UpdateTrail"
        )
    return {
        "TrailArn": trail["TrailARN"],
        "ValidationBefore": str(before).lower(),
        "ValidationAfter": str(after).lower(),
        "Message": "Log file validation enabled."
        if not before
        else "Log file validation was already enabled; nothing changed.",
    }
