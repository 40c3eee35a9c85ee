"""ASR-EnableAutoSecretRotation and ASR-UpdateSecretRotationPeriod: the rotation schedule of one secret.

Both documents embed this script; each has its own handler.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
RATE_DAYS = re.compile(r"^rate\((\d+) days?\)$")


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _days(event: dict[str, Any], name: str) -> int:
    raw = event[name]
    try:
        value = int(str(raw))
    except ValueError:
        raise RemediationError(f"{name} {raw!r}: not a whole number of days") from None
    if not 1 <= value <= 1000:
        raise RemediationError(f"{name} {value}: must be between 1 and 1000 days")
    return value


def describe_rotatable(sm: Any, arn: str) -> dict[str, Any]:
    """The secret, refusing one that is missing, pending deletion or has no way to rotate."""
    try:
        secret = sm.describe_secret(SecretId=arn)
    except sm.exceptions.ResourceNotFoundException:
        raise RemediationError(f"SecretARN {arn}: no such secret in this account and Region") from None
    if secret.get("DeletedDate"):
        raise RemediationError(f"SecretARN {arn}: secret is scheduled for deletion; it is left unchanged")
    if not secret.get("RotationLambdaARN") and not secret.get("OwningService"):
        raise RemediationError(
            f"SecretARN {arn}: no rotation function is configured; configure one (RotationLambdaARN) first"
        )
    return secret


def schedule_days(secret: dict[str, Any]) -> int | None:
    """Days between rotations of the current schedule; None for a cron schedule or no schedule."""
    rules = secret.get("RotationRules") or {}
    if rules.get("AutomaticallyAfterDays"):
        return int(rules["AutomaticallyAfterDays"])
    match = RATE_DAYS.match(rules.get("ScheduleExpression", ""))
    return int(match.group(1)) if match else None


def _needs_schedule(secret: dict[str, Any], days: int) -> bool:
    """True unless rotation is on with a schedule at most ``days`` apart (a custom cron schedule is kept)."""
    if not secret.get("RotationEnabled"):
        return True
    current = schedule_days(secret)
    if current is None:
        return "ScheduleExpression" not in (secret.get("RotationRules") or {})
    return current > days


def _rotate(sm: Any, secret: dict[str, Any], days: int | None, now: bool) -> None:
    kwargs: dict[str, Any] = {"SecretId": secret["ARN"], "RotateImmediately": now}
    if secret.get("RotationLambdaARN"):
        kwargs["RotationLambdaARN"] = secret["RotationLambdaARN"]  # keep the configured function
    if days is not None:
        rules: dict[str, Any] = {"AutomaticallyAfterDays": days}
        if (secret.get("RotationRules") or {}).get("Duration"):
            rules["Duration"] = secret["RotationRules"]["Duration"]  # keep the rotation window
        kwargs["RotationRules"] = rules
    sm.rotate_secret(**kwargs)


def _verify(sm: Any, arn: str, days: int) -> dict[str, Any]:
    secret = sm.describe_secret(SecretId=arn)
    if _needs_schedule(secret, days):
        raise RemediationError(f"SecretARN {arn}: rotation is still off or longer than {days} days after RotateSecret")
    return secret


def _schedule_text(secret: dict[str, Any]) -> str:
    if not secret.get("RotationEnabled"):
        return "disabled"
    rules = secret.get("RotationRules") or {}
    return rules.get("ScheduleExpression") or f"every {rules.get('AutomaticallyAfterDays')} days"


def enable_auto_rotation(event: dict[str, Any], _context: Any) -> dict[str, str]:
    arn = event["SecretARN"]
    days = _days(event, "MaximumAllowedRotationFrequency")
    sm = boto3.client("secretsmanager", config=BOTO_CONFIG)
    before = describe_rotatable(sm, arn)
    changed = _needs_schedule(before, days)
    if changed:
        _rotate(sm, before, days, now=False)
    after = _verify(sm, arn, days)
    return {
        "SecretArn": before["ARN"],
        "RotationBefore": _schedule_text(before),
        "RotationAfter": _schedule_text(after),
        "Message": f"Automatic rotation set to every {days} days with the configured rotation function."
        if changed
        else "Automatic rotation was already on at least that often; nothing changed.",
    }


def _rotated_within(secret: dict[str, Any], days: int) -> bool:
    last = secret.get("LastRotatedDate")
    return bool(last) and datetime.now(UTC) - last <= timedelta(days=days)


def update_rotation_period(event: dict[str, Any], _context: Any) -> dict[str, str]:
    arn = event["SecretARN"]
    days = _days(event, "MaxDaysSinceRotation")
    sm = boto3.client("secretsmanager", config=BOTO_CONFIG)
    before = describe_rotatable(sm, arn)
    new_schedule = _needs_schedule(before, days)
    rotate_now = not _rotated_within(before, days)
    if new_schedule or rotate_now:
        _rotate(sm, before, days if new_schedule else None, now=rotate_now)
    after = _verify(sm, arn, days)
    done = [text for flag, text in ((new_schedule, f"schedule set to every {days} days"),
                                    (rotate_now, "rotation started now")) if flag]
    return {
        "SecretArn": before["ARN"],
        "RotationBefore": _schedule_text(before),
        "RotationAfter": _schedule_text(after),
        "RotatedNow": str(rotate_now).lower(),
        "Message": ("; ".join(done).capitalize() + ".")
        if done
        else f"Rotated within {days} days on a schedule at most {days} days apart; nothing changed.",
    }
