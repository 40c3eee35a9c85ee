"""ASR-ConfigureS3BucketPublicAccessBlock: turn on the Block Public Access flags of one bucket."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


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
    return err.response.get("Error", {}).get("Code", "")


def _flag(event: dict[str, Any], name: str) -> bool:
    value = event.get(name, True)
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise RemediationError(f"{name} {value!r}: expected true or false")


def _current_block(s3: Any, bucket: str, owner: str) -> dict[str, bool]:
    try:
        config = s3.get_public_access_block(Bucket=bucket, ExpectedBucketOwner=owner)
    except ClientError as err:
        code = _error_code(err)
        if code == "NoSuchPublicAccessBlockConfiguration":
            return dict.fromkeys(FLAGS, False)
        if code == "NoSuchBucket":
            raise RemediationError(f"BucketName {bucket}: no such bucket") from None
        if code in ("AccessDenied", "403"):
            raise RemediationError(
                f"BucketName {bucket}: access denied reading Block Public Access; the bucket is not "
                f"owned by account {owner} or the role lacks s3:GetBucketPublicAccessBlock"
            ) from None
        raise
    block = config["PublicAccessBlockConfiguration"]
    return {flag: bool(block.get(flag, False)) for flag in FLAGS}


def configure_bucket_public_access_block(
    event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, Any]:
    """Turn on each requested flag; a flag passed as false is left as it is, never turned off."""
    bucket = event["BucketName"]
    owner = event["AccountId"]
    requested = {flag: _flag(event, flag) for flag in FLAGS}
    s3 = boto3.client("s3", config=BOTO_CONFIG)
    before = _current_block(s3, bucket, owner)
    wanted = {flag: before[flag] or requested[flag] for flag in FLAGS}
    if wanted != before:
        s3.put_public_access_block(Bucket=bucket, ExpectedBucketOwner=owner, PublicAccessBlockConfiguration=wanted)
    after = read_back(lambda: _current_block(s3, bucket, owner), lambda got: got == wanted, sleep)
    if after != wanted:
        raise RemediationError(
            f"BucketName {bucket}: Block Public Access still reads {after} after {VERIFY_ATTEMPTS} reads, "
            f"expected {wanted}"
        )
    changed = sorted(flag for flag in FLAGS if after[flag] != before[flag])
    return {
        "BucketName": bucket,
        "Before": before,
        "After": after,
        "Changed": changed,
        "Message": (
            f"Turned on {', '.join(changed)} for bucket {bucket}."
            if changed
            else f"Bucket {bucket} already had the requested Block Public Access flags; nothing changed."
        ),
    }
