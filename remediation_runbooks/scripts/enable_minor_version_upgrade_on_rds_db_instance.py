"""ASR-EnableMinorVersionUpgradeOnRDSDBInstance: turn on automatic minor version upgrades."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _target(rds: Any, identifier: str) -> tuple[str, dict[str, Any]]:
    """('cluster', cluster) for a Multi-AZ DB cluster member, else ('instance', instance).

    RDS keeps AutoMinorVersionUpgrade of a Multi-AZ DB cluster on the cluster and refuses
    ModifyDBInstance on its members; Aurora instances carry their own setting.
    """
    db = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    cluster_id = db.get("DBClusterIdentifier")
    if cluster_id and not db["Engine"].startswith("aurora"):
        return "cluster", rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]
    return "instance", db


def _arn(kind: str, resource: dict[str, Any]) -> str:
    return resource["DBClusterArn"] if kind == "cluster" else resource["DBInstanceArn"]


def enable_minor_version_upgrade(event: dict[str, Any], _context: Any) -> dict[str, str]:
    """Set AutoMinorVersionUpgrade=true on the instance (or its Multi-AZ DB cluster) if off."""
    identifier = event["DBInstanceIdentifier"]
    rds = boto3.client("rds", config=BOTO_CONFIG)
    kind, resource = _target(rds, identifier)
    before = bool(resource.get("AutoMinorVersionUpgrade"))
    if not before and kind == "cluster":
        rds.modify_db_cluster(DBClusterIdentifier=resource["DBClusterIdentifier"], AutoMinorVersionUpgrade=True)
    elif not before:
        rds.modify_db_instance(DBInstanceIdentifier=identifier, AutoMinorVersionUpgrade=True)
    return {
        "ChangedResourceArn": _arn(kind, resource) if not before else "",
        "ResourceArn": _arn(kind, resource),
        "AutoMinorVersionUpgradeBefore": str(before).lower(),
        "Message": (
            f"Automatic minor version upgrade was already on for the {kind}; nothing changed."
            if before
            else f"Automatic minor version upgrade enabled on the {kind}."
        ),
    }


def verify_minor_version_upgrade(event: dict[str, Any], _context: Any) -> dict[str, str]:
    identifier = event["DBInstanceIdentifier"]
    kind, resource = _target(boto3.client("rds", config=BOTO_CONFIG), identifier)
    if not resource.get("AutoMinorVersionUpgrade"):
        raise RemediationError(f"The {kind} {_arn(kind, resource)} still has AutoMinorVersionUpgrade off")
    return {"ResourceArn": _arn(kind, resource), "AutoMinorVersionUpgrade": "true"}
