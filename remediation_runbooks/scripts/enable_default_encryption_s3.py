"""ASR-EnableDefaultEncryptionS3: set the default encryption of one bucket (SSE-S3 or SSE-KMS)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
# The value of /Solutions/SO0111/afsbp/1.0.0/S3.4/KmsKeyAlias that means "SSE-S3 (AES256)".
SSE_S3_SENTINEL = "default-s3-encryption"
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


# S3 bucket settings are eventually consistent ("Bucket configurations have an eventual consistency model",
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel): a change is read
# back for up to a minute before the document says it failed.
VERIFY_ATTEMPTS = 6
VERIFY_INTERVAL_SECONDS = 10


def read_back(read: Callable[[], Any], done: Callable[[Any], bool], sleep: Callable[[float], None]) -> Any:
    """``read()`` until ``done`` says it shows the change, at most VERIFY_ATTEMPTS times; the last read."""
    value = read()
    for _ in range(VERIFY_ATTEMPTS - 1):
        if done(value):
            break
        sleep(VERIFY_INTERVAL_SECONDS)
        value = read()
    return value


def _error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _current_default(s3: Any, bucket: str, owner: str) -> dict[str, Any]:
    """ApplyServerSideEncryptionByDefault of the bucket's first rule ({} if none)."""
    try:
        config = s3.get_bucket_encryption(Bucket=bucket, ExpectedBucketOwner=owner)
    except ClientError as err:
        code = _error_code(err)
        if code == "ServerSideEncryptionConfigurationNotFoundError":
            return {}
        if code == "NoSuchBucket":
            raise RemediationError(f"BucketName {bucket}: no such bucket") from None
        if code in ("AccessDenied", "403"):
            raise RemediationError(
                f"BucketName {bucket}: access denied; the bucket is not owned by AccountId {owner} "
                "or the role lacks s3:GetEncryptionConfiguration"
            ) from None
        raise
    rules = config["ServerSideEncryptionConfiguration"].get("Rules") or [{}]
    return rules[0].get("ApplyServerSideEncryptionByDefault", {})


def _kms_alias_arn(alias: str) -> tuple[str, str]:
    """(alias ARN, key ARN) of a usable KMS alias in this account and Region."""
    name = alias if alias.startswith("alias/") else f"alias/{alias}"
    kms = boto3.client("kms", config=BOTO_CONFIG)
    try:
        meta = kms.describe_key(KeyId=name)["KeyMetadata"]
    except ClientError as err:
        if _error_code(err) == "NotFoundException":
            raise RemediationError(f"KmsKeyAlias {alias}: no such KMS alias in this account and Region") from None
        raise
    if meta.get("KeyState") != "Enabled":
        raise RemediationError(
            f"KmsKeyAlias {alias}: key {meta['KeyId']} is {meta.get('KeyState')}; it must be Enabled"
        )
    if (
        meta.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT"
        or meta.get("KeyUsage", "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT"
    ):
        raise RemediationError(f"KmsKeyAlias {alias}: S3 needs a symmetric encryption key, not {meta.get('KeySpec')}")
    key_arn = meta["Arn"]
    return key_arn.split(":key/")[0] + ":" + name, key_arn


def _is_same_kms_key(current: dict[str, Any], alias_arn: str, key_arn: str) -> bool:
    if current.get("SSEAlgorithm") != "aws:kms":
        return False
    configured = current.get("KMSMasterKeyID", "")
    return configured in (alias_arn, key_arn, alias_arn.split(":", 5)[5], key_arn.split("/")[-1])


def _put(s3: Any, bucket: str, owner: str, default: dict[str, str]) -> None:
    rule: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": default}
    if default["SSEAlgorithm"] == "aws:kms":
        rule["BucketKeyEnabled"] = True
    s3.put_bucket_encryption(
        Bucket=bucket, ExpectedBucketOwner=owner, ServerSideEncryptionConfiguration={"Rules": [rule]}
    )


def _wanted(current: dict[str, Any], alias: str) -> tuple[dict[str, str] | None, str]:
    """(default to put or None, why)."""
    if alias == SSE_S3_SENTINEL:
        if current.get("SSEAlgorithm") in KMS_ALGORITHMS:
            return (
                None,
                f"already encrypted with {current['SSEAlgorithm']}; SSE-KMS is kept, never downgraded to SSE-S3",
            )
        if current.get("SSEAlgorithm") == "AES256":
            return None, "already encrypted with SSE-S3 (AES256)"
        return {"SSEAlgorithm": "AES256"}, "set SSE-S3 (AES256)"
    alias_arn, key_arn = _kms_alias_arn(alias)
    if _is_same_kms_key(current, alias_arn, key_arn):
        return None, f"already encrypted with SSE-KMS key {alias_arn}"
    return {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": alias_arn}, f"set SSE-KMS with {alias_arn}"


def enable_default_encryption(
    event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, Any]:
    bucket, owner, alias = event["BucketName"], event["AccountId"], event["KmsKeyAlias"]
    s3 = boto3.client("s3", config=BOTO_CONFIG)
    before = _current_default(s3, bucket, owner)
    wanted, why = _wanted(before, alias)
    if wanted:
        _put(s3, bucket, owner, wanted)
        def shows(got: dict[str, Any]) -> bool:
            return got.get("SSEAlgorithm") == wanted["SSEAlgorithm"] and got.get("KMSMasterKeyID") == wanted.get(
                "KMSMasterKeyID"
            )

        after = read_back(lambda: _current_default(s3, bucket, owner), shows, sleep)
        if not shows(after):
            raise RemediationError(
                f"BucketName {bucket}: default encryption still reads {after} after {VERIFY_ATTEMPTS} reads"
            )
    else:
        after = before
    return {
        "BucketName": bucket,
        "Before": before or {"SSEAlgorithm": "none"},
        "After": after,
        "Message": f"Bucket {bucket}: {why}." + ("" if wanted else " Nothing changed."),
    }
