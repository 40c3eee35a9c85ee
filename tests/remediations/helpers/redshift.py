"""Redshift builders and read-backs on moto."""

from __future__ import annotations

from typing import Any

# The settings a remediation must leave alone, compared before and after a run ("nothing else changed").
CLUSTER_KEYS = ("PubliclyAccessible", "AutomatedSnapshotRetentionPeriod", "AllowVersionUpgrade", "NodeType",
                "Encrypted", "NumberOfNodes", "PreferredMaintenanceWindow")

# ClusterIdentifier values every Redshift document's pattern must reject.
MALFORMED_CLUSTER_IDENTIFIERS = [
    "Analytics", "analytics-", "a--b", "arn:aws:redshift:us-east-1:111111111111:cluster:analytics",
]


def make_cluster(redshift, name: str, **extra: Any) -> str:
    """A dc2.large cluster; ``extra`` goes to create_cluster. Returns its identifier."""
    redshift.create_cluster(ClusterIdentifier=name, NodeType="dc2.large", MasterUsername="admin1",
                            MasterUserPassword="Password123", **extra)
    return name


def cluster_state(redshift, name: str) -> dict[str, Any]:
    cluster = redshift.describe_clusters(ClusterIdentifier=name)["Clusters"][0]
    return {k: cluster.get(k) for k in CLUSTER_KEYS}
