"""ASR-EnableElastiCacheReplicationGroupFailover: request automatic failover for one replication group.

The document then waits (aws:waitForAwsResourceProperty) until the group reports it enabled.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _group(ec: Any, group_id: str) -> dict[str, Any]:
    try:
        return ec.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]
    except ec.exceptions.ReplicationGroupNotFoundFault:
        raise RemediationError(f"GroupId {group_id}: no such replication group in this account and Region") from None


def request_failover(event: dict[str, Any], _context: Any) -> dict[str, str]:
    group_id = event["GroupId"]
    ec = boto3.client("elasticache", config=BOTO_CONFIG)
    group = _group(ec, group_id)
    before = group.get("AutomaticFailover", "disabled")
    if before in ("enabled", "enabling"):
        return {"GroupId": group_id, "AutomaticFailoverBefore": before,
                "Message": f"Automatic failover was already {before}; nothing changed."}
    if group.get("Status") != "available":
        raise RemediationError(f"GroupId {group_id}: replication group is {group.get('Status')}; retry when available")
    if len(group.get("MemberClusters", [])) < 2:
        raise RemediationError(
            f"GroupId {group_id}: has no replica; automatic failover needs at least one replica, add one first"
        )
    ec.modify_replication_group(ReplicationGroupId=group_id, AutomaticFailoverEnabled=True, ApplyImmediately=True)
    return {"GroupId": group_id, "AutomaticFailoverBefore": before,
            "Message": "Automatic failover requested; the next step waits until it is enabled."}
