"""ASR-CreateCloudTrailMultiRegionTrail: the solution's buckets and a logging, encrypted multi-Region trail."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
TRAIL_NAME = "multi-region-cloud-trail"
PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
}


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _identity(partition_input: str) -> tuple[str, str, str]:
    """(partition, account, region) of the execution; AWSPartition must agree."""
    caller = boto3.client("sts", config=BOTO_CONFIG).get_caller_identity()
    partition = caller["Arn"].split(":")[1]
    if partition_input != partition:
        raise RemediationError(f"AWSPartition {partition_input}: this account is in partition {partition}")
    return partition, caller["Account"], boto3.client("s3", config=BOTO_CONFIG).meta.region_name


def bucket_names(account: str, region: str) -> tuple[str, str]:
    """(access-log bucket, trail bucket)."""
    return f"so0111-access-logs-{region}-{account}", f"so0111-aws-cloudtrail-{account}"


def _deny_insecure_transport(partition: str, bucket: str) -> dict[str, Any]:
    arn = f"arn:{partition}:s3:::{bucket}"
    return {
        "Sid": "AllowSSLRequestsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def access_log_policy(partition: str, account: str, log_bucket: str, source_bucket: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {
            "Sid": "S3ServerAccessLogsPolicy", "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
            "Resource": f"arn:{partition}:s3:::{log_bucket}/*",
            "Condition": {"ArnLike": {"aws:SourceArn": f"arn:{partition}:s3:::{source_bucket}"},
                          "StringEquals": {"aws:SourceAccount": account}},
        },
        _deny_insecure_transport(partition, log_bucket),
    ]}


def trail_bucket_policy(partition: str, account: str, region: str, bucket: str) -> dict[str, Any]:
    trail_arn = f"arn:{partition}:cloudtrail:{region}:{account}:trail/{TRAIL_NAME}"
    only_our_trail = {"StringEquals": {"aws:SourceArn": trail_arn}}
    return {"Version": "2012-10-17", "Statement": [
        {
            "Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:GetBucketAcl", "Resource": f"arn:{partition}:s3:::{bucket}", "Condition": only_our_trail,
        },
        {
            "Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject", "Resource": f"arn:{partition}:s3:::{bucket}/AWSLogs/{account}/*",
            "Condition": {"StringEquals": {"aws:SourceArn": trail_arn, "s3:x-amz-acl": "bucket-owner-full-control"}},
        },
        _deny_insecure_transport(partition, bucket),
    ]}


def _error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code"))


def _ensure_bucket(s3: Any, name: str, account: str) -> bool:
    """True if the bucket was created; refuses a bucket of that name owned by another account."""
    try:
        s3.head_bucket(Bucket=name, ExpectedBucketOwner=account)
        return False
    except ClientError as err:
        if _error_code(err) not in ("404", "NoSuchBucket"):
            raise RemediationError(
                f"bucket {name} exists but is not owned by account {account} ({_error_code(err)}); refusing to use it"
            ) from None
    kwargs: dict[str, Any] = {"Bucket": name, "ObjectOwnership": "BucketOwnerEnforced"}
    if s3.meta.region_name != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": s3.meta.region_name}
    s3.create_bucket(**kwargs)
    return True


def _ensure_public_access_block(s3: Any, name: str) -> None:
    try:
        current = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    except ClientError:
        current = {}
    if current != PUBLIC_ACCESS_BLOCK:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK)


def _ensure_default_encryption(s3: Any, name: str) -> None:
    """SSE-S3 unless the bucket already has default encryption (server access logs need SSE-S3)."""
    try:
        s3.get_bucket_encryption(Bucket=name)
    except ClientError:
        rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [rule]})


def _ensure_policy(s3: Any, name: str, policy: dict[str, Any]) -> None:
    """Puts ``policy`` only on a bucket without a policy: an existing policy is never replaced."""
    try:
        s3.get_bucket_policy(Bucket=name)
    except ClientError:
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))


def _ensure_logging(s3: Any, name: str, target: str) -> None:
    if "LoggingEnabled" not in s3.get_bucket_logging(Bucket=name):
        s3.put_bucket_logging(Bucket=name, BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": target, "TargetPrefix": f"{name}/"}})


def create_buckets(event: dict[str, Any], _context: Any) -> dict[str, str]:
    partition, account, region = _identity(event["AWSPartition"])
    if _existing_trail(boto3.client("cloudtrail", config=BOTO_CONFIG)) is None:
        _check_key(event["KMSKeyArn"])  # before creating anything
    log_bucket, trail_bucket = bucket_names(account, region)
    s3 = boto3.client("s3", config=BOTO_CONFIG)
    created = []
    for name, policy in (
        (log_bucket, access_log_policy(partition, account, log_bucket, trail_bucket)),
        (trail_bucket, trail_bucket_policy(partition, account, region, trail_bucket)),
    ):
        if _ensure_bucket(s3, name, account):
            created.append(name)
        _ensure_public_access_block(s3, name)
        _ensure_default_encryption(s3, name)
        _ensure_policy(s3, name, policy)
    _ensure_logging(s3, trail_bucket, log_bucket)
    return {"AccessLogBucket": log_bucket, "TrailBucket": trail_bucket, "BucketsCreated": ", ".join(created) or "none"}


def _check_key(key_arn: str) -> None:
    kms = boto3.client("kms", config=BOTO_CONFIG)
    try:
        state = kms.describe_key(KeyId=key_arn)["KeyMetadata"]["KeyState"]
    except kms.exceptions.NotFoundException:
        raise RemediationError(f"KMSKeyArn {key_arn}: no such KMS key") from None
    if state != "Enabled":
        raise RemediationError(f"KMSKeyArn {key_arn}: key is {state}, not Enabled")


def _existing_trail(cloudtrail: Any) -> dict[str, Any] | None:
    try:
        return cloudtrail.get_trail(Name=TRAIL_NAME)["Trail"]
    except cloudtrail.exceptions.TrailNotFoundException:
        return None


def create_trail(event: dict[str, Any], _context: Any) -> dict[str, str]:
    cloudtrail = boto3.client("cloudtrail", config=BOTO_CONFIG)
    trail = _existing_trail(cloudtrail)
    changes = []
    if trail is None:
        _check_key(event["KMSKeyArn"])
        trail = cloudtrail.create_trail(
            Name=TRAIL_NAME, S3BucketName=event["TrailBucket"], IsMultiRegionTrail=True,
            IncludeGlobalServiceEvents=True, EnableLogFileValidation=True, KmsKeyId=event["KMSKeyArn"],
        )
        changes.append("Trail created")
    elif not trail.get("IsMultiRegionTrail"):
        cloudtrail.update_trail(Name=TRAIL_NAME, IsMultiRegionTrail=True, IncludeGlobalServiceEvents=True)
        changes.append("Trail made multi-Region")
    if not cloudtrail.get_trail_status(Name=TRAIL_NAME).get("IsLogging"):
        cloudtrail.start_logging(Name=TRAIL_NAME)
        changes.append("logging started")
    if not cloudtrail.get_trail_status(Name=TRAIL_NAME).get("IsLogging"):
        raise RemediationError(f"trail {TRAIL_NAME} is still not logging after StartLogging")
    return {
        "TrailArn": trail["TrailARN"],
        "Message": "; ".join(changes) + "." if changes
        else f"Multi-Region trail {TRAIL_NAME} already logging; nothing changed.",
    }
