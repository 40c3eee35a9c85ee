"""ASR-EnableCloudFrontDefaultRootObject: give one CloudFront distribution a default root object."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _config(cloudfront: Any, arn: str, distribution_id: str) -> tuple[dict[str, Any], str]:
    try:
        found = cloudfront.get_distribution_config(Id=distribution_id)
    except cloudfront.exceptions.NoSuchDistribution:
        raise RemediationError(f"CloudFrontDistribution {arn}: no such distribution in this account") from None
    return found["DistributionConfig"], found["ETag"]


def set_default_root_object(event: dict[str, Any], _context: Any) -> dict[str, str]:
    arn, root_object = event["CloudFrontDistribution"], event["DefaultRootObject"]
    distribution_id = arn.rsplit("/", 1)[-1]
    cloudfront = boto3.client("cloudfront", config=BOTO_CONFIG)
    config, etag = _config(cloudfront, arn, distribution_id)
    before = config.get("DefaultRootObject") or ""
    if not before:
        cloudfront.update_distribution(
            Id=distribution_id, IfMatch=etag, DistributionConfig={**config, "DefaultRootObject": root_object}
        )
    after = _config(cloudfront, arn, distribution_id)[0].get("DefaultRootObject") or ""
    if not after:
        raise RemediationError(f"CloudFrontDistribution {arn}: DefaultRootObject is still empty after the update")
    return {
        "DistributionId": distribution_id,
        "DefaultRootObjectBefore": before,
        "DefaultRootObjectAfter": after,
        "Message": f"Default root object set to {after}."
        if not before
        else f"Default root object was already {before}; nothing changed.",
    }
