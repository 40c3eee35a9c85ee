"""ASR-RevokeUnrotatedKeys: deactivate an IAM user's active access keys older than the allowed age."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
# IAM is eventually consistent: a change is read back for up to 30 seconds
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
VERIFY_ATTEMPTS = 7
VERIFY_INTERVAL_SECONDS = 5


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _max_age(value: Any) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise RemediationError(f"MaxCredentialUsageAge {value!r}: must be a whole number of days") from None
    if days < 1:
        raise RemediationError(f"MaxCredentialUsageAge {days}: must be at least 1 day")
    return days


def _access_keys(iam: Any, user: str) -> list[dict[str, Any]]:
    keys: list[dict[str, Any]] = []
    marker: dict[str, str] = {}
    while True:
        try:
            page = iam.list_access_keys(UserName=user, **marker)
        except iam.exceptions.NoSuchEntityException:
            raise RemediationError(f"IAMUserName {user}: no such IAM user in this account") from None
        keys.extend(page["AccessKeyMetadata"])
        if not page.get("IsTruncated"):
            return keys
        marker = {"Marker": page["Marker"]}


def _still_active(iam: Any, user: str, keys: list[str], sleep: Callable[[float], None]) -> list[str]:
    """Of ``keys``, those still read back as active after a bounded wait."""
    def read() -> list[str]:
        found = _access_keys(iam, user)
        return [k["AccessKeyId"] for k in found if k["AccessKeyId"] in keys and k["Status"] == "Active"]

    active = read()
    for _ in range(VERIFY_ATTEMPTS - 1):
        if not active:
            break
        sleep(VERIFY_INTERVAL_SECONDS)
        active = read()
    return active


def revoke_unrotated_keys(
    event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, str]:
    user = event["IAMUserName"]
    max_age = _max_age(event["MaxCredentialUsageAge"])
    iam = boto3.client("iam", config=BOTO_CONFIG)
    cutoff = datetime.now(UTC) - timedelta(days=max_age)
    deactivated, kept = [], []
    for key in _access_keys(iam, user):
        if key["Status"] == "Active" and key["CreateDate"] < cutoff:
            iam.update_access_key(UserName=user, AccessKeyId=key["AccessKeyId"], Status="Inactive")
            deactivated.append(key["AccessKeyId"])
        else:
            kept.append(f"{key['AccessKeyId']} ({key['Status']})")
    still_active = _still_active(iam, user, deactivated, sleep) if deactivated else []
    if still_active:
        raise RemediationError(f"IAMUserName {user}: keys {', '.join(still_active)} are still active")
    return {
        "IAMUserName": user,
        "DeactivatedKeys": ", ".join(deactivated) or "none",
        "UntouchedKeys": ", ".join(kept) or "none",
        "Message": f"Deactivated {len(deactivated)} access key(s) older than {max_age} days."
        if deactivated
        else f"No active access key older than {max_age} days; nothing changed.",
    }
