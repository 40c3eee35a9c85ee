"""ASR-EnableKeyRotation: turn on automatic rotation of one KMS key."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


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


def enable_key_rotation(event: dict[str, Any], _context: Any) -> dict[str, str]:
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
    after = kms.get_key_rotation_status(KeyId=meta["Arn"])["KeyRotationEnabled"]
    if not after:
        raise RemediationError(f"KeyId {key_id}: rotation is still disabled after EnableKeyRotation")
    return {
        "KeyArn": meta["Arn"],
        "RotationBefore": str(before).lower(),
        "RotationAfter": str(after).lower(),
        "Message": "Key rotation enabled." if not before else "Key rotation was already enabled; nothing changed.",
    }
