"""ASR-EncryptRDSSnapshot: replace one unencrypted manual snapshot by an encrypted copy.

Destructive: the unencrypted source is deleted, but only after the encrypted copy is
verified available, encrypted and a copy of that very source.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


class Kind(NamedTuple):
    """The API names of one snapshot type."""

    label: str
    describe: str
    copy: str
    delete: str
    id_param: str
    list_key: str
    encrypted_key: str
    source_field: str  # where a copy names its source (ARN)
    owner_key: str  # the DB instance/cluster the snapshot was taken from
    wait_step: str
    not_found: frozenset[str]


DB = Kind(
    "DB snapshot", "describe_db_snapshots", "copy_db_snapshot", "delete_db_snapshot",
    "DBSnapshotIdentifier", "DBSnapshots", "Encrypted", "SourceDBSnapshotIdentifier", "DbiResourceId",
    "WaitForEncryptedDBSnapshot", frozenset({"DBSnapshotNotFound", "DBSnapshotNotFoundFault"}),
)
CLUSTER = Kind(
    "DB cluster snapshot", "describe_db_cluster_snapshots", "copy_db_cluster_snapshot",
    "delete_db_cluster_snapshot", "DBClusterSnapshotIdentifier", "DBClusterSnapshots", "StorageEncrypted",
    "SourceDBClusterSnapshotArn", "DBClusterIdentifier", "WaitForEncryptedDBClusterSnapshot",
    frozenset({"DBClusterSnapshotNotFoundFault"}),
)
KINDS = {"snapshot": DB, "cluster-snapshot": CLUSTER, "dbclustersnapshot": CLUSTER}
DONE = "VerifyCopyAndDeleteSource"


def _kind(event: dict[str, Any]) -> Kind:
    value = event["DBSnapshotType"]
    if value not in KINDS:
        raise RemediationError(f"DBSnapshotType {value!r} is not one of {', '.join(KINDS)}")
    return KINDS[value]


def _get(rds: Any, kind: Kind, snapshot_id: str) -> dict[str, Any] | None:
    try:
        found = getattr(rds, kind.describe)(**{kind.id_param: snapshot_id})[kind.list_key]
    except ClientError as err:
        if err.response["Error"]["Code"] in kind.not_found:
            return None
        raise
    return found[0] if found else None


def _copy_problem(kind: Kind, source: dict[str, Any], target: dict[str, Any], target_id: str) -> str | None:
    """Why ``target`` is not (yet) a safe encrypted copy of ``source``, or None."""
    if not target.get(kind.encrypted_key):
        return f"TargetDBSnapshotIdentifier {target_id} exists and is not encrypted"
    if target.get(kind.owner_key) != source.get(kind.owner_key):
        return f"TargetDBSnapshotIdentifier {target_id} exists and was taken from another database"
    copied_from = target.get(kind.source_field)
    source_arn = source.get("DBSnapshotArn") or source.get("DBClusterSnapshotArn")
    if copied_from and copied_from not in (source_arn, source[kind.id_param]):
        return f"TargetDBSnapshotIdentifier {target_id} is a copy of {copied_from}, not of the source"
    original = target.get("OriginalSnapshotCreateTime"), source.get("OriginalSnapshotCreateTime")
    if not copied_from and all(original) and original[0] != original[1]:
        return f"TargetDBSnapshotIdentifier {target_id} was copied from another snapshot of the same database"
    return None


def _source_problem(kind: Kind, source_id: str, source: dict[str, Any]) -> str | None:
    if source.get("SnapshotType") != "manual":
        return (
            f"SourceDBSnapshotIdentifier {source_id} is an {source.get('SnapshotType')} {kind.label}; only "
            "manual snapshots can be deleted. Encrypt the database itself; RDS removes automated "
            "snapshots at the end of the retention period. Nothing changed."
        )
    if source.get("Status") != "available":
        return f"SourceDBSnapshotIdentifier {source_id} is {source.get('Status')}; retry when it is available"
    return None


def _check_key(key_id: str) -> str:
    kms = boto3.client("kms", config=BOTO_CONFIG)
    try:
        meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    except kms.exceptions.NotFoundException:
        raise RemediationError(f"KmsKeyId {key_id}: no such KMS key in this account and Region") from None
    if meta.get("KeyState") != "Enabled":
        raise RemediationError(f"KmsKeyId {key_id} is {meta.get('KeyState')}; it must be Enabled")
    return meta["Arn"]


def _ids(event: dict[str, Any]) -> tuple[str, str]:
    source_id, target_id = event["SourceDBSnapshotIdentifier"], event["TargetDBSnapshotIdentifier"]
    if source_id.lower() == target_id.lower():
        raise RemediationError(f"TargetDBSnapshotIdentifier {target_id} must differ from the source")
    return source_id, target_id


def start_encrypted_copy(event: dict[str, Any], _context: Any) -> dict[str, str]:
    """Validate, then start the encrypted copy unless it already exists. Deletes nothing."""
    kind = _kind(event)
    source_id, target_id = _ids(event)
    rds = boto3.client("rds", config=BOTO_CONFIG)
    source = _get(rds, kind, source_id)
    target = _get(rds, kind, target_id)
    if source is None:
        if target is not None and target.get(kind.encrypted_key):
            return {"NextStep": DONE, "Message": f"Source already gone; encrypted copy {target_id} exists."}
        raise RemediationError(
            f"SourceDBSnapshotIdentifier {source_id}: no such {kind.label} in this account and Region"
        )
    if source.get(kind.encrypted_key):
        return {"NextStep": DONE, "Message": f"{source_id} is already encrypted; nothing to do."}
    problem = _source_problem(kind, source_id, source)
    if problem:
        raise RemediationError(problem)
    if target is not None:
        problem = _copy_problem(kind, source, target, target_id)
        if problem:
            raise RemediationError(problem + ". Nothing changed.")
        return {"NextStep": kind.wait_step, "Message": f"Encrypted copy {target_id} already exists."}
    key_arn = _check_key(event["KmsKeyId"])
    getattr(rds, kind.copy)(
        **{
            f"Source{kind.id_param}": source_id,
            f"Target{kind.id_param}": target_id,
            "KmsKeyId": key_arn,
            "CopyTags": True,
        }
    )
    return {"NextStep": kind.wait_step, "Message": f"Started encrypted copy {target_id} with key {key_arn}."}


def delete_unencrypted_source(event: dict[str, Any], _context: Any) -> dict[str, str]:
    """Delete the source only if the copy is available, encrypted and a copy of it."""
    kind = _kind(event)
    source_id, target_id = _ids(event)
    rds = boto3.client("rds", config=BOTO_CONFIG)
    source = _get(rds, kind, source_id)
    target = _get(rds, kind, target_id)
    if source is not None and source.get(kind.encrypted_key):
        return _result("", source_id, f"{source_id} is already encrypted; nothing changed.")
    if source is None:
        if target is not None and target.get(kind.encrypted_key):
            return _result("", target_id, "Source already deleted; nothing changed.")
        raise RemediationError(f"SourceDBSnapshotIdentifier {source_id}: no such {kind.label}; nothing deleted")
    if target is None:
        raise RemediationError(f"Encrypted copy {target_id} not found; {source_id} was NOT deleted")
    problem = _copy_problem(kind, source, target, target_id) or (
        None if target.get("Status") == "available" else f"Encrypted copy {target_id} is {target.get('Status')}"
    )
    if problem:
        raise RemediationError(f"{problem}; {source_id} was NOT deleted")
    getattr(rds, kind.delete)(**{kind.id_param: source_id})
    message = f"Encrypted copy {target_id} verified; unencrypted {kind.label} {source_id} deleted."
    return _result(source_id, target_id, message, target.get("KmsKeyId", ""))


def _result(deleted: str, encrypted: str, message: str, key: str = "") -> dict[str, str]:
    return {"Deleted": deleted, "EncryptedSnapshot": encrypted, "KmsKeyId": key, "Message": message}
