"""Amazon Redshift controls (provisioned clusters)."""

from __future__ import annotations

from typing import Any

from asr.controls.base import Context, EvaluationError, Resource, Verdict, control, failed, passed
from asr.controls.base import api_call as _call

DOC = "https://docs.aws.amazon.com/securityhub/latest/userguide/redshift-controls.html"


def _cluster(control_id: str, ctx: Context, resource: Resource) -> dict[str, Any]:
    redshift = ctx.client("redshift")
    found = _call(control_id, resource, redshift.describe_clusters, ClusterIdentifier=resource.name)["Clusters"]
    if not found:
        raise EvaluationError(f"{control_id}: Redshift cluster {resource.id!r} not found")
    return found[0]


def _flag(value: Any) -> bool:
    """A boolean control parameter, given as a bool or as Security Hub's string form."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


@control("Redshift.1", doc=f"{DOC}#redshift-1", resource_types=("AwsRedshiftCluster",))
def cluster_not_public(ctx: Context, resource: Resource) -> Verdict:
    """Redshift.1 (Config rule redshift-cluster-public-access-check): NON_COMPLIANT if the
    cluster's ``PubliclyAccessible`` field is true."""
    cluster = _cluster("Redshift.1", ctx, resource)
    if cluster.get("PubliclyAccessible"):
        return failed("PubliclyAccessible is true")
    return passed("PubliclyAccessible is false")


@control(
    "Redshift.3",
    doc=f"{DOC}#redshift-3",
    resource_types=("AwsRedshiftCluster",),
    defaults={"MinRetentionPeriod": 7},
)
def cluster_automatic_snapshots(ctx: Context, resource: Resource) -> Verdict:
    """Redshift.3 (Config rule redshift-backup-enabled): automated snapshots must be on
    (``AutomatedSnapshotRetentionPeriod`` not 0) and kept at least ``MinRetentionPeriod``
    days (Security Hub default 7)."""
    try:
        minimum = int(ctx.parameters["MinRetentionPeriod"])
    except (TypeError, ValueError):
        raise EvaluationError(
            f"Redshift.3: MinRetentionPeriod must be an integer, got {ctx.parameters['MinRetentionPeriod']!r}"
        ) from None
    cluster = _cluster("Redshift.3", ctx, resource)
    period = int(cluster.get("AutomatedSnapshotRetentionPeriod") or 0)
    if period == 0:
        return failed("AutomatedSnapshotRetentionPeriod is 0: automated snapshots are off")
    if period < minimum:
        return failed(f"AutomatedSnapshotRetentionPeriod is {period}, less than MinRetentionPeriod {minimum}")
    return passed(f"AutomatedSnapshotRetentionPeriod is {period} (MinRetentionPeriod {minimum})")


@control(
    "Redshift.4",
    doc=f"{DOC}#redshift-4",
    resource_types=("AwsRedshiftCluster",),
    defaults={"loggingEnabled": True},
)
def cluster_audit_logging(ctx: Context, resource: Resource) -> Verdict:
    """Redshift.4 (Config rule redshift-cluster-audit-logging-enabled, a Security Hub custom
    rule; parameter ``loggingEnabled`` = true): the cluster's audit logging status
    (``DescribeLoggingStatus.LoggingEnabled``) must match ``loggingEnabled``. Any log
    destination (S3 or CloudWatch Logs) counts."""
    wanted = _flag(ctx.parameters["loggingEnabled"])
    redshift = ctx.client("redshift")
    status = _call("Redshift.4", resource, redshift.describe_logging_status, ClusterIdentifier=resource.name)
    enabled = bool(status.get("LoggingEnabled"))
    where = status.get("LogDestinationType") or ("s3" if status.get("BucketName") else "")
    detail = f" (destination {where})" if enabled and where else ""
    if enabled == wanted:
        return passed(f"LoggingEnabled is {str(enabled).lower()}{detail}")
    return failed(f"LoggingEnabled is {str(enabled).lower()}, loggingEnabled requires {str(wanted).lower()}")


@control(
    "Redshift.6",
    doc=f"{DOC}#redshift-6",
    resource_types=("AwsRedshiftCluster",),
    defaults={"allowVersionUpgrade": True},
)
def cluster_major_version_upgrade(ctx: Context, resource: Resource) -> Verdict:
    """Redshift.6 (Config rule redshift-cluster-maintenancesettings-check; parameter
    ``allowVersionUpgrade`` = true): NON_COMPLIANT if automatic upgrades to major versions
    are disabled (the cluster's ``AllowVersionUpgrade`` differs from the parameter)."""
    wanted = _flag(ctx.parameters["allowVersionUpgrade"])
    cluster = _cluster("Redshift.6", ctx, resource)
    actual = bool(cluster.get("AllowVersionUpgrade"))
    if actual == wanted:
        return passed(f"AllowVersionUpgrade is {str(actual).lower()}")
    return failed(f"AllowVersionUpgrade is {str(actual).lower()}, allowVersionUpgrade requires {str(wanted).lower()}")
