"""ASR-DisablePublicAccessToRDSInstance: make one RDS DB instance not publicly accessible."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _describe(rds: Any, identifier: str) -> dict[str, Any]:
    return rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]


def _refusal(db: dict[str, Any]) -> str | None:
    cluster = db.get("DBClusterIdentifier")
    if cluster and not db["Engine"].startswith("aurora"):
        return (
            f"DB instance {db['DBInstanceIdentifier']} belongs to Multi-AZ DB cluster {cluster}; "
            "RDS does not change PubliclyAccessible on its instances one by one. Nothing changed."
        )
    return None


def disable_public_access(event: dict[str, Any], _context: Any) -> dict[str, str]:
    """Set PubliclyAccessible=false on the instance if it is public."""
    identifier = event["DBInstanceIdentifier"]
    rds = boto3.client("rds", config=BOTO_CONFIG)
    db = _describe(rds, identifier)
    reason = _refusal(db)
    if reason:
        raise RemediationError(reason)
    before = bool(db.get("PubliclyAccessible"))
    if before:
        # RDS applies PubliclyAccessible at once; ApplyImmediately is not sent so that
        # the instance's other pending modifications stay pending.
        rds.modify_db_instance(DBInstanceIdentifier=identifier, PubliclyAccessible=False)
    return {
        "DBInstanceArn": db["DBInstanceArn"],
        "PubliclyAccessibleBefore": str(before).lower(),
        "Message": "Public access disabled." if before else "Instance was already private; nothing changed.",
    }


def verify_public_access_disabled(event: dict[str, Any], _context: Any) -> dict[str, str]:
    identifier = event["DBInstanceIdentifier"]
    db = _describe(boto3.client("rds", config=BOTO_CONFIG), identifier)
    if db.get("PubliclyAccessible"):
        raise RemediationError(f"DB instance {identifier} is still publicly accessible after ModifyDBInstance")
    return {"DBInstanceArn": db["DBInstanceArn"], "PubliclyAccessible": "false"}
