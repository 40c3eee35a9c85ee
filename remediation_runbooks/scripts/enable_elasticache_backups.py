"""ASR-EnableElastiCacheBackups: keep automatic backups of one ElastiCache cluster or replication group.

The backups of a cluster that belongs to a replication group are the group's: the group is modified
(https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/backups-automatic.html).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
# ElastiCache shows a modification after a while: read it back for up to 2 minutes.
VERIFY_ATTEMPTS = 13
VERIFY_INTERVAL_SECONDS = 10


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


def _described_cluster(ec: Any, arn: str, name: str) -> dict[str, Any]:
    try:
        cluster = ec.describe_cache_clusters(CacheClusterId=name)["CacheClusters"][0]
    except ec.exceptions.CacheClusterNotFoundFault:
        raise RemediationError(f"ResourceARN {arn}: no such ElastiCache cluster in this account and Region") from None
    _same_resource(arn, cluster["ARN"])
    return cluster


def _cluster(ec: Any, arn: str, name: str) -> dict[str, Any]:
    cluster = _described_cluster(ec, arn, name)
    if cluster.get("Engine") == "memcached":
        raise RemediationError(f"ResourceARN {arn}: a Memcached cluster has no backups")
    if cluster.get("ReplicationGroupId"):
        return cluster  # its backups are its group's: the group's status is what counts
    if cluster.get("CacheClusterStatus") != "available":
        status = cluster.get("CacheClusterStatus")
        raise RemediationError(f"ResourceARN {arn}: cluster is {status}; retry when available")
    return cluster


def _described_group(ec: Any, arn: str, name: str) -> dict[str, Any]:
    try:
        group = ec.describe_replication_groups(ReplicationGroupId=name)["ReplicationGroups"][0]
    except ec.exceptions.ReplicationGroupNotFoundFault:
        raise RemediationError(f"ResourceARN {arn}: no such replication group in this account and Region") from None
    _same_resource(arn, group["ARN"])
    return group


def _group(ec: Any, arn: str, name: str) -> dict[str, Any]:
    group = _described_group(ec, arn, name)
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


def _eventually(read: Callable[[], int], days: int, sleep: Callable[[float], None]) -> int:
    """The retention read back until it is at least ``days`` or the attempts run out (the last read)."""
    value = read()
    for _ in range(VERIFY_ATTEMPTS - 1):
        if value >= days:
            break
        sleep(VERIFY_INTERVAL_SECONDS)
        value = read()
    return value


def enable_backups(event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep) -> dict[str, str]:
    arn = event["ResourceARN"]
    days = _retention(event)
    kind, name = arn.split(":")[5], arn.split(":")[6]
    ec = boto3.client("elasticache", config=BOTO_CONFIG)
    holder = ""
    if kind == "cluster":
        cluster = _cluster(ec, arn, name)
        if cluster.get("ReplicationGroupId"):
            kind, name = "replicationgroup", cluster["ReplicationGroupId"]
            holder = arn.rsplit(":", 2)[0] + f":replicationgroup:{name}"
    if kind == "cluster":
        before = int(cluster.get("SnapshotRetentionLimit") or 0)
        if before < days:
            ec.modify_cache_cluster(CacheClusterId=name, SnapshotRetentionLimit=days, ApplyImmediately=True)
        after = _eventually(lambda: int(_described_cluster(ec, arn, name).get("SnapshotRetentionLimit") or 0), days,
                            sleep)
    else:
        group_arn = holder or arn
        group = _group(ec, group_arn, name)
        before = int(group.get("SnapshotRetentionLimit") or 0)
        if before < days:
            _set_group(ec, group, days)
        after = _eventually(lambda: int(_described_group(ec, group_arn, name).get("SnapshotRetentionLimit") or 0),
                            days, sleep)
    if after < days:
        raise RemediationError(f"ResourceARN {arn}: backup retention is {after} days after the change, not {days}")
    where = f" (set on its replication group {holder})" if holder else ""
    return {
        "ResourceARN": arn,
        "ReplicationGroup": holder,
        "RetentionBefore": str(before),
        "RetentionAfter": str(after),
        "Message": f"Automatic backups kept for {after} days{where}."
        if before < days
        else f"Backups already kept for {before} days (at least {days}){where}; nothing changed.",
    }
