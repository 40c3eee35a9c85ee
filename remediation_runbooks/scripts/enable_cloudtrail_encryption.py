"""ASR-EnableCloudTrailEncryption: encrypt one trail's log files with a KMS key."""

from __future__ import annotations

import fnmatch
import json
import re
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
# ASCII only and used with fullmatch: a Unicode digit ("\u0661") or a trailing newline is refused.
_TRAIL_ARN = re.compile(
    r"arn:(?:aws|aws-cn|aws-us-gov):cloudtrail:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-[0-9]):[0-9]{12}:trail/(?P<name>.+)",
    re.ASCII,
)
_KEY_ARN = re.compile(
    r"arn:(?:aws|aws-cn|aws-us-gov):kms:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-[0-9]):[0-9]{12}:(?:key|alias)/.+", re.ASCII
)
_PRINCIPAL_ARN = re.compile(r"arn:[a-z-]+:(?:iam|sts)::([0-9]{12}):.+", re.ASCII)
_ACCOUNT = re.compile(r"[0-9]{12}", re.ASCII)
#: The remediation key of the member stack, one per Region.
KEY_PARAMETER = "/Solutions/SO0111/CMK_REMEDIATION_ARN"
#: Reading log files: what a reader of the bucket is allowed (any of them).
READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")
# The trail is read back for up to a minute after UpdateTrail.
VERIFY_ATTEMPTS = 6
VERIFY_INTERVAL_SECONDS = 10


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _trail_region(trail_arn: str, trail_region: str) -> str:
    match = _TRAIL_ARN.fullmatch(trail_arn)
    if not match:
        raise RemediationError(f"TrailArn {trail_arn}: not a CloudTrail trail ARN")
    if match["region"] != trail_region:
        raise RemediationError(
            f"TrailRegion {trail_region} does not match the home Region {match['region']} of TrailArn {trail_arn}"
        )
    return trail_region


def _usable_key(key_arn: str) -> str:
    """ARN of the key ``key_arn`` names (key or alias ARN), if CloudTrail can encrypt with it."""
    match = _KEY_ARN.fullmatch(key_arn)
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


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


# --- the trail's bucket -----------------------------------------------------------------
#
# "The key that you choose must be in the same region as the S3 bucket that receives your log files",
# and whoever reads the log files then needs kms:Decrypt from the key policy besides S3 read access
# (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/encrypting-cloudtrail-log-files-with-aws-kms.html).


def _bucket_region(bucket: str, account: str, trail_arn: str) -> str:
    s3 = boto3.client("s3", config=BOTO_CONFIG)
    try:
        location = s3.get_bucket_location(Bucket=bucket, ExpectedBucketOwner=account).get("LocationConstraint")
    except ClientError as err:
        if _code(err) in ("AccessDenied", "403", "NoSuchBucket"):
            raise RemediationError(
                f"TrailArn {trail_arn}: its bucket {bucket} is not a bucket of account {account} (or may not be read); "
                "log files in a bucket of another account (a central log archive) are read there, and encrypting "
                "them with a key of this account would lock those readers out. Encrypt this trail with a key the "
                "log archive account may use, by hand; nothing was changed."
            ) from None
        raise
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _accounts(principal: Any) -> set[str]:
    """Accounts a Principal element names ("*" for everyone); service principals are not readers."""
    if principal == "*":
        return {"*"}
    if not isinstance(principal, dict):
        return set()
    found = set()
    for value in _as_list(principal.get("AWS", [])):
        text = str(value)
        if text == "*":
            found.add("*")
        elif _ACCOUNT.fullmatch(text):
            found.add(text)
        elif match := _PRINCIPAL_ARN.fullmatch(text):
            found.add(match.group(1))
    return found


def _allows(statement: dict[str, Any], action: str) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    if "NotAction" in statement:
        return not any(fnmatch.fnmatchcase(action.lower(), str(a).lower()) for a in _as_list(statement["NotAction"]))
    return any(fnmatch.fnmatchcase(action.lower(), str(a).lower()) for a in _as_list(statement.get("Action", [])))


def other_readers(bucket_policy: dict[str, Any] | None, account: str) -> set[str]:
    """Accounts other than ``account`` (or "*") the bucket policy lets read objects."""
    readers: set[str] = set()
    for statement in _as_list((bucket_policy or {}).get("Statement", [])):
        if any(_allows(statement, a) for a in READ_ACTIONS):
            readers |= _accounts(statement.get("Principal")) - {account}
    return readers


def decrypters(key_policy: dict[str, Any]) -> set[str]:
    """Accounts (or "*") the key policy lets call kms:Decrypt."""
    found: set[str] = set()
    for statement in _as_list(key_policy.get("Statement", [])):
        if _allows(statement, "kms:Decrypt"):
            found |= _accounts(statement.get("Principal"))
    return found


def _check_readers(bucket: str, key_arn: str, account: str, region: str, trail_arn: str) -> None:
    s3 = boto3.client("s3", config=BOTO_CONFIG)
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket, ExpectedBucketOwner=account)["Policy"])
    except ClientError as err:
        if _code(err) != "NoSuchBucketPolicy":
            raise
        policy = None
    readers = other_readers(policy, account)
    if not readers:
        return
    kms = boto3.client("kms", region_name=region, config=BOTO_CONFIG)
    key_policy = json.loads(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])
    allowed = decrypters(key_policy)
    locked_out = sorted(r for r in readers if "*" not in allowed and r not in allowed)
    if locked_out:
        raise RemediationError(
            f"TrailArn {trail_arn}: the policy of its bucket {bucket} lets {', '.join(locked_out)} read the log files, "
            f"and the policy of key {key_arn} does not let them decrypt: encrypting would lock them out. Grant them "
            "kms:Decrypt in the key policy (or pass KMSKeyArn of a key that does), then run again; nothing was changed."
        )


def _member_key(region: str) -> str:
    """CMK_REMEDIATION_ARN of ``region`` ("" when the member stack there has RemediationKeyMode None)."""
    ssm = boto3.client("ssm", region_name=region, config=BOTO_CONFIG)
    try:
        return str(ssm.get_parameter(Name=KEY_PARAMETER)["Parameter"]["Value"]).strip()
    except ClientError as err:
        if _code(err) not in ("ParameterNotFound", "AccessDeniedException", "AccessDenied"):
            raise
    return ""


def _key_for_region(key_arn: str, bucket_region: str, bucket: str) -> str:
    """``key_arn`` if it is in the bucket's Region, else the member's remediation key of that Region.

    CloudTrail.2 asks for SSE-KMS with a customer managed key: there is no AWS managed key for CloudTrail.
    Without one (RemediationKeyMode None, no KMSKeyArn) the trail is refused, naming what to set.
    """
    if key_arn:
        match = _KEY_ARN.fullmatch(key_arn)
        if not match:
            raise RemediationError(f"KMSKeyArn {key_arn}: not a KMS key or alias ARN")
        if match["region"] == bucket_region:
            return key_arn
    member = _member_key(bucket_region)
    if member:
        return member
    if not key_arn:
        raise RemediationError(
            f"CloudTrail.2 needs a customer managed KMS key in {bucket_region} (the Region of the trail's bucket "
            f"{bucket}), and none is configured: the member stack there has RemediationKeyMode None (no "
            f"{KEY_PARAMETER}). Set RemediationKeyMode to Existing (with RemediationKeyArn, e.g. the organization "
            "key) or PerStack on the member stack, or pass KMSKeyArn; nothing was changed."
        )
    key_region = _KEY_ARN.fullmatch(key_arn)["region"]  # checked above
    raise RemediationError(
        f"KMSKeyArn {key_arn}: the key is in Region {key_region}, but CloudTrail needs a key "
        f"in the Region of the trail's bucket {bucket} ({bucket_region}), and {KEY_PARAMETER} names none there "
        f"(deploy the member stack in {bucket_region} with RemediationKeyMode Existing or PerStack, or pass "
        f"KMSKeyArn of a key in {bucket_region}); nothing was changed."
    )


def enable_cloudtrail_encryption(
    event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, str]:
    trail_arn = event["TrailArn"]
    region = _trail_region(trail_arn, event["TrailRegion"])
    cloudtrail = boto3.client("cloudtrail", region_name=region, config=BOTO_CONFIG)
    trail = _get_trail(cloudtrail, trail_arn)
    before = trail.get("KmsKeyId")
    if before:
        return {
            "TrailArn": trail_arn,
            "KmsKeyBefore": before,
            "KmsKeyAfter": before,
            "Message": "Trail is already encrypted with a KMS key; its key was kept and nothing changed.",
        }
    account = trail_arn.split(":")[4]
    bucket = trail["S3BucketName"]
    bucket_region = _bucket_region(bucket, account, trail_arn)
    key_arn = _usable_key(_key_for_region(event.get("KMSKeyArn", "").strip(), bucket_region, bucket))
    _check_readers(bucket, key_arn, account, bucket_region, trail_arn)
    cloudtrail.update_trail(Name=trail_arn, KmsKeyId=key_arn)
    after = _get_trail(cloudtrail, trail_arn).get("KmsKeyId")
    for _ in range(VERIFY_ATTEMPTS - 1):
        if after:
            break
        sleep(VERIFY_INTERVAL_SECONDS)
        after = _get_trail(cloudtrail, trail_arn).get("KmsKeyId")
    if not after:
        raise RemediationError(f"TrailArn {trail_arn}: still not encrypted {VERIFY_ATTEMPTS} reads after UpdateTrail")
    return {
        "TrailArn": trail_arn,
        "KmsKeyBefore": "none",
        "KmsKeyAfter": after,
        "Message": f"Trail log files are now encrypted with KMS key {key_arn} (Region {bucket_region}, "
        f"the Region of bucket {bucket}).",
    }
