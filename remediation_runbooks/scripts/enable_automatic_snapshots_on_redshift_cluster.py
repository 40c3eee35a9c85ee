"""ASR-EnableAutomaticSnapshotsOnRedshiftCluster: keep automated snapshots at least N days."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
MAX_RETENTION_DAYS = 35


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _describe(redshift: Any, identifier: str) -> dict[str, Any]:
    try:
        return redshift.describe_clusters(ClusterIdentifier=identifier)["Clusters"][0]
    except redshift.exceptions.ClusterNotFoundFault:
        raise RemediationError(
            f"ClusterIdentifier {identifier}: no such Redshift cluster in this account and Region"
        ) from None


def _minimum(event: dict[str, Any]) -> int:
    raw = event["MinRetentionPeriod"]
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= MAX_RETENTION_DAYS:
        raise RemediationError(f"MinRetentionPeriod {raw!r}: must be a whole number of days from 1 to 35")
    return value


def enable_automatic_snapshots(event: dict[str, Any], _context: Any) -> dict[str, str]:
    """Raise AutomatedSnapshotRetentionPeriod to the minimum; never lower it."""
    identifier = event["ClusterIdentifier"]
    minimum = _minimum(event)
    redshift = boto3.client("redshift", config=BOTO_CONFIG)
    before = int(_describe(redshift, identifier).get("AutomatedSnapshotRetentionPeriod") or 0)
    if before < minimum:
        redshift.modify_cluster(ClusterIdentifier=identifier, AutomatedSnapshotRetentionPeriod=minimum)
    return {
        "ClusterIdentifier": identifier,
        "RetentionPeriodBefore": str(before),
        "RetentionPeriodAfter": str(max(before, minimum)),
        "Message": (
            f"Automated snapshot retention raised from {before} to {minimum} days."
            if before < minimum
            else f"Retention is already {before} days (minimum {minimum}); nothing changed."
        ),
    }


def verify_automatic_snapshots(event: dict[str, Any], _context: Any) -> dict[str, str]:
    identifier = event["ClusterIdentifier"]
    minimum = _minimum(event)
    actual = int(_describe(boto3.client("redshift", config=BOTO_CONFIG), identifier).get(
        "AutomatedSnapshotRetentionPeriod"
    ) or 0)
    if actual < minimum:
        raise RemediationError(
            f"Redshift cluster {identifier} keeps automated snapshots {actual} days after ModifyCluster; "
            f"expected at least {minimum}"
        )
    return {"ClusterIdentifier": identifier, "RetentionPeriod": str(actual)}
