"""ASR-RevokeUnusedIAMUserCredentials: disable an IAM user's credentials unused for too long."""

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


def _get_user(iam: Any, user: str) -> dict[str, Any]:
    try:
        return iam.get_user(UserName=user)["User"]
    except iam.exceptions.NoSuchEntityException:
        raise RemediationError(f"IAMUserName {user}: no such IAM user in this account") from None


def _key_last_activity(iam: Any, key: dict[str, Any]) -> datetime:
    """When the key was last used, or created if it never was."""
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    return used.get("LastUsedDate") or key["CreateDate"]


def _deactivate_unused_keys(iam: Any, user: str, cutoff: datetime) -> list[str]:
    deactivated = []
    for page in iam.get_paginator("list_access_keys").paginate(UserName=user):
        for key in page["AccessKeyMetadata"]:
            if key["Status"] == "Active" and _key_last_activity(iam, key) < cutoff:
                iam.update_access_key(UserName=user, AccessKeyId=key["AccessKeyId"], Status="Inactive")
                deactivated.append(key["AccessKeyId"])
    return deactivated


def _delete_unused_password(iam: Any, user: dict[str, Any], cutoff: datetime) -> bool:
    """Deletes the console password when it was last used (or set, if never used) before ``cutoff``."""
    name = user["UserName"]
    try:
        profile = iam.get_login_profile(UserName=name)["LoginProfile"]
    except iam.exceptions.NoSuchEntityException:
        return False
    if (user.get("PasswordLastUsed") or profile["CreateDate"]) >= cutoff:
        return False
    iam.delete_login_profile(UserName=name)
    return True


def revoke_unused_iam_user_credentials(event: dict[str, Any], _context: Any) -> dict[str, str]:
    name = event["IAMUserName"]
    max_age = _max_age(event["MaxCredentialUsageAge"])
    iam = boto3.client("iam", config=BOTO_CONFIG)
    user = _get_user(iam, name)
    cutoff = datetime.now(UTC) - timedelta(days=max_age)
    keys = _deactivate_unused_keys(iam, name, cutoff)
    password = _delete_unused_password(iam, user, cutoff)
    changed = bool(keys or password)
    return {
        "IAMUserName": name,
        "DeactivatedKeys": ", ".join(keys) or "none",
        "ConsolePasswordDeleted": str(password).lower(),
        "Message": f"Revoked credentials unused for more than {max_age} days."
        if changed
        else f"No credential unused for more than {max_age} days; nothing changed.",
    }
