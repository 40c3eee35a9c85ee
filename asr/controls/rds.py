"""Amazon RDS controls (snapshots, DB instances, DB clusters).

Every evaluator reads the resource with the RDS API (``Describe*``) and decides from
the field its AWS Config rule names. Resources are addressed by their ARN
(``arn:aws:rds:<region>:<account>:<kind>:<identifier>``); the identifier of an
automated snapshot itself contains a colon (``rds:mydb-2024-01-01-00-00``), so it is
taken from the ARN rather than from :attr:`Resource.name`.
"""

from __future__ import annotations

from typing import Any

from asr.controls.base import Context, EvaluationError, Resource, Verdict, control, failed, not_applicable, passed
from asr.controls.base import api_call as _call

DOC = "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html"

# Engines whose DB instances the instance-level Config rules leave to their cluster.
_CLUSTER_ENGINES = ("aurora", "docdb", "neptune")

# RDS.8 databaseEngines, as the Security Hub control reference lists them (not customizable).
RDS8_ENGINES = (
    "mariadb",
    "mysql",
    "custom-oracle-ee",
    "oracle-ee-cdb",
    "oracle-se2-cdb",
    "oracle-ee",
    "oracle-se2",
    "oracle-se1",
    "oracle-se",
    "postgres",
    "sqlserver-ee",
    "sqlserver-se",
    "sqlserver-ex",
    "sqlserver-web",
)

MONITORING_INTERVALS = (1, 5, 10, 15, 30, 60)


def _target(resource: Resource) -> tuple[str, str]:
    """``(kind, identifier)`` of an RDS ARN (``db``, ``cluster``, ``snapshot``, ``cluster-snapshot``).

    A bare identifier (not an ARN) gives ``("", identifier)``.
    """
    parts = resource.id.split(":", 6)
    if len(parts) == 7 and parts[0] == "arn" and parts[2] == "rds":
        return parts[5], parts[6]
    return "", resource.id


def _instance(control_id: str, ctx: Context, resource: Resource) -> dict[str, Any]:
    kind, ident = _target(resource)
    if kind not in ("", "db"):
        raise EvaluationError(f"{control_id}: {resource.id!r} is not an RDS DB instance")
    rds = ctx.client("rds")
    found = _call(control_id, resource, rds.describe_db_instances, DBInstanceIdentifier=ident)["DBInstances"]
    if not found:
        raise EvaluationError(f"{control_id}: DB instance {resource.id!r} not found")
    return found[0]


def _cluster(control_id: str, ctx: Context, resource: Resource) -> dict[str, Any]:
    kind, ident = _target(resource)
    if kind not in ("", "cluster"):
        raise EvaluationError(f"{control_id}: {resource.id!r} is not an RDS DB cluster")
    rds = ctx.client("rds")
    found = _call(control_id, resource, rds.describe_db_clusters, DBClusterIdentifier=ident)["DBClusters"]
    if not found:
        raise EvaluationError(f"{control_id}: DB cluster {resource.id!r} not found")
    return found[0]


def _is_cluster_snapshot(control_id: str, resource: Resource) -> tuple[bool, str]:
    kind, ident = _target(resource)
    if kind == "cluster-snapshot" or (not kind and resource.type == "AwsRdsDbClusterSnapshot"):
        return True, ident
    if kind == "snapshot" or not kind:
        return False, ident
    raise EvaluationError(f"{control_id}: {resource.id!r} is not an RDS DB snapshot or DB cluster snapshot")


def _snapshot_type(ident: str) -> dict[str, str]:
    # DescribeDB(Cluster)Snapshots needs SnapshotType to find an automated snapshot by identifier.
    return {"SnapshotType": "automated"} if ident.startswith("rds:") else {}


def _engine_is(engine: str, families: tuple[str, ...]) -> bool:
    return any(engine == f or engine.startswith(f"{f}-") for f in families)


@control(
    "RDS.1",
    doc=f"{DOC}#rds-1",
    resource_types=("AwsRdsDbSnapshot", "AwsRdsDbClusterSnapshot"),
)
def snapshot_not_public(ctx: Context, resource: Resource) -> Verdict:
    """RDS.1 (Config rule rds-snapshots-public-prohibited): an RDS DB snapshot or DB cluster
    snapshot must not be public. A snapshot is public when its ``restore`` attribute lists
    ``all`` (shared with every AWS account); sharing with named accounts is not public."""
    rds = ctx.client("rds")
    cluster, ident = _is_cluster_snapshot("RDS.1", resource)
    if cluster:
        result = _call(
            "RDS.1", resource, rds.describe_db_cluster_snapshot_attributes, DBClusterSnapshotIdentifier=ident
        )["DBClusterSnapshotAttributesResult"]["DBClusterSnapshotAttributes"]
    else:
        result = _call("RDS.1", resource, rds.describe_db_snapshot_attributes, DBSnapshotIdentifier=ident)[
            "DBSnapshotAttributesResult"
        ]["DBSnapshotAttributes"]
    restore = [v for attr in result if attr.get("AttributeName") == "restore" for v in attr.get("AttributeValues", [])]
    if "all" in restore:
        return failed("restore attribute includes 'all': the snapshot is public")
    shared = f"shared with {sorted(restore)}" if restore else "empty"
    return passed(f"restore attribute does not include 'all' ({shared})")


@control("RDS.2", doc=f"{DOC}#rds-2", resource_types=("AwsRdsDbInstance",))
def instance_not_publicly_accessible(ctx: Context, resource: Resource) -> Verdict:
    """RDS.2 (Config rule rds-instance-public-access-check): NON_COMPLIANT if the DB
    instance's ``PubliclyAccessible`` field is true. Neptune and DocumentDB instances have
    no such flag and cannot be evaluated (the control page says so): NOT_APPLICABLE."""
    inst = _instance("RDS.2", ctx, resource)
    engine = inst.get("Engine", "")
    if _engine_is(engine, ("docdb", "neptune")):
        return not_applicable(f"Engine is {engine!r}: it has no PubliclyAccessible flag to evaluate")
    if inst.get("PubliclyAccessible", False):
        return failed("PubliclyAccessible is true")
    return passed("PubliclyAccessible is false")


@control(
    "RDS.4",
    doc=f"{DOC}#rds-4",
    resource_types=("AwsRdsDbSnapshot", "AwsRdsDbClusterSnapshot"),
)
def snapshot_encrypted(ctx: Context, resource: Resource) -> Verdict:
    """RDS.4 (Config rule rds-snapshot-encrypted): NON_COMPLIANT if an RDS DB snapshot
    (``Encrypted``) or DB cluster snapshot (``StorageEncrypted``) is not encrypted. Manual
    and automated snapshots alike."""
    rds = ctx.client("rds")
    cluster, ident = _is_cluster_snapshot("RDS.4", resource)
    if cluster:
        found = _call(
            "RDS.4",
            resource,
            rds.describe_db_cluster_snapshots,
            DBClusterSnapshotIdentifier=ident,
            **_snapshot_type(ident),
        )["DBClusterSnapshots"]
        field = "StorageEncrypted"
    else:
        found = _call(
            "RDS.4", resource, rds.describe_db_snapshots, DBSnapshotIdentifier=ident, **_snapshot_type(ident)
        )["DBSnapshots"]
        field = "Encrypted"
    if not found:
        raise EvaluationError(f"RDS.4: snapshot {resource.id!r} not found")
    if found[0].get(field):
        return passed(f"{field} is true")
    return failed(f"{field} is false")


@control("RDS.5", doc=f"{DOC}#rds-5", resource_types=("AwsRdsDbInstance",))
def instance_multi_az(ctx: Context, resource: Resource) -> Verdict:
    """RDS.5 (Config rule rds-multi-az-support): the DB instance's current ``MultiAZ`` must
    be true. A Multi-AZ change still pending (``PendingModifiedValues``) does not count.
    The rule does not evaluate Aurora, DocumentDB or Neptune instances: NOT_APPLICABLE."""
    inst = _instance("RDS.5", ctx, resource)
    engine = inst.get("Engine", "")
    if _engine_is(engine, _CLUSTER_ENGINES):
        return not_applicable(f"Engine is {engine!r}: the rule does not evaluate Aurora, DocumentDB or Neptune")
    if inst.get("MultiAZ"):
        return passed("MultiAZ is true")
    pending = inst.get("PendingModifiedValues", {}).get("MultiAZ")
    if pending:
        return failed("MultiAZ is false (MultiAZ true is only a pending modification)")
    return failed("MultiAZ is false")


@control(
    "RDS.6",
    doc=f"{DOC}#rds-6",
    resource_types=("AwsRdsDbInstance",),
    defaults={"monitoringInterval": None},
)
def instance_enhanced_monitoring(ctx: Context, resource: Resource) -> Verdict:
    """RDS.6 (Config rule rds-enhanced-monitoring-enabled): NON_COMPLIANT if the DB
    instance's ``MonitoringInterval`` is 0, or, when the ``monitoringInterval`` parameter is
    set (1, 5, 10, 15, 30 or 60 seconds; Security Hub has no default), differs from it."""
    wanted = ctx.parameters.get("monitoringInterval")
    if wanted is not None:
        try:
            wanted = int(wanted)
        except (TypeError, ValueError):
            raise EvaluationError(f"RDS.6: monitoringInterval must be an integer, got {wanted!r}") from None
        if wanted not in MONITORING_INTERVALS:
            raise EvaluationError(f"RDS.6: monitoringInterval must be one of {MONITORING_INTERVALS}, got {wanted}")
    inst = _instance("RDS.6", ctx, resource)
    interval = int(inst.get("MonitoringInterval") or 0)
    if interval == 0:
        return failed("MonitoringInterval is 0: enhanced monitoring is off")
    if wanted is not None and interval != wanted:
        return failed(f"MonitoringInterval is {interval}, not the required {wanted}")
    return passed(f"MonitoringInterval is {interval}")


@control("RDS.7", doc=f"{DOC}#rds-7", resource_types=("AwsRdsDbCluster",))
def cluster_deletion_protection(ctx: Context, resource: Resource) -> Verdict:
    """RDS.7 (Config rule rds-cluster-deletion-protection-enabled): NON_COMPLIANT if the DB
    cluster's ``DeletionProtection`` is not enabled."""
    cluster = _cluster("RDS.7", ctx, resource)
    if cluster.get("DeletionProtection"):
        return passed("DeletionProtection is true")
    return failed("DeletionProtection is false")


@control(
    "RDS.8",
    doc=f"{DOC}#rds-8",
    resource_types=("AwsRdsDbInstance",),
    defaults={"databaseEngines": list(RDS8_ENGINES)},
)
def instance_deletion_protection(ctx: Context, resource: Resource) -> Verdict:
    """RDS.8 (Config rule rds-instance-deletion-protection-enabled): a DB instance whose
    engine is in ``databaseEngines`` must have ``DeletionProtection`` enabled. Other engines
    are out of scope, and so are instances in a DB cluster (deletion protection is set on
    the cluster; the rule reports them not applicable)."""
    engines = ctx.parameters.get("databaseEngines") or []
    if isinstance(engines, str):
        engines = [e.strip() for e in engines.split(",") if e.strip()]
    inst = _instance("RDS.8", ctx, resource)
    engine = inst.get("Engine", "")
    if engine not in engines:
        return not_applicable(f"Engine is {engine!r}, not one of databaseEngines")
    if inst.get("DBClusterIdentifier"):
        return not_applicable(
            f"DBClusterIdentifier is {inst['DBClusterIdentifier']!r}: deletion protection is set on the cluster"
        )
    if inst.get("DeletionProtection"):
        return passed("DeletionProtection is true")
    return failed("DeletionProtection is false")


@control("RDS.13", doc=f"{DOC}#rds-13", resource_types=("AwsRdsDbInstance",))
def instance_auto_minor_version_upgrade(ctx: Context, resource: Resource) -> Verdict:
    """RDS.13 (Config rule rds-automatic-minor-version-upgrade-enabled): NON_COMPLIANT if
    the DB instance's ``AutoMinorVersionUpgrade`` is not true."""
    inst = _instance("RDS.13", ctx, resource)
    if inst.get("AutoMinorVersionUpgrade"):
        return passed("AutoMinorVersionUpgrade is true")
    return failed("AutoMinorVersionUpgrade is false")


@control("RDS.16", doc=f"{DOC}#rds-16", resource_types=("AwsRdsDbCluster",))
def cluster_copy_tags_to_snapshot(ctx: Context, resource: Resource) -> Verdict:
    """RDS.16 (Config rule rds-cluster-copy-tags-to-snapshots-enabled, a Security Hub custom
    rule): the DB cluster must copy its tags to snapshots (``CopyTagsToSnapshot`` true)."""
    cluster = _cluster("RDS.16", ctx, resource)
    if cluster.get("CopyTagsToSnapshot"):
        return passed("CopyTagsToSnapshot is true")
    return failed("CopyTagsToSnapshot is false")
