"""ASR-EnableRDSInstanceDeletionProtection: turn on deletion protection for one DB instance."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _describe(rds: Any, identifier: str) -> dict[str, Any]:
    return rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]


def _flag(value: Any) -> bool:
    """SSM hands Boolean parameters over as bool or as 'true'/'false'."""
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"


def enable_deletion_protection(event: dict[str, Any], _context: Any) -> dict[str, str]:
    """Set DeletionProtection=true on the instance if it is off."""
    identifier = event["DBInstanceIdentifier"]
    apply_now = _flag(event.get("ApplyImmediately", False))
    rds = boto3.client("rds", config=BOTO_CONFIG)
    db = _describe(rds, identifier)
    if db.get("DBClusterIdentifier"):
        raise RemediationError(
            f"DB instance {identifier} belongs to DB cluster {db['DBClusterIdentifier']}; deletion protection "
            "is set on the cluster (ASR-EnableRDSClusterDeletionProtection). Nothing changed."
        )
    before = bool(db.get("DeletionProtection"))
    if not before:
        rds.modify_db_instance(DBInstanceIdentifier=identifier, DeletionProtection=True, ApplyImmediately=apply_now)
    return {
        "DBInstanceArn": db["DBInstanceArn"],
        "DeletionProtectionBefore": str(before).lower(),
        "Message": "Deletion protection was already on; nothing changed." if before else "Deletion protection enabled.",
    }


def verify_deletion_protection(event: dict[str, Any], _context: Any) -> dict[str, str]:
    identifier = event["DBInstanceIdentifier"]
    db = _describe(boto3.client("rds", config=BOTO_CONFIG), identifier)
    if not db.get("DeletionProtection"):
        raise RemediationError(f"DB instance {identifier} still has deletion protection off after ModifyDBInstance")
    return {"DBInstanceArn": db["DBInstanceArn"], "DeletionProtection": "true"}
