"""ASR-DisablePublicAccessToRedshiftCluster: make one Redshift cluster not publicly accessible."""

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


def disable_public_access(event: dict[str, Any], _context: Any) -> dict[str, str]:
    """Set PubliclyAccessible=false on the cluster if it is public."""
    identifier = event["ClusterIdentifier"]
    redshift = boto3.client("redshift", config=BOTO_CONFIG)
    before = bool(_describe(redshift, identifier).get("PubliclyAccessible"))
    if before:
        redshift.modify_cluster(ClusterIdentifier=identifier, PubliclyAccessible=False)
    return {
        "ClusterIdentifier": identifier,
        "PubliclyAccessibleBefore": str(before).lower(),
        "Message": "Public access disabled." if before else "Cluster was already private; nothing changed.",
    }


def verify_public_access_disabled(event: dict[str, Any], _context: Any) -> dict[str, str]:
    identifier = event["ClusterIdentifier"]
    if _describe(boto3.client("redshift", config=BOTO_CONFIG), identifier).get("PubliclyAccessible"):
        raise RemediationError(f"Redshift cluster {identifier} is still publicly accessible after ModifyCluster")
    return {"ClusterIdentifier": identifier, "PubliclyAccessible": "false"}
