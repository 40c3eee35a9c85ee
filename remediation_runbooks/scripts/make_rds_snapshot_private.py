"""ASR-MakeRDSSnapshotPrivate: stop sharing one DB or DB cluster snapshot with everyone."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
PUBLIC = "all"

# DBSnapshotType -> (describe call, modify call, id parameter, result key, attributes key, label)
_API = {
    "snapshot": (
        "describe_db_snapshot_attributes",
        "modify_db_snapshot_attribute",
        "DBSnapshotIdentifier",
        "DBSnapshotAttributesResult",
        "DBSnapshotAttributes",
        "DB snapshot",
    ),
    "cluster-snapshot": (
        "describe_db_cluster_snapshot_attributes",
        "modify_db_cluster_snapshot_attribute",
        "DBClusterSnapshotIdentifier",
        "DBClusterSnapshotAttributesResult",
        "DBClusterSnapshotAttributes",
        "DB cluster snapshot",
    ),
}
_NOT_FOUND = {"DBSnapshotNotFound", "DBSnapshotNotFoundFault", "DBClusterSnapshotNotFoundFault"}


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _restore_values(rds: Any, snapshot_type: str, snapshot_id: str) -> list[str]:
    describe, _, id_param, result_key, attrs_key, label = _API[snapshot_type]
    try:
        result = getattr(rds, describe)(**{id_param: snapshot_id})[result_key]
    except ClientError as err:
        if err.response["Error"]["Code"] in _NOT_FOUND:
            raise RemediationError(
                f"DBSnapshotId {snapshot_id}: no such {label} (DBSnapshotType {snapshot_type}) "
                "in this account and Region"
            ) from None
        raise
    for attr in result.get(attrs_key) or ():
        if attr["AttributeName"] == "restore":
            return list(attr.get("AttributeValues") or ())
    return []


def make_snapshot_private(event: dict[str, Any], _context: Any) -> dict[str, str]:
    """Remove 'all' from the snapshot's restore attribute; keep every named account."""
    snapshot_id = event["DBSnapshotId"]
    snapshot_type = event["DBSnapshotType"]
    if snapshot_type not in _API:
        raise RemediationError(f"DBSnapshotType {snapshot_type!r} is not one of {', '.join(_API)}")
    rds = boto3.client("rds", config=BOTO_CONFIG)
    before = _restore_values(rds, snapshot_type, snapshot_id)
    if PUBLIC in before:
        _, modify, id_param, *_ = _API[snapshot_type]
        getattr(rds, modify)(**{id_param: snapshot_id, "AttributeName": "restore", "ValuesToRemove": [PUBLIC]})
    after = _restore_values(rds, snapshot_type, snapshot_id)
    if PUBLIC in after:
        raise RemediationError(f"DBSnapshotId {snapshot_id} is still shared with all accounts after the change")
    return {
        "DBSnapshotId": snapshot_id,
        "SharedWithBefore": ",".join(before),
        "SharedWithAfter": ",".join(after),
        "Message": "Public sharing removed." if PUBLIC in before else "Snapshot was not public; nothing changed.",
    }
