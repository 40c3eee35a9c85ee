"""Amazon ElastiCache controls (cache clusters and replication groups)."""

from __future__ import annotations

from typing import Any

from asr.controls.base import Context, EvaluationError, Resource, Verdict, control, failed, not_applicable, passed
from asr.controls.base import api_call as _call

DOC = "https://docs.aws.amazon.com/securityhub/latest/userguide/elasticache-controls.html"

# Engines the Redis OSS controls evaluate (Valkey is the Redis OSS-compatible engine).
_REDIS_ENGINES = ("redis", "valkey")


def _target(resource: Resource) -> tuple[str, str]:
    """``(kind, id)``: ``cluster`` or ``replicationgroup`` from the ARN, else from the type."""
    parts = resource.id.split(":", 6)
    if len(parts) == 7 and parts[0] == "arn" and parts[2] == "elasticache":
        return parts[5], parts[6]
    kind = "replicationgroup" if "ReplicationGroup" in resource.type else "cluster"
    return kind, resource.id


def _cache_cluster(control_id: str, ctx: Context, resource: Resource, ident: str) -> dict[str, Any]:
    elasticache = ctx.client("elasticache")
    found = _call(control_id, resource, elasticache.describe_cache_clusters, CacheClusterId=ident)["CacheClusters"]
    if not found:
        raise EvaluationError(f"{control_id}: cache cluster {resource.id!r} not found")
    return found[0]


def _replication_group(control_id: str, ctx: Context, resource: Resource, ident: str) -> dict[str, Any]:
    elasticache = ctx.client("elasticache")
    found = _call(control_id, resource, elasticache.describe_replication_groups, ReplicationGroupId=ident)[
        "ReplicationGroups"
    ]
    if not found:
        raise EvaluationError(f"{control_id}: replication group {ident!r} of {resource.id!r} not found")
    return found[0]


@control(
    "ElastiCache.1",
    doc=f"{DOC}#elasticache-1",
    resource_types=("AwsElastiCacheCacheCluster", "AwsElastiCacheReplicationGroup"),
    defaults={"snapshotRetentionPeriod": 1},
)
def redis_automatic_backups(ctx: Context, resource: Resource) -> Verdict:
    """ElastiCache.1 (Config rule elasticache-redis-cluster-automatic-backup-check): a Redis
    OSS cluster or replication group must keep automatic backups: NON_COMPLIANT if its
    ``SnapshotRetentionLimit`` is less than ``snapshotRetentionPeriod`` (Security Hub
    default 1 day). Backups of a cluster inside a replication group are set on the group,
    so such a cluster is judged by its replication group's ``SnapshotRetentionLimit``.
    Memcached clusters have no backups: NOT_APPLICABLE."""
    value = ctx.parameters["snapshotRetentionPeriod"]
    try:
        minimum = int(value)
    except (TypeError, ValueError):
        raise EvaluationError(f"ElastiCache.1: snapshotRetentionPeriod must be an integer, got {value!r}") from None
    kind, ident = _target(resource)
    if kind == "replicationgroup":
        group = _replication_group("ElastiCache.1", ctx, resource, ident)
        engine = group.get("Engine", "redis")
        holder = f"replication group {group['ReplicationGroupId']!r}"
    elif kind == "cluster":
        cluster = _cache_cluster("ElastiCache.1", ctx, resource, ident)
        engine = cluster.get("Engine", "")
        if engine not in _REDIS_ENGINES:
            return not_applicable(f"Engine is {engine!r}: automatic backups apply to Redis OSS and Valkey")
        if cluster.get("ReplicationGroupId"):
            group = _replication_group("ElastiCache.1", ctx, resource, cluster["ReplicationGroupId"])
            holder = f"replication group {group['ReplicationGroupId']!r} (of which the cluster is a member)"
        else:
            group = cluster
            holder = "cluster"
    else:
        raise EvaluationError(f"ElastiCache.1: {resource.id!r} is not a cache cluster or replication group")
    if engine not in _REDIS_ENGINES:
        return not_applicable(f"Engine is {engine!r}: automatic backups apply to Redis OSS and Valkey")
    limit = int(group.get("SnapshotRetentionLimit") or 0)
    if limit < minimum:
        return failed(f"SnapshotRetentionLimit of the {holder} is {limit}, less than snapshotRetentionPeriod {minimum}")
    return passed(f"SnapshotRetentionLimit of the {holder} is {limit} (snapshotRetentionPeriod {minimum})")


@control("ElastiCache.2", doc=f"{DOC}#elasticache-2", resource_types=("AwsElastiCacheCacheCluster",))
def auto_minor_version_upgrade(ctx: Context, resource: Resource) -> Verdict:
    """ElastiCache.2 (Config rule elasticache-auto-minor-version-upgrade-check): a cache
    cluster on the Redis OSS or Valkey engine is NON_COMPLIANT unless
    ``AutoMinorVersionUpgrade`` is true. Other engines (Memcached) are out of scope."""
    kind, ident = _target(resource)
    if kind != "cluster":
        raise EvaluationError(f"ElastiCache.2: {resource.id!r} is not a cache cluster")
    cluster = _cache_cluster("ElastiCache.2", ctx, resource, ident)
    engine = cluster.get("Engine", "")
    if engine not in _REDIS_ENGINES:
        return not_applicable(f"Engine is {engine!r}: the rule evaluates Redis OSS and Valkey clusters")
    value = cluster.get("AutoMinorVersionUpgrade")
    if value is True:
        return passed("AutoMinorVersionUpgrade is true")
    return failed(f"AutoMinorVersionUpgrade is {'false' if value is False else 'not set'}")


@control("ElastiCache.3", doc=f"{DOC}#elasticache-3", resource_types=("AwsElastiCacheReplicationGroup",))
def replication_group_automatic_failover(ctx: Context, resource: Resource) -> Verdict:
    """ElastiCache.3 (Config rule elasticache-repl-grp-auto-failover-enabled): NON_COMPLIANT
    for a replication group whose ``AutomaticFailover`` is not ``enabled``."""
    kind, ident = _target(resource)
    if kind != "replicationgroup":
        raise EvaluationError(f"ElastiCache.3: {resource.id!r} is not a replication group")
    group = _replication_group("ElastiCache.3", ctx, resource, ident)
    status = group.get("AutomaticFailover", "disabled")
    if status == "enabled":
        return passed("AutomaticFailover is 'enabled'")
    return failed(f"AutomaticFailover is {status!r}")
