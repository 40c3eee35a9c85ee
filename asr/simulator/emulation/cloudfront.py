"""Amazon CloudFront origins as AWS keeps them: moto 5.2 drops an origin's ``S3OriginConfig`` and
``OriginAccessControlId`` (it keeps only the origin access identity, in an attribute it never returns),
so GetDistributionConfig shows an S3 origin as neither S3 nor custom.

Amazon CloudFront API Reference, data type Origin
(https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_Origin.html): an origin has
``DomainName`` and ``Id`` (required), ``OriginPath``, ``CustomHeaders``, ``S3OriginConfig`` (for an S3
bucket that is not a website endpoint; ``OriginAccessIdentity`` required, may be empty, and
``OriginReadTimeout``, API_S3OriginConfig.html), ``CustomOriginConfig``, ``ConnectionAttempts`` (1-3,
default 3), ``ConnectionTimeout`` (1-10 s, default 10), ``OriginShield`` and ``OriginAccessControlId``.
GetDistributionConfig returns them as they were set.
"""

from __future__ import annotations

from typing import Any

from moto.cloudfront.exceptions import CloudFrontException, DomainNameNotAnS3Bucket
from moto.cloudfront.models import CustomOriginConfig, Origin

from asr.simulator.emulation import extends


class InvalidArgument(CloudFrontException):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidArgument", message)


def _bounded(origin: dict[str, Any], field: str, low: int, high: int, default: int) -> int:
    value = origin.get(field)
    if value is None:
        return default
    if not low <= int(value) <= high:
        raise InvalidArgument(f"The parameter {field} must be between {low} and {high}, got {value}.")
    return int(value)


@extends(Origin, replaces=True)
def __init__(self: Origin, origin: dict[str, Any]) -> None:
    """moto's Origin, keeping ``S3OriginConfig`` and ``OriginAccessControlId`` as given."""
    self.id = origin["Id"]
    self.domain_name = origin["DomainName"]
    self.origin_path = origin.get("OriginPath") or ""
    self.custom_origin = None
    self.origin_shield = origin.get("OriginShield") or {"Enabled": False}
    self.connection_attempts = _bounded(origin, "ConnectionAttempts", 1, 3, 3)
    self.connection_timeout = _bounded(origin, "ConnectionTimeout", 1, 10, 10)
    self.s3_access_identity = ""
    if "S3OriginConfig" in origin:
        if not self.domain_name.endswith(("amazonaws.com", "amazonaws.com.cn")):  # moto's own (rough) check
            raise DomainNameNotAnS3Bucket
        config = origin["S3OriginConfig"] or {}
        if "OriginAccessIdentity" not in config:
            raise InvalidArgument("The parameter S3OriginConfig.OriginAccessIdentity is required.")
        self.s3_access_identity = config["OriginAccessIdentity"]
        self.s3_origin_config = dict(config)
    if "CustomOriginConfig" in origin:
        self.custom_origin_config = CustomOriginConfig(origin["CustomOriginConfig"])
    if "OriginAccessControlId" in origin:
        self.origin_access_control_id = origin["OriginAccessControlId"]
    self.custom_headers = origin.get("CustomHeaders") or {"Quantity": 0, "Items": []}
