"""ASR-RemoveUnusedSecret: schedule deletion (30-day recovery window) of one secret unused for too long.

The secret is only scheduled for deletion: until the deletion date it still exists (DescribeSecret
returns it with DeletedDate: https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html),
cannot be read, can be restored, and is still an unused secret to the Config rule
secretsmanager-secret-unused, so Security Hub keeps SecretsManager.3 FAILED for it until Secrets
Manager deletes it. The output says so and names the date, every run.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
RECOVERY_WINDOW_DAYS = 30
STILL_FAILED = (
    "Security Hub keeps reporting SecretsManager.3 FAILED for the secret until Secrets Manager deletes it on that date."
)


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _threshold(event: dict[str, Any]) -> int:
    raw = event["UnusedForDays"]
    try:
        value = int(str(raw))
    except ValueError:
        raise RemediationError(f"UnusedForDays {raw!r}: not a whole number of days") from None
    if not 1 <= value <= 365:
        raise RemediationError(f"UnusedForDays {value}: must be between 1 and 365 days")
    return value


def last_use(secret: dict[str, Any]) -> tuple[date, str]:
    """(day of last use, what it is). A never-read secret counts as used on the day it was created,
    so a new secret is never 'unused'. Secrets Manager records access to the day only."""
    if secret.get("LastAccessedDate"):
        return secret["LastAccessedDate"].astimezone(UTC).date(), "last accessed"
    if secret.get("CreatedDate"):
        return secret["CreatedDate"].astimezone(UTC).date(), "never accessed; created"
    raise RemediationError(f"SecretARN {secret['ARN']}: neither last access nor creation date is known; not deleted")


def remove_unused_secret(event: dict[str, Any], _context: Any) -> dict[str, str]:
    arn = event["SecretARN"]
    days = _threshold(event)
    sm = boto3.client("secretsmanager", config=BOTO_CONFIG)
    try:
        secret = sm.describe_secret(SecretId=arn)
    except sm.exceptions.ResourceNotFoundException:
        raise RemediationError(f"SecretARN {arn}: no such secret in this account and Region") from None
    if secret.get("DeletedDate"):
        scheduled = secret["DeletedDate"].astimezone(UTC)
        return {
            "SecretArn": secret["ARN"],
            "Deleted": "false",
            "DeletionDate": scheduled.isoformat(),
            "Message": f"Secret already scheduled for deletion on {scheduled.date().isoformat()}; nothing changed. "
            + STILL_FAILED,
        }
    if secret.get("OwningService"):
        raise RemediationError(
            f"SecretARN {arn}: managed by {secret['OwningService']}; delete it through that service, not deleted"
        )
    used_on, what = last_use(secret)
    idle = (datetime.now(UTC).date() - used_on).days
    if idle <= days:
        raise RemediationError(
            f"SecretARN {arn}: {what} {used_on.isoformat()} ({idle} days ago), within UnusedForDays {days}; not deleted"
        )
    deletion = sm.delete_secret(SecretId=secret["ARN"], RecoveryWindowInDays=RECOVERY_WINDOW_DAYS)["DeletionDate"]
    return {
        "SecretArn": secret["ARN"],
        "Deleted": "true",
        "DeletionDate": deletion.astimezone(UTC).isoformat(),
        "Message": (
            f"Secret {what} {used_on.isoformat()} ({idle} days ago) scheduled for deletion on "
            f"{deletion.astimezone(UTC).date().isoformat()}; it can no longer be read, and RestoreSecret recovers "
            f"it until then. {STILL_FAILED}"
        ),
    }
