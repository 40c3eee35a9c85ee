"""ASR-EnableRDSClusterDeletionProtection: turn on deletion protection for one DB cluster."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _describe(rds: Any, identifier: str) -> dict[str, Any]:
    return rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"][0]


def enable_cluster_deletion_protection(event: dict[str, Any], _context: Any) -> dict[str, str]:
    """Set DeletionProtection=true on the cluster if it is off."""
    identifier = event["DBClusterIdentifier"]
    rds = boto3.client("rds", config=BOTO_CONFIG)
    cluster = _describe(rds, identifier)
    before = bool(cluster.get("DeletionProtection"))
    if not before:
        # Deletion protection takes effect at once; ApplyImmediately is not sent so that the
        # cluster's other pending modifications stay pending.
        rds.modify_db_cluster(DBClusterIdentifier=identifier, DeletionProtection=True)
    return {
        "DBClusterArn": cluster["DBClusterArn"],
        "DeletionProtectionBefore": str(before).lower(),
        "Message": "Deletion protection was already on; nothing changed." if before else "Deletion protection enabled.",
    }


def verify_cluster_deletion_protection(event: dict[str, Any], _context: Any) -> dict[str, str]:
    identifier = event["DBClusterIdentifier"]
    cluster = _describe(boto3.client("rds", config=BOTO_CONFIG), identifier)
    if not cluster.get("DeletionProtection"):
        raise RemediationError(f"DB cluster {identifier} still has deletion protection off after ModifyDBCluster")
    return {"DBClusterArn": cluster["DBClusterArn"], "DeletionProtection": "true"}
