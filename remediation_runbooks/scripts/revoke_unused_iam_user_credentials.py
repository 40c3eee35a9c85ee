"""ASR-RevokeUnusedIAMUserCredentials: disable an IAM user's credentials unused for too long."""

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


def _get_user(iam: Any, user: str) -> dict[str, Any]:
    try:
        return iam.get_user(UserName=user)["User"]
    except iam.exceptions.NoSuchEntityException:
        raise RemediationError(f"IAMUserName {user}: no such IAM user in this account") from None


def _access_keys(iam: Any, user: str) -> list[dict[str, Any]]:
    keys: list[dict[str, Any]] = []
    marker: dict[str, str] = {}
    while True:
        page = iam.list_access_keys(UserName=user, **marker)
        keys.extend(page["AccessKeyMetadata"])
        if not page.get("IsTruncated"):
            return keys
        marker = {"Marker": page["Marker"]}


def _key_last_activity(iam: Any, key: dict[str, Any]) -> datetime:
    """When the key was last used, or created if it never was."""
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    return used.get("LastUsedDate") or key["CreateDate"]


def _deactivate_unused_keys(iam: Any, user: str, cutoff: datetime) -> list[str]:
    deactivated = []
    for key in _access_keys(iam, user):
        if key["Status"] == "Active" and _key_last_activity(iam, key) < cutoff:
            iam.update_access_key(UserName=user, AccessKeyId=key["AccessKeyId"], Status="Inactive")
            deactivated.append(key["AccessKeyId"])
    return deactivated


def _login_profile(iam: Any, name: str) -> dict[str, Any] | None:
    try:
        return iam.get_login_profile(UserName=name)["LoginProfile"]
    except iam.exceptions.NoSuchEntityException:
        return None


def _delete_unused_password(iam: Any, user: dict[str, Any], cutoff: datetime) -> bool:
    """Deletes the console password when it was last used (or set, if never used since) before ``cutoff``.

    A password set again after its last use (a new login profile) counts from when it was set, as the
    Config rule iam-user-unused-credentials-check counts it."""
    name = user["UserName"]
    profile = _login_profile(iam, name)
    if profile is None:
        return False
    used = user.get("PasswordLastUsed")
    last = max(used, profile["CreateDate"]) if used else profile["CreateDate"]
    if last >= cutoff:
        return False
    iam.delete_login_profile(UserName=name)
    return True


def _unrevoked(iam: Any, name: str, keys: list[str], password: bool) -> list[str]:
    still = [f"access key {k['AccessKeyId']}" for k in _access_keys(iam, name)
             if k["AccessKeyId"] in keys and k["Status"] == "Active"]
    if password and _login_profile(iam, name) is not None:
        still.append("console password")
    return still


def revoke_unused_iam_user_credentials(
    event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, str]:
    name = event["IAMUserName"]
    max_age = _max_age(event["MaxCredentialUsageAge"])
    iam = boto3.client("iam", config=BOTO_CONFIG)
    user = _get_user(iam, name)
    cutoff = datetime.now(UTC) - timedelta(days=max_age)
    keys = _deactivate_unused_keys(iam, name, cutoff)
    password = _delete_unused_password(iam, user, cutoff)
    changed = bool(keys or password)
    if changed:
        still = _unrevoked(iam, name, keys, password)
        for _ in range(VERIFY_ATTEMPTS - 1):
            if not still:
                break
            sleep(VERIFY_INTERVAL_SECONDS)
            still = _unrevoked(iam, name, keys, password)
        if still:
            raise RemediationError(f"IAMUserName {name}: {', '.join(still)} still read back as usable after the change")
    return {
        "IAMUserName": name,
        "DeactivatedKeys": ", ".join(keys) or "none",
        "ConsolePasswordDeleted": str(password).lower(),
        "Message": f"Revoked credentials unused for more than {max_age} days."
        if changed
        else f"No credential unused for more than {max_age} days; nothing changed.",
    }
