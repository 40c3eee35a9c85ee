"""ASR-EnableEnhancedMonitoringOnRDSInstance: turn on Enhanced Monitoring for one DB instance."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
INTERVALS = (1, 5, 10, 15, 30, 60)


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _describe(rds: Any, identifier: str) -> dict[str, Any]:
    return rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]


def _interval(event: dict[str, Any]) -> int:
    raw = event["MonitoringInterval"]
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = -1
    if value not in INTERVALS:
        raise RemediationError(f"MonitoringInterval {raw!r} is not one of {', '.join(map(str, INTERVALS))}")
    return value


def _refusal(db: dict[str, Any], role_arn: str) -> str | None:
    cluster = db.get("DBClusterIdentifier")
    if cluster and not db["Engine"].startswith("aurora"):
        return (
            f"DB instance {db['DBInstanceIdentifier']} belongs to Multi-AZ DB cluster {cluster}; "
            "Enhanced Monitoring is set on the cluster. Nothing changed."
        )
    instance_account = db["DBInstanceArn"].split(":")[4]
    role_account = role_arn.split(":")[4]
    if role_account != instance_account:
        return (
            f"MonitoringRoleArn {role_arn} is in account {role_account}; RDS needs a role in the "
            f"instance's account {instance_account}. Nothing changed."
        )
    return None


def enable_enhanced_monitoring(event: dict[str, Any], _context: Any) -> dict[str, str]:
    """Set MonitoringInterval and MonitoringRoleArn unless the instance already reports them."""
    identifier = event["DBInstanceIdentifier"]
    role_arn = event["MonitoringRoleArn"]
    interval = _interval(event)
    rds = boto3.client("rds", config=BOTO_CONFIG)
    db = _describe(rds, identifier)
    reason = _refusal(db, role_arn)
    if reason:
        raise RemediationError(reason)
    before = int(db.get("MonitoringInterval") or 0)
    compliant = before == interval and bool(db.get("MonitoringRoleArn"))
    if not compliant:
        # Enhanced Monitoring changes take effect at once; ApplyImmediately is not sent so
        # that the instance's other pending modifications stay pending.
        rds.modify_db_instance(
            DBInstanceIdentifier=identifier, MonitoringInterval=interval, MonitoringRoleArn=role_arn
        )
    return {
        "DBInstanceArn": db["DBInstanceArn"],
        "MonitoringIntervalBefore": str(before),
        "MonitoringIntervalAfter": str(interval),
        "MonitoringRoleArn": db.get("MonitoringRoleArn", "") if compliant else role_arn,
        "Message": (
            f"Enhanced Monitoring already on every {interval} s; nothing changed."
            if compliant
            else f"Enhanced Monitoring set to every {interval} s."
        ),
    }


def verify_enhanced_monitoring(event: dict[str, Any], _context: Any) -> dict[str, str]:
    identifier = event["DBInstanceIdentifier"]
    interval = _interval(event)
    db = _describe(boto3.client("rds", config=BOTO_CONFIG), identifier)
    actual = int(db.get("MonitoringInterval") or 0)
    if actual != interval or not db.get("MonitoringRoleArn"):
        raise RemediationError(
            f"DB instance {identifier} reports MonitoringInterval {actual} and role "
            f"{db.get('MonitoringRoleArn') or 'none'} after ModifyDBInstance; expected {interval} with a role"
        )
    return {"DBInstanceArn": db["DBInstanceArn"], "MonitoringInterval": str(actual)}
