"""ASR-EnableElastiCacheBackups: keep automatic backups of one ElastiCache cluster or replication group."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _retention(event: dict[str, Any]) -> int:
    raw = event["SnapshotRetentionPeriod"]
    try:
        value = int(str(raw))
    except ValueError:
        raise RemediationError(f"SnapshotRetentionPeriod {raw!r}: not a whole number of days") from None
    if not 1 <= value <= 35:
        raise RemediationError(f"SnapshotRetentionPeriod {value}: must be between 1 and 35 days")
    return value


def _same_resource(arn: str, found: str) -> None:
    if found != arn:
        raise RemediationError(f"ResourceARN {arn}: not in this account and Region (found {found} here)")


def _cluster(ec: Any, arn: str, name: str) -> dict[str, Any]:
    try:
        cluster = ec.describe_cache_clusters(CacheClusterId=name)["CacheClusters"][0]
    except ec.exceptions.CacheClusterNotFoundFault:
        raise RemediationError(f"ResourceARN {arn}: no such ElastiCache cluster in this account and Region") from None
    _same_resource(arn, cluster["ARN"])
    if cluster.get("Engine") == "memcached":
        raise RemediationError(f"ResourceARN {arn}: a Memcached cluster has no backups")
    if cluster.get("ReplicationGroupId"):
        raise RemediationError(
            f"ResourceARN {arn}: cluster belongs to replication group {cluster['ReplicationGroupId']}; "
            "remediate the replication group's ARN instead"
        )
    if cluster.get("CacheClusterStatus") != "available":
        status = cluster.get("CacheClusterStatus")
        raise RemediationError(f"ResourceARN {arn}: cluster is {status}; retry when available")
    return cluster


def _group(ec: Any, arn: str, name: str) -> dict[str, Any]:
    try:
        group = ec.describe_replication_groups(ReplicationGroupId=name)["ReplicationGroups"][0]
    except ec.exceptions.ReplicationGroupNotFoundFault:
        raise RemediationError(f"ResourceARN {arn}: no such replication group in this account and Region") from None
    _same_resource(arn, group["ARN"])
    if group.get("Status") != "available":
        raise RemediationError(f"ResourceARN {arn}: replication group is {group.get('Status')}; retry when available")
    return group


def _set_group(ec: Any, group: dict[str, Any], days: int) -> None:
    kwargs: dict[str, Any] = {
        "ReplicationGroupId": group["ReplicationGroupId"], "SnapshotRetentionLimit": days, "ApplyImmediately": True,
    }
    if group.get("ClusterMode", "disabled") == "disabled" and not group.get("SnapshottingClusterId"):
        # with cluster mode disabled, backups are taken from one member: the first one, as the reference does
        kwargs["SnapshottingClusterId"] = group["MemberClusters"][0]
    ec.modify_replication_group(**kwargs)


def enable_backups(event: dict[str, Any], _context: Any) -> dict[str, str]:
    arn = event["ResourceARN"]
    days = _retention(event)
    kind, name = arn.split(":")[5], arn.split(":")[6]
    ec = boto3.client("elasticache", config=BOTO_CONFIG)
    if kind == "cluster":
        before = int(_cluster(ec, arn, name).get("SnapshotRetentionLimit") or 0)
        if before < days:
            ec.modify_cache_cluster(CacheClusterId=name, SnapshotRetentionLimit=days, ApplyImmediately=True)
        after = int(_cluster(ec, arn, name).get("SnapshotRetentionLimit") or 0)
    else:
        group = _group(ec, arn, name)
        before = int(group.get("SnapshotRetentionLimit") or 0)
        if before < days:
            _set_group(ec, group, days)
        after = int(_group(ec, arn, name).get("SnapshotRetentionLimit") or 0)
    if after < days:
        raise RemediationError(f"ResourceARN {arn}: backup retention is {after} days after the change, not {days}")
    return {
        "ResourceARN": arn,
        "RetentionBefore": str(before),
        "RetentionAfter": str(after),
        "Message": f"Automatic backups kept for {after} days."
        if before < days
        else f"Backups already kept for {before} days (at least {days}); nothing changed.",
    }
