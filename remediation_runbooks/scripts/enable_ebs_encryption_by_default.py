"""ASR-EnableEbsEncryptionByDefault: turn on EBS encryption by default in this account and Region."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def enable_ebs_encryption_by_default(_event: dict[str, Any], _context: Any) -> dict[str, str]:
    ec2 = boto3.client("ec2", config=BOTO_CONFIG)
    region = ec2.meta.region_name
    before = ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"]
    if not before:
        ec2.enable_ebs_encryption_by_default()
    after = ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"]
    if not after:
        raise RemediationError(f"Region {region}: EBS encryption by default is still off after enabling it")
    return {
        "Region": region,
        "EncryptionByDefaultBefore": str(before).lower(),
        "EncryptionByDefaultAfter": str(after).lower(),
        "Message": (
            f"EBS encryption by default enabled in {region}; new volumes use the Region's default EBS KMS key."
            if not before
            else f"EBS encryption by default was already enabled in {region}; nothing changed."
        ),
    }
