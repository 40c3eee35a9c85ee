"""ASR-EnableElastiCacheVersionUpgrades: turn on automatic minor version upgrades of one ElastiCache cluster."""

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


def _upgrades_on(ec: Any, cluster_id: str) -> bool:
    try:
        cluster = ec.describe_cache_clusters(CacheClusterId=cluster_id)["CacheClusters"][0]
    except ec.exceptions.CacheClusterNotFoundFault:
        raise RemediationError(
            f"ClusterId {cluster_id}: no such ElastiCache cluster in this account and Region"
        ) from None
    return bool(cluster.get("AutoMinorVersionUpgrade", False))


def _eventually_on(ec: Any, cluster_id: str, sleep: Callable[[float], None]) -> bool:
    """The setting read back until it is on or the attempts run out (the last read)."""
    value = _upgrades_on(ec, cluster_id)
    for _ in range(VERIFY_ATTEMPTS - 1):
        if value:
            break
        sleep(VERIFY_INTERVAL_SECONDS)
        value = _upgrades_on(ec, cluster_id)
    return value


def enable_version_upgrades(
    event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, str]:
    cluster_id = event["ClusterId"]
    ec = boto3.client("elasticache", config=BOTO_CONFIG)
    before = _upgrades_on(ec, cluster_id)
    if not before:
        ec.modify_cache_cluster(CacheClusterId=cluster_id, AutoMinorVersionUpgrade=True)
    after = _eventually_on(ec, cluster_id, sleep)
    if not after:
        raise RemediationError(f"ClusterId {cluster_id}: automatic minor version upgrade is still off after the change")
    return {
        "ClusterId": cluster_id,
        "AutoMinorVersionUpgradeBefore": str(before).lower(),
        "AutoMinorVersionUpgradeAfter": str(after).lower(),
        "Message": "Automatic minor version upgrades enabled."
        if not before
        else "Automatic minor version upgrades were already enabled; nothing changed.",
    }
