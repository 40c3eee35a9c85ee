"""ASR-CreateAccessLoggingBucket: create (or complete) the bucket that receives S3 server access logs."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
BLOCK_ALL = dict.fromkeys(("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True)
LOG_DELIVERY_SID = "S3ServerAccessLogsPolicy"
SSL_ONLY_SID = "AllowSSLRequestsOnly"


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _bucket_region(s3: Any, bucket: str, owner: str) -> str | None:
    """Region of the bucket if this account owns it, None if no such bucket exists."""
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=owner)
    except ClientError as err:
        code = _error_code(err)
        if code in ("404", "NoSuchBucket"):
            return None
        if code in ("403", "AccessDenied"):
            raise RemediationError(
                f"BucketName {bucket}: the bucket exists but is not owned by account {owner} "
                "(or the role may not read it); choose another name"
            ) from None
        raise
    location = s3.get_bucket_location(Bucket=bucket, ExpectedBucketOwner=owner).get("LocationConstraint")
    return location or "us-east-1"


def _create(s3: Any, bucket: str, region: str) -> None:
    kwargs: dict[str, Any] = {"Bucket": bucket, "ObjectOwnership": "ObjectWriter"}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**kwargs)
    except ClientError as err:
        if _error_code(err) == "BucketAlreadyExists":
            raise RemediationError(
                f"BucketName {bucket}: the name is taken by another account; choose another name"
            ) from None
        raise


def _ensure_encryption(s3: Any, bucket: str, owner: str) -> str | None:
    """Sets SSE-S3 (AES256) default encryption only when the bucket has none."""
    try:
        config = s3.get_bucket_encryption(Bucket=bucket, ExpectedBucketOwner=owner)
        if config["ServerSideEncryptionConfiguration"].get("Rules"):
            return None
    except ClientError as err:
        if _error_code(err) != "ServerSideEncryptionConfigurationNotFoundError":
            raise
    s3.put_bucket_encryption(
        Bucket=bucket,
        ExpectedBucketOwner=owner,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    return "default encryption SSE-S3 (AES256)"


def _ensure_block_public_access(s3: Any, bucket: str, owner: str) -> str | None:
    try:
        current = s3.get_public_access_block(Bucket=bucket, ExpectedBucketOwner=owner)["PublicAccessBlockConfiguration"]
    except ClientError as err:
        if _error_code(err) != "NoSuchPublicAccessBlockConfiguration":
            raise
        current = {}
    if all(current.get(flag) for flag in BLOCK_ALL):
        return None
    s3.put_public_access_block(Bucket=bucket, ExpectedBucketOwner=owner, PublicAccessBlockConfiguration=BLOCK_ALL)
    return "Block Public Access (all four flags)"


def _wanted_statements(bucket: str, owner: str, partition: str) -> list[dict[str, Any]]:
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    return [
        {
            "Sid": LOG_DELIVERY_SID,
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/*",
            "Condition": {"StringEquals": {"aws:SourceAccount": owner}},
        },
        {
            "Sid": SSL_ONLY_SID,
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ]


def _ensure_policy(s3: Any, bucket: str, owner: str, partition: str) -> str | None:
    """Add the log-delivery and TLS-only statements (by Sid) to the bucket policy, keeping all others."""
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket, ExpectedBucketOwner=owner)["Policy"])
    except ClientError as err:
        if _error_code(err) != "NoSuchBucketPolicy":
            raise
        policy = {"Version": "2012-10-17", "Statement": []}
    statements = policy.setdefault("Statement", [])
    if isinstance(statements, dict):
        statements = policy["Statement"] = [statements]
    present = {s.get("Sid") for s in statements}
    missing = [s for s in _wanted_statements(bucket, owner, partition) if s["Sid"] not in present]
    if not missing:
        return None
    statements.extend(missing)
    s3.put_bucket_policy(Bucket=bucket, ExpectedBucketOwner=owner, Policy=json.dumps(policy))
    return "bucket policy statements " + ", ".join(s["Sid"] for s in missing)


# A bucket must never deliver its server access logs into itself, directly or through the log bucket:
# "additional logs are created for the logs that are written to the bucket, which creates an infinite
# loop of logs" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html).


def _refuse_a_loop(s3: Any, bucket: str, source: str, owner: str, exists: bool) -> None:
    if not source:
        return
    if source == bucket:
        raise RemediationError(
            f"SourceBucketName {source}: it is the access-log bucket itself. Logging it into itself would write "
            "logs about its own log deliveries without end (an infinite loop of logs); its server access logging "
            "stays off. Suppress this finding for the solution's log bucket, or enable its logging into another "
            "bucket by hand; nothing was changed."
        )
    if not exists:
        return
    target = (s3.get_bucket_logging(Bucket=bucket, ExpectedBucketOwner=owner).get("LoggingEnabled") or {}).get(
        "TargetBucket"
    )
    if target == source:
        raise RemediationError(
            f"SourceBucketName {source}: the access-log bucket {bucket} delivers its own logs to {source}; logging "
            f"{source} into {bucket} would loop without end. Its server access logging stays off; nothing was changed."
        )


def create_access_logging_bucket(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    bucket, owner = event["BucketName"], event["AccountId"]
    region, partition = event["Region"], event["Partition"]
    s3 = boto3.client("s3", config=BOTO_CONFIG)
    existing_region = _bucket_region(s3, bucket, owner)
    _refuse_a_loop(s3, bucket, event.get("SourceBucketName", ""), owner, existing_region is not None)
    if existing_region not in (None, region):
        raise RemediationError(
            f"BucketName {bucket}: the bucket already exists in Region {existing_region}; "
            f"access logs of Region {region} need a bucket in {region}"
        )
    changes = []
    if existing_region is None:
        _create(s3, bucket, region)
        changes.append(f"created bucket in {region} (object ownership ObjectWriter)")
    for ensure in (_ensure_encryption, _ensure_block_public_access):
        change = ensure(s3, bucket, owner)
        if change:
            changes.append(change)
    change = _ensure_policy(s3, bucket, owner, partition)
    if change:
        changes.append(change)
    return {
        "BucketName": bucket,
        "Created": str(existing_region is None).lower(),
        "Changes": changes,
        "Message": (
            f"Access-logging bucket {bucket}: " + "; ".join(changes) + "."
            if changes
            else f"Access-logging bucket {bucket} already exists and is configured; nothing changed."
        ),
    }
