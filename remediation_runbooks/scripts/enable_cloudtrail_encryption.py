"""ASR-EnableCloudTrailEncryption: encrypt one trail's log files with a KMS key."""

from __future__ import annotations

import re
from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
_TRAIL_ARN = re.compile(
    r"^arn:(?:aws|aws-cn|aws-us-gov):cloudtrail:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d):\d{12}:trail/(?P<name>.+)$"
)
_KEY_ARN = re.compile(r"^arn:(?:aws|aws-cn|aws-us-gov):kms:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d):\d{12}:")


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _trail_region(trail_arn: str, trail_region: str) -> str:
    match = _TRAIL_ARN.match(trail_arn)
    if not match:
        raise RemediationError(f"TrailArn {trail_arn}: not a CloudTrail trail ARN")
    if match["region"] != trail_region:
        raise RemediationError(
            f"TrailRegion {trail_region} does not match the home Region {match['region']} of TrailArn {trail_arn}"
        )
    return trail_region


def _usable_key(key_arn: str) -> str:
    """ARN of the key ``key_arn`` names (key or alias ARN), if CloudTrail can encrypt with it."""
    match = _KEY_ARN.match(key_arn)
    if not match:
        raise RemediationError(f"KMSKeyArn {key_arn}: not a KMS key or alias ARN")
    kms = boto3.client("kms", region_name=match["region"], config=BOTO_CONFIG)
    try:
        meta = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
    except kms.exceptions.NotFoundException:
        raise RemediationError(f"KMSKeyArn {key_arn}: no such KMS key") from None
    if meta.get("KeyState") != "Enabled":
        raise RemediationError(f"KMSKeyArn {key_arn}: key is {meta.get('KeyState')}, not Enabled")
    if meta.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
        raise RemediationError(f"KMSKeyArn {key_arn}: key spec {meta['KeySpec']}; CloudTrail needs a symmetric key")
    return meta["Arn"]


def _get_trail(cloudtrail: Any, trail_arn: str) -> dict[str, Any]:
    try:
        return cloudtrail.get_trail(Name=trail_arn)["Trail"]
    except cloudtrail.exceptions.TrailNotFoundException:
        raise RemediationError(f"TrailArn {trail_arn}: no such trail") from None


def enable_cloudtrail_encryption(event: dict[str, Any], _context: Any) -> dict[str, str]:
    trail_arn = event["TrailArn"]
    region = _trail_region(trail_arn, event["TrailRegion"])
    cloudtrail = boto3.client("cloudtrail", region_name=region, config=BOTO_CONFIG)
    before = _get_trail(cloudtrail, trail_arn).get("KmsKeyId")
    if before:
        return {
            "TrailArn": trail_arn,
            "KmsKeyBefore": before,
            "KmsKeyAfter": before,
            "Message": "Trail is already encrypted with a KMS key; its key was kept and nothing changed.",
        }
    key_arn = _usable_key(event["KMSKeyArn"])
    cloudtrail.update_trail(Name=trail_arn, KmsKeyId=key_arn)
    after = _get_trail(cloudtrail, trail_arn).get("KmsKeyId")
    if not after:
        raise RemediationError(f"TrailArn {trail_arn}: still not encrypted after UpdateTrail")
    return {
        "TrailArn": trail_arn,
        "KmsKeyBefore": "none",
        "KmsKeyAfter": after,
        "Message": "Trail log files are now encrypted with the KMS key.",
    }
