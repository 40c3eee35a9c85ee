"""ASR-SetCloudFrontOriginDomain: point the origins of one distribution whose S3 bucket no longer exists
at a reserved, never-resolving domain, so nobody can create that bucket and serve content through it."""

from __future__ import annotations

import re
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
# ASCII only and used with fullmatch: a trailing newline (or a Unicode digit) is refused.
DISTRIBUTION_ID = re.compile(r"[A-Z][A-Z0-9]{11,15}", re.ASCII)
SAFE_DOMAIN = "cloudfront12remediation.example"  # .example is reserved (RFC 2606): it never resolves
# <bucket>.s3.amazonaws.com, .s3.<region>., .s3-<region>., .s3.dualstack.<region>., .s3-website[.-]<region>.
S3_BUCKET_DOMAIN = re.compile(
    r"(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\.s3(?:-website)?"
    r"(?:[.-](?:dualstack\.)?[a-z]{2}(?:-gov)?-[a-z]+-[0-9])?\.amazonaws\.com(?:\.cn)?",
    re.ASCII,
)
CUSTOM_ORIGIN = {
    "HTTPPort": 80,
    "HTTPSPort": 443,
    "OriginProtocolPolicy": "https-only",
    "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
    "OriginReadTimeout": 30,
    "OriginKeepaliveTimeout": 5,
}
MISSING_BUCKET = {"404", "NoSuchBucket", "NotFound"}
EXISTING_BUCKET = {"403", "AccessDenied", "Forbidden", "301", "PermanentRedirect", "400"}


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _config(cloudfront: Any, distribution_id: str) -> tuple[dict[str, Any], str]:
    try:
        found = cloudfront.get_distribution_config(Id=distribution_id)
    except cloudfront.exceptions.NoSuchDistribution:
        raise RemediationError(
            f"DistributionId {distribution_id}: no such CloudFront distribution in this account"
        ) from None
    return found["DistributionConfig"], found["ETag"]


def bucket_of(origin: dict[str, Any]) -> str:
    """The S3 bucket an origin's domain names, or '' when it is not an S3 bucket endpoint."""
    match = S3_BUCKET_DOMAIN.fullmatch(origin["DomainName"].lower())
    return match["bucket"] if match else ""


def bucket_exists(s3: Any, distribution_id: str, bucket: str) -> bool:
    """HeadBucket: 404 means no such bucket anywhere; 403/301/400 mean it exists (another owner or Region)."""
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as err:
        code = str(err.response.get("Error", {}).get("Code", ""))
        if code in MISSING_BUCKET:
            return False
        if code in EXISTING_BUCKET:
            return True
        raise RemediationError(
            f"DistributionId {distribution_id}: cannot tell whether origin bucket {bucket} exists "
            f"(HeadBucket {code}); nothing changed"
        ) from None
    return True


def rewritten(origin: dict[str, Any]) -> dict[str, Any]:
    """The origin pointed at SAFE_DOMAIN as a custom origin; its Id, path, headers and timeouts stay."""
    new = {k: v for k, v in origin.items() if k != "S3OriginConfig"}
    new["DomainName"] = SAFE_DOMAIN
    new.setdefault("CustomOriginConfig", CUSTOM_ORIGIN)
    if new.get("OriginAccessControlId"):
        new["OriginAccessControlId"] = ""  # an S3 origin access control is not valid on a custom origin
    return new


def _update(cloudfront: Any, distribution_id: str, etag: str, config: dict[str, Any]) -> None:
    try:
        cloudfront.update_distribution(Id=distribution_id, IfMatch=etag, DistributionConfig=config)
    except cloudfront.exceptions.PreconditionFailed:
        raise RemediationError(
            f"DistributionId {distribution_id}: its configuration changed while this ran (ETag mismatch); "
            "nothing changed, run again"
        ) from None


def _describe(origin: dict[str, Any]) -> str:
    return f"{origin['Id']} ({origin['DomainName']})"


def set_origin_domain(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    distribution_id = event["DistributionId"]
    if not DISTRIBUTION_ID.fullmatch(distribution_id):
        raise RemediationError(f"DistributionId {distribution_id}: not a CloudFront distribution ID")
    cloudfront = boto3.client("cloudfront", config=BOTO_CONFIG)
    s3 = boto3.client("s3", config=BOTO_CONFIG)
    config, etag = _config(cloudfront, distribution_id)
    origins = config["Origins"]["Items"]
    s3_origins = [o for o in origins if bucket_of(o)]
    missing = {o["Id"] for o in s3_origins if not bucket_exists(s3, distribution_id, bucket_of(o))}
    if missing:
        items = [rewritten(o) if o["Id"] in missing else o for o in origins]
        _update(cloudfront, distribution_id, etag, {**config, "Origins": {**config["Origins"], "Items": items}})
        after = _config(cloudfront, distribution_id)[0]["Origins"]["Items"]
        left = sorted(o["Id"] for o in after if o["Id"] in missing and o["DomainName"] != SAFE_DOMAIN)
        if left:
            raise RemediationError(f"DistributionId {distribution_id}: origins {left} still point at missing buckets")
    changed = [_describe(o) for o in s3_origins if o["Id"] in missing]
    return {
        "DistributionId": distribution_id,
        "RewrittenOrigins": changed,
        "KeptS3Origins": [_describe(o) for o in s3_origins if o["Id"] not in missing],
        "Message": f"Origins pointing at missing S3 buckets now point at {SAFE_DOMAIN}: {changed}."
        if changed
        else "No origin points at a missing S3 bucket; nothing changed.",
    }
