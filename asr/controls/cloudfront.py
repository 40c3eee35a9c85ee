"""Amazon CloudFront controls (a global service, read in the partition's home Region)."""

from __future__ import annotations

import re
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from asr.controls.base import Context, EvaluationError, Resource, Verdict, control, failed, not_applicable, passed

_DOC = "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudfront-controls.html"
_HOME_REGION = {"aws": "us-east-1", "aws-cn": "cn-northwest-1", "aws-us-gov": "us-gov-west-1"}
# <bucket>.s3.amazonaws.com, <bucket>.s3.<region>.amazonaws.com, <bucket>.s3-<region>.amazonaws.com,
# <bucket>.s3.dualstack.<region>.amazonaws.com and the .com.cn forms.
_S3_DOMAIN = re.compile(r"^(?P<bucket>.+?)\.s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?$")
_MISSING = {"404", "NoSuchBucket", "NotFound"}
_EXISTS = {"403", "AccessDenied", "301", "PermanentRedirect"}


def _region(ctx: Context) -> str:
    return _HOME_REGION.get(ctx.partition, "us-east-1")


def _distribution_config(ctx: Context, control_id: str, resource: Resource) -> dict[str, Any]:
    distribution_id = resource.id.rsplit("/", 1)[-1]
    cloudfront = ctx.client("cloudfront", region=_region(ctx))
    try:
        return cloudfront.get_distribution_config(Id=distribution_id)["DistributionConfig"]
    except (ClientError, BotoCoreError) as err:
        raise EvaluationError(f"{control_id}: cannot read distribution {resource.id!r}: {err}") from None


@control("CloudFront.1", doc=f"{_DOC}#cloudfront-1", resource_types=("AwsCloudFrontDistribution",))
def default_root_object(ctx: Context, resource: Resource) -> Verdict:
    """CloudFront.1 (Config rule cloudfront-default-root-object-configured): the distribution must
    have a default root object (``DefaultRootObject`` is not empty)."""
    config = _distribution_config(ctx, "CloudFront.1", resource)
    root = config.get("DefaultRootObject") or ""
    if root:
        return passed(f"DefaultRootObject is {root!r}")
    return failed("DefaultRootObject is empty")


def _bucket_exists(ctx: Context, bucket: str) -> bool:
    s3 = ctx.client("s3", region=_region(ctx))
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as err:
        code = str(err.response.get("Error", {}).get("Code"))
        if code in _MISSING:
            return False
        if code in _EXISTS:  # the name is taken (by this or another account, or in another Region)
            return True
        raise EvaluationError(f"CloudFront.12: cannot tell whether bucket {bucket!r} exists: {err}") from None
    except BotoCoreError as err:
        raise EvaluationError(f"CloudFront.12: cannot tell whether bucket {bucket!r} exists: {err}") from None
    return True


@control("CloudFront.12", doc=f"{_DOC}#cloudfront-12", resource_types=("AwsCloudFrontDistribution",))
def no_nonexistent_s3_origin(ctx: Context, resource: Resource) -> Verdict:
    """CloudFront.12 (Config rule cloudfront-s3-origin-non-existent-bucket): no origin configured as
    an S3 origin (``S3OriginConfig``) may point to a bucket that does not exist. Origins that are S3
    static website endpoints are custom origins and are not evaluated; a distribution with no S3
    origin is out of scope."""
    config = _distribution_config(ctx, "CloudFront.12", resource)
    origins = (config.get("Origins") or {}).get("Items") or []
    buckets: list[tuple[str, str]] = []
    for origin in origins:
        if "S3OriginConfig" not in origin:
            continue
        domain = origin.get("DomainName", "")
        match = _S3_DOMAIN.match(domain)
        if match and "s3-website" not in domain:
            buckets.append((origin.get("Id", "?"), match.group("bucket")))
    if not buckets:
        return not_applicable("the distribution has no S3 bucket origin (S3OriginConfig)")
    for origin_id, bucket in buckets:
        if not _bucket_exists(ctx, bucket):
            return failed(f"origin {origin_id!r} points to S3 bucket {bucket!r}, which does not exist")
    names = ", ".join(b for _, b in buckets)
    return passed(f"every S3 origin bucket exists ({names})")
