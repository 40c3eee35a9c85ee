"""ASR-EnableCopyTagsToSnapshotOnRDSCluster: make one DB cluster copy its tags to snapshots."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _describe(rds: Any, identifier: str) -> dict[str, Any]:
    return rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"][0]


def _flag(value: Any) -> bool:
    """SSM hands Boolean parameters over as bool or as 'true'/'false'."""
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"


def enable_copy_tags_to_snapshot(event: dict[str, Any], _context: Any) -> dict[str, str]:
    """Set CopyTagsToSnapshot=true on the cluster if it is off."""
    identifier = event["DBClusterIdentifier"]
    apply_now = _flag(event.get("ApplyImmediately", False))
    rds = boto3.client("rds", config=BOTO_CONFIG)
    cluster = _describe(rds, identifier)
    before = bool(cluster.get("CopyTagsToSnapshot"))
    if not before:
        rds.modify_db_cluster(DBClusterIdentifier=identifier, CopyTagsToSnapshot=True, ApplyImmediately=apply_now)
    return {
        "DBClusterArn": cluster["DBClusterArn"],
        "CopyTagsToSnapshotBefore": str(before).lower(),
        "Message": "CopyTagsToSnapshot was already on; nothing changed." if before else "CopyTagsToSnapshot enabled.",
    }


def verify_copy_tags_to_snapshot(event: dict[str, Any], _context: Any) -> dict[str, str]:
    identifier = event["DBClusterIdentifier"]
    cluster = _describe(boto3.client("rds", config=BOTO_CONFIG), identifier)
    if not cluster.get("CopyTagsToSnapshot"):
        raise RemediationError(f"DB cluster {identifier} still has CopyTagsToSnapshot off after ModifyDBCluster")
    return {"DBClusterArn": cluster["DBClusterArn"], "CopyTagsToSnapshot": "true"}
