"""ASR-EnableAutomaticVersionUpgradeOnRedshiftCluster: let Redshift apply major version upgrades."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _describe(redshift: Any, identifier: str) -> dict[str, Any]:
    try:
        return redshift.describe_clusters(ClusterIdentifier=identifier)["Clusters"][0]
    except redshift.exceptions.ClusterNotFoundFault:
        raise RemediationError(
            f"ClusterIdentifier {identifier}: no such Redshift cluster in this account and Region"
        ) from None


def _flag(value: Any) -> bool:
    """SSM hands Boolean parameters over as bool or as 'true'/'false'."""
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"


def set_version_upgrade(event: dict[str, Any], _context: Any) -> dict[str, str]:
    """Set AllowVersionUpgrade to the requested value (true by default) if it differs."""
    identifier = event["ClusterIdentifier"]
    wanted = _flag(event.get("AllowVersionUpgrade", True))
    redshift = boto3.client("redshift", config=BOTO_CONFIG)
    before = bool(_describe(redshift, identifier).get("AllowVersionUpgrade"))
    if before != wanted:
        redshift.modify_cluster(ClusterIdentifier=identifier, AllowVersionUpgrade=wanted)
    return {
        "ClusterIdentifier": identifier,
        "AllowVersionUpgradeBefore": str(before).lower(),
        "AllowVersionUpgradeAfter": str(wanted).lower(),
        "Message": (
            f"AllowVersionUpgrade set to {str(wanted).lower()}."
            if before != wanted
            else f"AllowVersionUpgrade was already {str(wanted).lower()}; nothing changed."
        ),
    }


def verify_version_upgrade(event: dict[str, Any], _context: Any) -> dict[str, str]:
    identifier = event["ClusterIdentifier"]
    wanted = _flag(event.get("AllowVersionUpgrade", True))
    actual = bool(_describe(boto3.client("redshift", config=BOTO_CONFIG), identifier).get("AllowVersionUpgrade"))
    if actual != wanted:
        raise RemediationError(
            f"Redshift cluster {identifier} reports AllowVersionUpgrade {str(actual).lower()} after ModifyCluster"
        )
    return {"ClusterIdentifier": identifier, "AllowVersionUpgrade": str(actual).lower()}
