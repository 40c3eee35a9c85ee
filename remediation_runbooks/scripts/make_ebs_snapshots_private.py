"""ASR-MakeEBSSnapshotsPrivate: remove public ("all") restore permission from the account's EBS snapshots."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
PUBLIC_GROUP = "all"
ATTRIBUTE = "createVolumePermission"


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _is_public(ec2: Any, snapshot_id: str) -> bool:
    perms = ec2.describe_snapshot_attribute(SnapshotId=snapshot_id, Attribute=ATTRIBUTE)
    return any(p.get("Group") == PUBLIC_GROUP for p in perms.get("CreateVolumePermissions", []))


def _public_snapshots(ec2: Any, account_id: str) -> list[str]:
    """Ids of snapshots owned by ``account_id`` that anyone can restore.

    The OwnerIds/RestorableByUserIds filters narrow the listing; each candidate is then
    checked (owner and permission) so that nothing else is ever modified.
    """
    found: list[str] = []
    pages = ec2.get_paginator("describe_snapshots").paginate(OwnerIds=[account_id], RestorableByUserIds=[PUBLIC_GROUP])
    for page in pages:
        for snap in page["Snapshots"]:
            if snap.get("OwnerId") == account_id and _is_public(ec2, snap["SnapshotId"]):
                found.append(snap["SnapshotId"])
    return found


def make_ebs_snapshots_private(event: dict[str, Any], _context: Any) -> dict[str, str]:
    account_id = event["AccountId"]
    caller = event["CallerAccountId"]
    report_only = str(event.get("TestMode", False)).lower() == "true"
    if account_id != caller:
        raise RemediationError(f"AccountId {account_id} is not the account this runs in ({caller}); nothing changed")
    ec2 = boto3.client("ec2", config=BOTO_CONFIG)
    public = _public_snapshots(ec2, account_id)
    if not report_only:
        for snapshot_id in public:
            ec2.modify_snapshot_attribute(
                SnapshotId=snapshot_id, Attribute=ATTRIBUTE, OperationType="remove", GroupNames=[PUBLIC_GROUP]
            )
        still_public = [s for s in public if _is_public(ec2, s)]
        if still_public:
            raise RemediationError(
                f"AccountId {account_id}: snapshots {', '.join(still_public)} are still public after the change"
            )
    if report_only:
        message = f"TestMode: {len(public)} public snapshot(s) found; nothing changed."
    elif public:
        message = f"Removed public restore permission from {len(public)} snapshot(s); shares with named accounts kept."
    else:
        message = "No public snapshot owned by this account in this Region; nothing changed."
    return {
        "AccountId": account_id,
        "Region": ec2.meta.region_name,
        "PublicSnapshots": ", ".join(public) or "none",
        "MadePrivate": "none" if report_only else (", ".join(public) or "none"),
        "Message": message,
    }
