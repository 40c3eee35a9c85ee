"""ASR-SetIAMPasswordPolicy: set the account password policy, never weakening a stricter setting."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
# IAM is eventually consistent: a change is read back for up to 30 seconds
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
VERIFY_ATTEMPTS = 7
VERIFY_INTERVAL_SECONDS = 5

FLAGS = ("RequireSymbols", "RequireNumbers", "RequireUppercaseCharacters", "RequireLowercaseCharacters", "HardExpiry")
RANGES = {"MinimumPasswordLength": (6, 128), "MaxPasswordAge": (1, 1095), "PasswordReusePrevention": (1, 24)}


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _flag(event: dict[str, Any], key: str) -> bool:
    value = event[key]
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise RemediationError(f"{key} {value!r}: must be true or false")


def _number(event: dict[str, Any], key: str) -> int:
    low, high = RANGES[key]
    try:
        value = int(event[key])
    except (TypeError, ValueError):
        raise RemediationError(f"{key} {event[key]!r}: must be a whole number") from None
    if not low <= value <= high:
        raise RemediationError(f"{key} {value}: must be between {low} and {high}")
    return value


def requested_policy(event: dict[str, Any]) -> dict[str, Any]:
    """The policy the inputs ask for, validated."""
    policy: dict[str, Any] = {key: _number(event, key) for key in RANGES}
    policy.update({key: _flag(event, key) for key in FLAGS})
    policy["AllowUsersToChangePassword"] = _flag(event, "AllowUsersToChangePassword")
    return policy


def merged_policy(requested: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """``requested``, except where ``current`` is already stricter (that setting is kept)."""
    merged = dict(requested)
    merged["MinimumPasswordLength"] = max(requested["MinimumPasswordLength"], current.get("MinimumPasswordLength", 0))
    merged["PasswordReusePrevention"] = max(
        requested["PasswordReusePrevention"], current.get("PasswordReusePrevention", 0)
    )
    if current.get("ExpirePasswords") and current.get("MaxPasswordAge"):
        merged["MaxPasswordAge"] = min(requested["MaxPasswordAge"], current["MaxPasswordAge"])
    for key in FLAGS:
        merged[key] = requested[key] or bool(current.get(key))
    return merged


def _current(iam: Any) -> dict[str, Any]:
    try:
        return iam.get_account_password_policy()["PasswordPolicy"]
    except iam.exceptions.NoSuchEntityException:
        return {}


def _differs(policy: dict[str, Any], current: dict[str, Any]) -> list[str]:
    return sorted(key for key, value in policy.items() if current.get(key) != value)


def _left_after_change(iam: Any, policy: dict[str, Any], sleep: Callable[[float], None]) -> list[str]:
    """The settings still differing when read back, after retrying for a bounded time."""
    left = _differs(policy, _current(iam))
    for _ in range(VERIFY_ATTEMPTS - 1):
        if not left:
            break
        sleep(VERIFY_INTERVAL_SECONDS)
        left = _differs(policy, _current(iam))
    return left


def set_iam_password_policy(
    event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, str]:
    requested = requested_policy(event)
    iam = boto3.client("iam", config=BOTO_CONFIG)
    current = _current(iam)
    policy = merged_policy(requested, current)
    kept = sorted(key for key in policy if policy[key] != requested[key])
    changed = _differs(policy, current)
    if changed:
        iam.update_account_password_policy(**policy)
        left = _left_after_change(iam, policy, sleep)
        if left:
            raise RemediationError(f"password policy settings {', '.join(left)} did not take effect")
    return {
        "Changed": ", ".join(changed) or "none",
        "KeptStricterExisting": ", ".join(kept) or "none",
        "Policy": ", ".join(f"{key}={str(value).lower()}" for key, value in sorted(policy.items())),
        "Message": "Account password policy updated."
        if changed
        else "Password policy already compliant; nothing changed.",
    }
