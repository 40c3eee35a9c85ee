"""Amazon Athena controls."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from asr.controls.base import Context, EvaluationError, Resource, Verdict, control, failed, passed


@control(
    "Athena.4",
    doc="https://docs.aws.amazon.com/securityhub/latest/userguide/athena-controls.html#athena-4",
    resource_types=("AwsAthenaWorkGroup",),
)
def workgroup_logging_enabled(ctx: Context, resource: Resource) -> Verdict:
    """Athena.4 (Config rule athena-workgroup-logging-enabled): the workgroup must publish its
    usage metrics to Amazon CloudWatch; it fails when the workgroup's
    Configuration.PublishCloudWatchMetricsEnabled is false."""
    athena = ctx.session.client("athena", region_name=ctx.region or None)
    try:
        workgroup = athena.get_work_group(WorkGroup=resource.name).get("WorkGroup")
    except (ClientError, BotoCoreError) as err:
        raise EvaluationError(f"Athena.4: cannot read workgroup {resource.id!r}: {err}") from None
    if not workgroup:
        raise EvaluationError(f"Athena.4: workgroup {resource.id!r} not found")
    enabled = (workgroup.get("Configuration") or {}).get("PublishCloudWatchMetricsEnabled", False)
    if enabled:
        return passed("PublishCloudWatchMetricsEnabled is true")
    return failed("PublishCloudWatchMetricsEnabled is false")
