"""Amazon ElastiCache ModifyCacheCluster, which moto 5.2 lacks (the settings of a cache cluster).

Amazon ElastiCache API Reference, ModifyCacheCluster
(https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_ModifyCacheCluster.html):
``CacheClusterId`` is required; the response is ``{"CacheCluster": ...}`` (the cluster as
DescribeCacheClusters shows it). Errors: CacheClusterNotFound (404) for an unknown cluster,
InvalidCacheClusterState (400) when the cluster is not ``available``, InvalidParameterValue and
InvalidParameterCombination (400) for bad input.

Emulated settings, which take effect at once whatever ``ApplyImmediately`` says (they are not
pending node modifications): ``AutoMinorVersionUpgrade``; ``SnapshotRetentionLimit`` (days, 0 turns
backups off; up to 35, https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/backups-automatic.html)
and ``SnapshotWindow`` (``hh24:mi-hh24:mi``), which Memcached clusters do not have;
``PreferredMaintenanceWindow`` (``ddd:hh24:mi-ddd:hh24:mi``); ``NotificationTopicArn``. Any other
setting is refused naming it, so that no caller believes a change moto cannot show.
"""

from __future__ import annotations

import re
from typing import Any

from moto.core.responses import ActionResult
from moto.elasticache.exceptions import (
    ElastiCacheException,
    InvalidParameterCombinationException,
    InvalidParameterValueException,
)
from moto.elasticache.models import CacheCluster, ElastiCacheBackend
from moto.elasticache.responses import ElastiCacheResponse

from asr.simulator.emulation import extends

MAX_RETENTION_DAYS = 35
SNAPSHOT_WINDOW = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d-(?:[01]\d|2[0-3]):[0-5]\d$")
MAINTENANCE_WINDOW = re.compile(
    r"^(?:sun|mon|tue|wed|thu|fri|sat):(?:[01]\d|2[0-3]):[0-5]\d-(?:sun|mon|tue|wed|thu|fri|sat):(?:[01]\d|2[0-3]):[0-5]\d$"
)
EMULATED = {
    "CacheClusterId",
    "ApplyImmediately",
    "AutoMinorVersionUpgrade",
    "SnapshotRetentionLimit",
    "SnapshotWindow",
    "PreferredMaintenanceWindow",
    "NotificationTopicArn",
}


class InvalidCacheClusterState(ElastiCacheException):
    code = "InvalidCacheClusterState"


class NotEmulated(ElastiCacheException):
    code = "InvalidParameterValue"


@extends(ElastiCacheBackend)
def modify_cache_cluster(self: ElastiCacheBackend, cache_cluster_id: str, **changes: Any) -> CacheCluster:
    [cluster] = self.describe_cache_clusters(cache_cluster_id)  # CacheClusterNotFound when unknown
    if cluster.cache_cluster_status != "available":
        raise InvalidCacheClusterState(
            f"Cache cluster {cache_cluster_id} is not in available state (it is {cluster.cache_cluster_status})."
        )
    retention, window = changes.get("snapshot_retention_limit"), changes.get("snapshot_window")
    if (retention is not None or window is not None) and cluster.engine == "memcached":
        raise InvalidParameterCombinationException(
            "SnapshotRetentionLimit and SnapshotWindow are not supported for the memcached engine."
        )
    if retention is not None and not 0 <= retention <= MAX_RETENTION_DAYS:
        raise InvalidParameterValueException(
            f"The parameter SnapshotRetentionLimit must be between 0 and {MAX_RETENTION_DAYS}, got {retention}."
        )
    if window is not None and not SNAPSHOT_WINDOW.match(window):
        raise InvalidParameterValueException(f"The parameter SnapshotWindow {window!r} is not hh24:mi-hh24:mi.")
    maintenance = changes.get("preferred_maintenance_window")
    if maintenance is not None and not MAINTENANCE_WINDOW.match(maintenance.lower()):
        raise InvalidParameterValueException(
            f"The parameter PreferredMaintenanceWindow {maintenance!r} is not ddd:hh24:mi-ddd:hh24:mi."
        )
    for attribute, value in changes.items():
        if value is not None:
            setattr(cluster, attribute, value)
    return cluster


@extends(ElastiCacheResponse)
def modify_cache_cluster(self: ElastiCacheResponse) -> ActionResult:  # noqa: F811 -- the response method
    given = set(self._get_params())
    unknown = sorted(given - EMULATED)
    if unknown:
        raise NotEmulated(f"ModifyCacheCluster: {', '.join(unknown)} not emulated (asr/simulator/emulation)")
    cluster_id = self._get_param("CacheClusterId")
    if not cluster_id:
        raise InvalidParameterValueException("The parameter CacheClusterId must be provided.")
    cluster = self.elasticache_backend.modify_cache_cluster(
        cluster_id,
        auto_minor_version_upgrade=self._get_bool_param("AutoMinorVersionUpgrade"),
        snapshot_retention_limit=self._get_int_param("SnapshotRetentionLimit"),
        snapshot_window=self._get_param("SnapshotWindow"),
        preferred_maintenance_window=self._get_param("PreferredMaintenanceWindow"),
        notification_topic_arn=self._get_param("NotificationTopicArn"),
    )
    return ActionResult({"CacheCluster": cluster})
