"""ASR-EnableKeyRotation: turn on automatic rotation of one KMS key."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
#: KMS is eventually consistent: a change may not show at once in the read that follows
#: (https://docs.aws.amazon.com/kms/latest/developerguide/accessing-kms.html#programming-eventual-consistency).
VERIFY_ATTEMPTS = 6
VERIFY_INTERVAL_SECONDS = 5


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _why_not_rotatable(meta: dict[str, Any]) -> str | None:
    """Reason the key cannot have automatic rotation, or None."""
    key = meta["KeyId"]
    if meta.get("KeyManager") != "CUSTOMER":
        return f"KeyId {key} is an AWS managed key; AWS rotates it, it cannot be changed"
    if meta.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
        return f"KeyId {key} has key spec {meta['KeySpec']}; only symmetric encryption keys rotate"
    if meta.get("Origin", "AWS_KMS") != "AWS_KMS":
        return f"KeyId {key} has key material origin {meta['Origin']}; only AWS_KMS keys rotate"
    if meta.get("KeyState") != "Enabled":
        return f"KeyId {key} is in state {meta.get('KeyState')}; only Enabled keys can be changed"
    return None


def _rotation_after_change(kms: Any, key_arn: str, sleep: Callable[[float], None]) -> bool:
    """The rotation status read back, retried a bounded number of times while it still reads disabled."""
    enabled = kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"]
    for _ in range(VERIFY_ATTEMPTS - 1):
        if enabled:
            break
        sleep(VERIFY_INTERVAL_SECONDS)
        enabled = kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"]
    return enabled


def enable_key_rotation(
    event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, str]:
    key_id = event["KeyId"]
    kms = boto3.client("kms", config=BOTO_CONFIG)
    try:
        meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    except kms.exceptions.NotFoundException:
        raise RemediationError(f"KeyId {key_id}: no such KMS key in this account and Region") from None
    reason = _why_not_rotatable(meta)
    if reason:
        raise RemediationError(reason)
    before = kms.get_key_rotation_status(KeyId=meta["Arn"])["KeyRotationEnabled"]
    if not before:
        kms.enable_key_rotation(KeyId=meta["Arn"])
    after = before or _rotation_after_change(kms, meta["Arn"], sleep)
    if not after:
        raise RemediationError(
            f"KeyId {key_id}: rotation still reads disabled {VERIFY_ATTEMPTS} times after EnableKeyRotation"
        )
    return {
        "KeyArn": meta["Arn"],
        "RotationBefore": str(before).lower(),
        "RotationAfter": str(after).lower(),
        "Message": "Key rotation enabled." if not before else "Key rotation was already enabled; nothing changed.",
    }
