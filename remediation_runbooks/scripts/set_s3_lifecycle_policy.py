"""ASR-SetS3LifecyclePolicy: add the ASR example lifecycle rule to one bucket, keeping its other rules."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
RULE_ID = "S3.13 Remediation Example"
MIN_OBJECT_SIZE = 131072  # bytes (128 KiB): smaller objects are not transitioned
# Storage classes S3 only accepts 30 days or more after creation.
MIN_30_DAYS = ("STANDARD_IA", "ONEZONE_IA")


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


def _days(event: dict[str, Any], name: str) -> int:
    try:
        value = int(event[name])
    except (TypeError, ValueError):
        raise RemediationError(f"{name} {event[name]!r}: expected a whole number of days") from None
    if value < 0:
        raise RemediationError(f"{name} {value}: must not be negative")
    return value


def wanted_rule(transition_days: int, expiration_days: int, storage_class: str) -> dict[str, Any]:
    if storage_class in MIN_30_DAYS and transition_days < 30:
        raise RemediationError(f"TargetTransitionDays {transition_days}: S3 needs at least 30 days for {storage_class}")
    if expiration_days and expiration_days <= transition_days:
        raise RemediationError(
            f"TargetExpirationDays {expiration_days}: must be greater than "
            f"TargetTransitionDays {transition_days} (or 0 for none)"
        )
    rule: dict[str, Any] = {
        "ID": RULE_ID,
        "Status": "Enabled",
        "Filter": {"ObjectSizeGreaterThan": MIN_OBJECT_SIZE},
        "Transitions": [{"Days": transition_days, "StorageClass": storage_class}],
    }
    if expiration_days:
        rule["Expiration"] = {"Days": expiration_days}
    return rule


def _current(s3: Any, bucket: str, owner: str) -> dict[str, Any]:
    try:
        config = s3.get_bucket_lifecycle_configuration(Bucket=bucket, ExpectedBucketOwner=owner)
    except ClientError as err:
        code = _error_code(err)
        if code == "NoSuchLifecycleConfiguration":
            return {"Rules": []}
        if code == "NoSuchBucket":
            raise RemediationError(f"BucketName {bucket}: no such bucket") from None
        if code in ("AccessDenied", "403"):
            raise RemediationError(
                f"BucketName {bucket}: access denied; the bucket is not owned by account {owner} "
                "or the role lacks s3:GetLifecycleConfiguration"
            ) from None
        raise
    config.pop("ResponseMetadata", None)
    return config


def _same_rule(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Same status, transition and expiration; a filter the owner edited is respected."""
    keys = ("Status", "Transitions", "Expiration")
    return all(current.get(k) == wanted.get(k) for k in keys)


def set_lifecycle_policy(
    event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, Any]:
    bucket, owner = event["BucketName"], event["AccountId"]
    rule = wanted_rule(
        _days(event, "TargetTransitionDays"),
        _days(event, "TargetExpirationDays"),
        event["TargetTransitionStorageClass"],
    )
    s3 = boto3.client("s3", config=BOTO_CONFIG)
    config = _current(s3, bucket, owner)
    others = [r for r in config["Rules"] if r.get("ID") != RULE_ID]
    mine = next((r for r in config["Rules"] if r.get("ID") == RULE_ID), None)
    if mine and _same_rule(mine, rule):
        return {
            "BucketName": bucket,
            "RulesBefore": len(config["Rules"]),
            "RulesAfter": len(config["Rules"]),
            "Message": f"Bucket {bucket} already has lifecycle rule '{RULE_ID}'; nothing changed.",
        }
    kwargs: dict[str, Any] = {
        "Bucket": bucket,
        "ExpectedBucketOwner": owner,
        "LifecycleConfiguration": {"Rules": [*others, rule]},
    }
    if config.get("TransitionDefaultMinimumObjectSize"):
        kwargs["TransitionDefaultMinimumObjectSize"] = config["TransitionDefaultMinimumObjectSize"]
    s3.put_bucket_lifecycle_configuration(**kwargs)
    after = read_back(
        lambda: _current(s3, bucket, owner)["Rules"],
        lambda got: any(r.get("ID") == RULE_ID and _same_rule(r, rule) for r in got),
        sleep,
    )
    if not any(r.get("ID") == RULE_ID and _same_rule(r, rule) for r in after):
        raise RemediationError(
            f"BucketName {bucket}: lifecycle rule '{RULE_ID}' is not shown after {VERIFY_ATTEMPTS} reads"
        )
    verb = "Updated" if mine else "Added"
    return {
        "BucketName": bucket,
        "RulesBefore": len(config["Rules"]),
        "RulesAfter": len(after),
        "Message": f"{verb} lifecycle rule '{RULE_ID}' on bucket {bucket}; "
        f"the other {len(others)} rules are unchanged. "
        "Review it: it is an example.",
    }
