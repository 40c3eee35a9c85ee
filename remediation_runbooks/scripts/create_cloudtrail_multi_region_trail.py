"""ASR-CreateCloudTrailMultiRegionTrail: the solution's buckets and a logging, encrypted multi-Region trail."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import ClientError

from remediation_runbooks.scripts._member_key import (  # %%INLINE%%
    BOTO_CONFIG,
    KEY_PARAMETER,  # noqa: F401 -- the tests read it
    RemediationError,
    configured_key,
)

TRAIL_NAME = "multi-region-cloud-trail"
# CloudTrail settings are eventually consistent: read them back for up to a minute.
VERIFY_ATTEMPTS = 6
VERIFY_INTERVAL_SECONDS = 10
PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


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
        "Sid": "AllowSSLRequestsOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def access_log_policy(partition: str, account: str, log_bucket: str, source_bucket: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "S3ServerAccessLogsPolicy",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"arn:{partition}:s3:::{log_bucket}/*",
                "Condition": {
                    "ArnLike": {"aws:SourceArn": f"arn:{partition}:s3:::{source_bucket}"},
                    "StringEquals": {"aws:SourceAccount": account},
                },
            },
            _deny_insecure_transport(partition, log_bucket),
        ],
    }


def trail_bucket_policy(partition: str, account: str, region: str, bucket: str) -> dict[str, Any]:
    trail_arn = f"arn:{partition}:cloudtrail:{region}:{account}:trail/{TRAIL_NAME}"
    only_our_trail = {"StringEquals": {"aws:SourceArn": trail_arn}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSCloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": f"arn:{partition}:s3:::{bucket}",
                "Condition": only_our_trail,
            },
            {
                "Sid": "AWSCloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"arn:{partition}:s3:::{bucket}/AWSLogs/{account}/*",
                "Condition": {
                    "StringEquals": {"aws:SourceArn": trail_arn, "s3:x-amz-acl": "bucket-owner-full-control"}
                },
            },
            _deny_insecure_transport(partition, bucket),
        ],
    }


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
        s3.put_bucket_logging(
            Bucket=name, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": target, "TargetPrefix": f"{name}/"}}
        )


def create_buckets(event: dict[str, Any], _context: Any) -> dict[str, str]:
    partition, account, region = _identity(event["AWSPartition"])
    log_bucket, trail_bucket = bucket_names(account, region)
    cloudtrail = boto3.client("cloudtrail", config=BOTO_CONFIG)
    found = _existing_trail(cloudtrail)
    candidate = found or _trail_to_correct(_own_multi_region_trails(cloudtrail, account))
    if candidate is not None and candidate.get("TrailARN") != _our_arn(partition, account, region):
        # Another multi-Region trail of the account (possibly a shadow of one homed elsewhere) is
        # corrected where it lives: the solution's buckets are not needed.
        return {"AccessLogBucket": log_bucket, "TrailBucket": trail_bucket, "BucketsCreated": "none"}
    if found is None:
        key = configured_key(event.get("KMSKeyArn", ""))
        if key:
            _check_key(key)  # before creating anything
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


def _our_arn(partition: str, account: str, region: str) -> str:
    return f"arn:{partition}:cloudtrail:{region}:{account}:trail/{TRAIL_NAME}"


# --- what CloudTrail.1 asks of a trail ------------------------------------------------------
#
# CloudTrail.1 (Config rule multi-region-cloudtrail-enabled): at least one multi-Region trail that is
# logging and records read and write management events, with no management event source excluded
# (https://docs.aws.amazon.com/securityhub/latest/userguide/cloudtrail-controls.html#cloudtrail-1).
# A multi-Region trail homed in another Region appears here as a shadow trail: it already covers this
# Region and can only be changed in its home Region.


def _home_region(trail: dict[str, Any]) -> str:
    return str(trail.get("HomeRegion") or trail["TrailARN"].split(":")[3])


def _own_multi_region_trails(cloudtrail: Any, account: str) -> list[dict[str, Any]]:
    """Multi-Region trails of this account that apply here (own and shadows), by name."""
    found = cloudtrail.describe_trails(includeShadowTrails=True)["trailList"]
    mine = [t for t in found if t.get("IsMultiRegionTrail") and t["TrailARN"].split(":")[4] == account]
    return sorted(mine, key=lambda t: (t["Name"] != TRAIL_NAME, t["Name"]))


def _trail_to_correct(trails: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The solution's trail if it is one of them, else the first (by name)."""
    return trails[0] if trails else None


def _records_all_management_events(selectors: dict[str, Any]) -> bool:
    """Read and write management events with no source excluded, by one selector."""
    for selector in selectors.get("EventSelectors") or []:
        if (
            selector.get("IncludeManagementEvents", True)
            and selector.get("ReadWriteType", "All") == "All"
            and not selector.get("ExcludeManagementEventSources")
        ):
            return True
    for selector in selectors.get("AdvancedEventSelectors") or []:
        fields = {f.get("Field"): f for f in selector.get("FieldSelectors") or []}
        if fields.get("eventCategory", {}).get("Equals") == ["Management"] and set(fields) == {"eventCategory"}:
            return True
    return False


MANAGEMENT_SELECTOR = {"ReadWriteType": "All", "IncludeManagementEvents": True}
ADVANCED_MANAGEMENT_SELECTOR = {
    "Name": "ASR all management events",
    "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
}
MAX_EVENT_SELECTORS = 5  # "You can configure up to five event selectors for a trail."


def corrected_selectors(name: str, selectors: dict[str, Any]) -> dict[str, Any]:
    """PutEventSelectors arguments that add read and write management events to the trail and keep
    everything it already records (its data event selectors, its other advanced selectors)."""
    advanced = selectors.get("AdvancedEventSelectors") or []
    if advanced:
        return {"AdvancedEventSelectors": [*advanced, ADVANCED_MANAGEMENT_SELECTOR]}
    basic = [dict(s) for s in selectors.get("EventSelectors") or []]
    pure = next((s for s in basic if not s.get("DataResources")), None)
    if pure is not None:  # a management-only selector: make it record everything, with no exclusion
        pure.update(MANAGEMENT_SELECTOR)
        pure.pop("ExcludeManagementEventSources", None)
        return {"EventSelectors": basic}
    if len(basic) >= MAX_EVENT_SELECTORS:
        raise RemediationError(
            f"trail {name}: it has {len(basic)} data event selectors, the most CloudTrail allows, and none records "
            "management events; make one of them record read and write management events, then run again"
        )
    return {"EventSelectors": [*basic, dict(MANAGEMENT_SELECTOR)]}


def _correct(trail: dict[str, Any]) -> list[str]:
    """Make an existing multi-Region trail log all management events; changes made."""
    arn, name = trail["TrailARN"], trail["Name"]
    home = boto3.client("cloudtrail", region_name=_home_region(trail), config=BOTO_CONFIG)
    changes = []
    selectors = home.get_event_selectors(TrailName=arn)
    if not _records_all_management_events(selectors):
        home.put_event_selectors(TrailName=arn, **corrected_selectors(name, selectors))
        changes.append(f"trail {name} now records read and write management events")
    if not home.get_trail_status(Name=arn).get("IsLogging"):
        home.start_logging(Name=arn)
        changes.append("logging started" if name == TRAIL_NAME else f"logging of trail {name} started")
    return changes


def _compliant(trail: dict[str, Any]) -> bool:
    home = boto3.client("cloudtrail", region_name=_home_region(trail), config=BOTO_CONFIG)
    return bool(home.get_trail_status(Name=trail["TrailARN"]).get("IsLogging")) and _records_all_management_events(
        home.get_event_selectors(TrailName=trail["TrailARN"])
    )


def _verify(trail_arn: str, region: str, sleep: Callable[[float], None]) -> None:
    """CloudTrail settings are read back (bounded) until they show a logging trail with all management events."""
    home = boto3.client("cloudtrail", region_name=region, config=BOTO_CONFIG)
    for attempt in range(VERIFY_ATTEMPTS):
        logging = bool(home.get_trail_status(Name=trail_arn).get("IsLogging"))
        selectors = home.get_event_selectors(TrailName=trail_arn)
        if logging and _records_all_management_events(selectors):
            return
        if attempt < VERIFY_ATTEMPTS - 1:
            sleep(VERIFY_INTERVAL_SECONDS)
    raise RemediationError(
        f"trail {trail_arn} is not logging all management events after {VERIFY_ATTEMPTS} reads "
        f"(IsLogging {logging}, selectors {selectors.get('EventSelectors') or selectors.get('AdvancedEventSelectors')})"
    )


def create_trail(event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep) -> dict[str, str]:
    cloudtrail = boto3.client("cloudtrail", config=BOTO_CONFIG)
    account = boto3.client("sts", config=BOTO_CONFIG).get_caller_identity()["Account"]
    trail = _existing_trail(cloudtrail)
    changes = []
    if trail is not None and not trail.get("IsMultiRegionTrail"):
        cloudtrail.update_trail(Name=TRAIL_NAME, IsMultiRegionTrail=True, IncludeGlobalServiceEvents=True)
        trail = _existing_trail(cloudtrail)
        changes.append("Trail made multi-Region")
    candidates = _own_multi_region_trails(cloudtrail, account)
    compliant = next((t for t in candidates if _compliant(t)), None)
    if compliant is not None and not changes:
        return {
            "TrailArn": compliant["TrailARN"],
            "Message": f"Multi-Region trail {compliant['Name']} (home Region {_home_region(compliant)}) already logs "
            "all management events; nothing changed.",
        }
    target = _trail_to_correct(candidates)
    if target is None:
        # CloudTrail.1 asks for a logging multi-Region trail, not for SSE-KMS: without a customer managed key
        # (RemediationKeyMode None) the log files are encrypted with SSE-S3, CloudTrail's default
        # (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/encrypting-cloudtrail-log-files-with-aws-kms.html).
        key = configured_key(event.get("KMSKeyArn", ""))
        encryption = {"KmsKeyId": key} if key else {}
        if key:
            _check_key(key)
        target = cloudtrail.create_trail(
            Name=TRAIL_NAME,
            S3BucketName=event["TrailBucket"],
            IsMultiRegionTrail=True,
            IncludeGlobalServiceEvents=True,
            EnableLogFileValidation=True,
            **encryption,
        )
        target.setdefault("Name", TRAIL_NAME)
        cloudtrail.put_event_selectors(TrailName=target["TrailARN"], EventSelectors=[dict(MANAGEMENT_SELECTOR)])
        changes.append(
            "Trail created"
            if key
            else "Trail created (log files encrypted with SSE-S3: no customer managed key is configured; "
            "CloudTrail.2 needs one)"
        )
    changes += _correct(target)
    _verify(target["TrailARN"], _home_region(target), sleep)
    return {
        "TrailArn": target["TrailARN"],
        "Message": "; ".join(changes) + "."
        if changes
        else f"Multi-Region trail {target['Name']} already logging; nothing changed.",
    }
