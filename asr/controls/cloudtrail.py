"""AWS CloudTrail controls (trail settings, account-level trail coverage, the trail's S3 bucket)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asr.controls.base import (
    Context,
    EvaluationError,
    Resource,
    Status,
    Verdict,
    control,
    failed,
    not_applicable,
    passed,
)
from asr.controls.s3 import (
    as_bool,
    as_list,
    bucket_policy,
    call,
    public_access,
    server_access_logging,
    statement_allows_action,
    statements,
)

_DOC = "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudtrail-controls.html"


def _client(ctx: Context, region: str | None = None) -> Any:
    return ctx.session.client("cloudtrail", region_name=region or ctx.region or None)


def _trail(ctx: Context, resource: Resource, control_id: str) -> dict[str, Any]:
    """The trail named by the finding (its ARN); EvaluationError when it does not exist."""
    out = call(control_id, resource, _client(ctx).get_trail, Name=resource.id)
    trail = out.get("Trail")
    if not trail:
        raise EvaluationError(f"{control_id}: trail {resource.id!r} not found")
    return dict(trail)


def _trails(ctx: Context, resource: Resource, control_id: str) -> list[dict[str, Any]]:
    """Every trail that applies to the Region: its own trails and the shadows of multi-Region ones."""
    out = call(control_id, resource, _client(ctx).describe_trails, includeShadowTrails=True)
    return [dict(t) for t in out.get("trailList", [])]


def _home(trail: Mapping[str, Any], ctx: Context) -> str:
    home = trail.get("HomeRegion")
    if home:
        return str(home)
    parts = str(trail.get("TrailARN", "")).split(":")
    return parts[3] if len(parts) > 3 and parts[3] else ctx.region


def _is_logging(ctx: Context, resource: Resource, control_id: str, trail: Mapping[str, Any]) -> bool:
    client = _client(ctx, _home(trail, ctx))
    status = call(control_id, resource, client.get_trail_status, Name=trail["TrailARN"])
    return bool(status.get("IsLogging"))


_RW = {"All": {"read", "write"}, "ReadOnly": {"read"}, "WriteOnly": {"write"}}


def _required_rw(value: Any) -> set[str]:
    for name, kinds in _RW.items():
        if str(value).lower() == name.lower():
            return kinds
    raise EvaluationError(f"CloudTrail.1: readWriteType must be ALL, ReadOnly or WriteOnly, got {value!r}")


def _management_coverage(selectors: Mapping[str, Any], include_management: bool) -> tuple[set[str], list[str]]:
    """Which of read/write management events the trail's selectors record with no source excluded,
    and why the other selectors were not counted."""
    covered: set[str] = set()
    notes: list[str] = []
    for sel in selectors.get("EventSelectors") or []:
        rw = str(sel.get("ReadWriteType", "All"))
        excluded = sel.get("ExcludeManagementEventSources") or []
        if include_management and not sel.get("IncludeManagementEvents", True):
            notes.append("IncludeManagementEvents is false")
        elif excluded:
            notes.append(f"ExcludeManagementEventSources is {list(excluded)}")
        else:
            kinds = _RW.get(rw, set())
            covered |= kinds
            if kinds != _RW["All"]:
                notes.append(f"ReadWriteType is {rw!r}")
    for sel in selectors.get("AdvancedEventSelectors") or []:
        fields = {str(f.get("Field")): f for f in sel.get("FieldSelectors", [])}
        category = fields.get("eventCategory", {})
        if "Management" not in as_list(category.get("Equals")):
            continue
        others = sorted(set(fields) - {"eventCategory", "readOnly"})
        if others:
            notes.append(f"advanced selector {sel.get('Name', '')!r} filters management events on {others}")
            continue
        read_only = [str(v).lower() for v in as_list(fields.get("readOnly", {}).get("Equals"))]
        if read_only == ["true"]:
            covered.add("read")
            notes.append(f"advanced selector {sel.get('Name', '')!r} has readOnly true")
        elif read_only == ["false"]:
            covered.add("write")
            notes.append(f"advanced selector {sel.get('Name', '')!r} has readOnly false")
        else:
            covered |= _RW["All"]
    if not selectors.get("EventSelectors") and not selectors.get("AdvancedEventSelectors"):
        notes.append("no event selectors")
    return covered, notes


@control(
    "CloudTrail.1",
    doc=f"{_DOC}#cloudtrail-1",
    resource_types=("AwsAccount",),
    defaults={"readWriteType": "ALL", "includeManagementEvents": True},
    scope="account",
)
def multi_region_trail_enabled(ctx: Context, resource: Resource) -> Verdict:
    """CloudTrail.1 (Config rule multi-region-cloudtrail-enabled): at least one multi-Region trail
    must be logging and record management events of the readWriteType kind (ALL: read and
    write), with no management event source excluded (ExcludeManagementEventSources empty, no
    advanced selector filtering management events by eventSource)."""
    required = _required_rw(ctx.parameter("readWriteType"))
    include_management = as_bool(ctx.parameter("includeManagementEvents"))
    multi = [t for t in _trails(ctx, resource, "CloudTrail.1") if t.get("IsMultiRegionTrail")]
    if not multi:
        return failed("no trail has IsMultiRegionTrail true")
    problems = []
    for trail in multi:
        name = trail.get("Name", trail["TrailARN"])
        if not _is_logging(ctx, resource, "CloudTrail.1", trail):
            problems.append(f"trail {name!r}: IsLogging is false")
            continue
        client = _client(ctx, _home(trail, ctx))
        selectors = call("CloudTrail.1", resource, client.get_event_selectors, TrailName=trail["TrailARN"])
        covered, notes = _management_coverage(selectors, include_management)
        if required <= covered:
            return passed(
                f"multi-Region trail {name!r} is logging {' and '.join(sorted(required))} management events "
                "with no excluded event source"
            )
        problems.append(f"trail {name!r}: " + ("; ".join(notes) or f"records {sorted(covered)} management events"))
    return failed("no multi-Region trail logs the required management events: " + " | ".join(problems))


@control("CloudTrail.2", doc=f"{_DOC}#cloudtrail-2", resource_types=("AwsCloudTrailTrail",))
def encryption_enabled(ctx: Context, resource: Resource) -> Verdict:
    """CloudTrail.2 (Config rule cloud-trail-encryption-enabled): the trail's log files must be
    encrypted with SSE-KMS: the trail's KmsKeyId is defined."""
    trail = _trail(ctx, resource, "CloudTrail.2")
    if trail.get("KmsKeyId"):
        return passed(f"KmsKeyId is {trail['KmsKeyId']!r}")
    return failed("KmsKeyId is not set: log files are not encrypted with SSE-KMS")


@control(
    "CloudTrail.3",
    doc=f"{_DOC}#cloudtrail-3",
    resource_types=("AwsAccount",),
    scope="account",
)
def trail_enabled(ctx: Context, resource: Resource) -> Verdict:
    """CloudTrail.3 (Config rule cloudtrail-enabled): at least one CloudTrail trail applying to the
    Region (its own or a multi-Region trail's shadow) must be enabled, i.e. logging."""
    trails = _trails(ctx, resource, "CloudTrail.3")
    if not trails:
        return failed("no CloudTrail trail exists in the account for this Region")
    for trail in trails:
        if _is_logging(ctx, resource, "CloudTrail.3", trail):
            return passed(f"trail {trail.get('Name', trail['TrailARN'])!r} IsLogging is true")
    names = ", ".join(repr(t.get("Name", t["TrailARN"])) for t in trails)
    return failed(f"IsLogging is false for every trail ({names})")


@control("CloudTrail.4", doc=f"{_DOC}#cloudtrail-4", resource_types=("AwsCloudTrailTrail",))
def log_file_validation_enabled(ctx: Context, resource: Resource) -> Verdict:
    """CloudTrail.4 (Config rule cloud-trail-log-file-validation-enabled): the trail must have log
    file integrity validation enabled (LogFileValidationEnabled)."""
    trail = _trail(ctx, resource, "CloudTrail.4")
    if trail.get("LogFileValidationEnabled"):
        return passed("LogFileValidationEnabled is true")
    return failed("LogFileValidationEnabled is false")


@control("CloudTrail.5", doc=f"{_DOC}#cloudtrail-5", resource_types=("AwsCloudTrailTrail",))
def cloudwatch_logs_enabled(ctx: Context, resource: Resource) -> Verdict:
    """CloudTrail.5 (Config rule cloud-trail-cloud-watch-logs-enabled): the trail must send logs to
    CloudWatch Logs; it fails when the trail's CloudWatchLogsLogGroupArn is empty."""
    trail = _trail(ctx, resource, "CloudTrail.5")
    if trail.get("CloudWatchLogsLogGroupArn"):
        return passed(f"CloudWatchLogsLogGroupArn is {trail['CloudWatchLogsLogGroupArn']!r}")
    return failed("CloudWatchLogsLogGroupArn is empty")


def _trail_bucket(ctx: Context, resource: Resource, control_id: str) -> tuple[Resource, str | None]:
    """The CloudTrail log bucket the control is about, and why it is known to hold CloudTrail logs
    (None when nothing shows it does).

    A finding names the bucket (AwsS3Bucket) or, failing that, the trail (AwsCloudTrailTrail).
    A bucket is a CloudTrail bucket when a trail applying to the Region delivers to it, or when its
    bucket policy lets cloudtrail.amazonaws.com write objects (the grant every CloudTrail
    destination bucket needs, which also reveals central buckets fed from other accounts).
    """
    if resource.type == "AwsCloudTrailTrail":
        name = _trail(ctx, resource, control_id).get("S3BucketName")
        if not name:
            raise EvaluationError(f"{control_id}: trail {resource.id!r} has no S3BucketName")
        bucket = Resource(f"arn:{resource.partition}:s3:::{name}", "AwsS3Bucket", resource.account, resource.region)
        return bucket, f"trail {resource.name!r} delivers to it"
    for trail in _trails(ctx, resource, control_id):
        if trail.get("S3BucketName") == resource.name:
            return resource, f"trail {trail.get('Name', trail['TrailARN'])!r} delivers to it"
    for st in statements(bucket_policy(ctx, resource, control_id)):
        services = as_list(
            (st.get("Principal") or {}).get("Service") if isinstance(st.get("Principal"), dict) else None
        )
        if (
            st.get("Effect") == "Allow"
            and "cloudtrail.amazonaws.com" in services
            and statement_allows_action(st, "s3:PutObject")
        ):
            return resource, "its bucket policy lets cloudtrail.amazonaws.com write log files"
    return resource, None


@control("CloudTrail.6", doc=f"{_DOC}#cloudtrail-6", resource_types=("AwsS3Bucket", "AwsCloudTrailTrail"))
def trail_bucket_not_public(ctx: Context, resource: Resource) -> Verdict:
    """CloudTrail.6 (no Config rule of its own: Security Hub finds the CloudTrail log bucket, then
    applies the managed rules s3-bucket-public-read-prohibited and s3-bucket-public-write-prohibited):
    the S3 bucket that stores CloudTrail logs must not be publicly readable or writable through its
    policy or ACL, Block Public Access considered. A bucket that holds no CloudTrail logs is not
    applicable."""
    bucket, why = _trail_bucket(ctx, resource, "CloudTrail.6")
    if why is None:
        return not_applicable(
            f"bucket {bucket.name!r} is not a CloudTrail log bucket seen from this account and Region"
        )
    reasons = []
    for kind, adjective in (("read", "readable"), ("write", "writable")):
        verdict = public_access(ctx, bucket, "CloudTrail.6", kind)
        if verdict.status is not Status.PASSED:
            return failed(f"CloudTrail bucket {bucket.name!r} ({why}) is publicly {adjective}: {verdict.reason}")
        reasons.append(f"{kind}: {verdict.reason}")
    return passed(f"CloudTrail bucket {bucket.name!r} ({why}) is not public ({'; '.join(reasons)})")


@control("CloudTrail.7", doc=f"{_DOC}#cloudtrail-7", resource_types=("AwsS3Bucket", "AwsCloudTrailTrail"))
def trail_bucket_access_logging(ctx: Context, resource: Resource) -> Verdict:
    """CloudTrail.7 (no Config rule of its own: Security Hub finds the CloudTrail log bucket, then
    applies the managed rule s3-bucket-logging-enabled): server access logging must be enabled on
    the S3 bucket that stores CloudTrail logs. A bucket that holds no CloudTrail logs is not
    applicable."""
    bucket, why = _trail_bucket(ctx, resource, "CloudTrail.7")
    if why is None:
        return not_applicable(
            f"bucket {bucket.name!r} is not a CloudTrail log bucket seen from this account and Region"
        )
    verdict = server_access_logging(ctx, bucket, "CloudTrail.7")
    return Verdict(verdict.status, f"CloudTrail bucket {bucket.name!r} ({why}): {verdict.reason}")
