"""ASR-EnableMultiAZOnRDSInstance: turn on Multi-AZ for one RDS DB instance."""

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


def _state(db: dict[str, Any]) -> str:
    if db.get("MultiAZ"):
        return "enabled"
    if (db.get("PendingModifiedValues") or {}).get("MultiAZ"):
        return "pending"
    return "disabled"


def enable_multi_az(event: dict[str, Any], _context: Any) -> dict[str, str]:
    """Request MultiAZ=true unless it is already on or already pending."""
    identifier = event["DBInstanceIdentifier"]
    apply_now = _flag(event.get("ApplyImmediately", False))
    rds = boto3.client("rds", config=BOTO_CONFIG)
    db = _describe(rds, identifier)
    if db.get("DBClusterIdentifier"):
        raise RemediationError(
            f"DB instance {identifier} belongs to DB cluster {db['DBClusterIdentifier']}; its availability "
            "is set on the cluster, and MultiAZ does not apply to the instance. Nothing changed."
        )
    before = _state(db)
    if before == "disabled":
        rds.modify_db_instance(DBInstanceIdentifier=identifier, MultiAZ=True, ApplyImmediately=apply_now)
    message = {
        "disabled": "Multi-AZ requested "
        + ("now." if apply_now else "for the next maintenance window (ApplyImmediately=false)."),
        "pending": "Multi-AZ was already pending; nothing changed.",
        "enabled": "Multi-AZ was already enabled; nothing changed.",
    }[before]
    return {
        "DBInstanceArn": db["DBInstanceArn"],
        "MultiAZBefore": before,
        "ApplyImmediately": str(apply_now).lower(),
        "Message": message,
    }


def verify_multi_az(event: dict[str, Any], _context: Any) -> dict[str, str]:
    """Multi-AZ is on now. RDS.5 judges the instance's current MultiAZ, so a change still pending for the
    maintenance window is not success (https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-5)."""
    identifier = event["DBInstanceIdentifier"]
    db = _describe(boto3.client("rds", config=BOTO_CONFIG), identifier)
    state = _state(db)
    if state == "disabled":
        raise RemediationError(f"DB instance {identifier} shows neither MultiAZ nor a pending MultiAZ change")
    if state == "pending":
        raise RemediationError(
            f"DB instance {identifier}: MultiAZ is pending until the instance's next maintenance window "
            f"({db.get('PreferredMaintenanceWindow') or 'see the instance'}); the control stays FAILED until RDS "
            "applies it. Run with ApplyImmediately=true to convert now."
        )
    return {"DBInstanceArn": db["DBInstanceArn"], "MultiAZ": state}
