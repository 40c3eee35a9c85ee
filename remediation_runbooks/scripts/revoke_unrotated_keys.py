"""ASR-RevokeUnrotatedKeys: deactivate an IAM user's active access keys older than the allowed age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


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
    try:
        return [key for page in iam.get_paginator("list_access_keys").paginate(UserName=user)
                for key in page["AccessKeyMetadata"]]
    except iam.exceptions.NoSuchEntityException:
        raise RemediationError(f"IAMUserName {user}: no such IAM user in this account") from None


def revoke_unrotated_keys(event: dict[str, Any], _context: Any) -> dict[str, str]:
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
    still_active = [k["AccessKeyId"] for k in _access_keys(iam, user)
                    if k["AccessKeyId"] in deactivated and k["Status"] == "Active"]
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
