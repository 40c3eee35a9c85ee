"""ASR-EncryptRDSSnapshot: replace one unencrypted manual snapshot by an encrypted copy.

Destructive: the unencrypted source is deleted, but only after the encrypted copy is
verified available, encrypted and a copy of that very source, and shared with every account
the source was shared with.

Sharing (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/share-encrypted-snapshot.html):
a snapshot encrypted with the AWS managed key cannot be shared, an encrypted snapshot cannot be
public, and an account a snapshot is shared with needs the key policy's permission to use the key.
"""

from __future__ import annotations

import hashlib
import json
from fnmatch import fnmatchcase
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
    describe_attributes: str
    modify_attribute: str
    attributes_result: str
    attributes_key: str
    max_id: int  # longest identifier RDS accepts for this snapshot type


DB = Kind(
    "DB snapshot", "describe_db_snapshots", "copy_db_snapshot", "delete_db_snapshot",
    "DBSnapshotIdentifier", "DBSnapshots", "Encrypted", "SourceDBSnapshotIdentifier", "DbiResourceId",
    "WaitForEncryptedDBSnapshot", frozenset({"DBSnapshotNotFound", "DBSnapshotNotFoundFault"}),
    "describe_db_snapshot_attributes", "modify_db_snapshot_attribute", "DBSnapshotAttributesResult",
    "DBSnapshotAttributes", 255,
)
CLUSTER = Kind(
    "DB cluster snapshot", "describe_db_cluster_snapshots", "copy_db_cluster_snapshot",
    "delete_db_cluster_snapshot", "DBClusterSnapshotIdentifier", "DBClusterSnapshots", "StorageEncrypted",
    "SourceDBClusterSnapshotArn", "DBClusterIdentifier", "WaitForEncryptedDBClusterSnapshot",
    frozenset({"DBClusterSnapshotNotFoundFault"}),
    "describe_db_cluster_snapshot_attributes", "modify_db_cluster_snapshot_attribute",
    "DBClusterSnapshotAttributesResult", "DBClusterSnapshotAttributes", 63,
)
KINDS = {"snapshot": DB, "cluster-snapshot": CLUSTER, "dbclustersnapshot": CLUSTER}
DONE = "VerifyCopyAndDeleteSource"
PUBLIC = "all"
# What an account a snapshot is shared with needs of the key to copy or restore it.
SHARED_KEY_ACTIONS = ("kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt")
SHARING_DOC = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/share-encrypted-snapshot.html"


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


def _check_key(key_id: str) -> dict[str, Any]:
    kms = boto3.client("kms", config=BOTO_CONFIG)
    try:
        meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    except kms.exceptions.NotFoundException:
        raise RemediationError(f"KmsKeyId {key_id}: no such KMS key in this account and Region") from None
    if meta.get("KeyState") != "Enabled":
        raise RemediationError(f"KmsKeyId {key_id} is {meta.get('KeyState')}; it must be Enabled")
    return meta


def target_identifier(kind: Kind, target_id: str) -> str:
    """``target_id``, or, when it is longer than RDS accepts for the snapshot type, a shortened name
    that ends as it does and carries a hash of it (the same on every run)."""
    if len(target_id) <= kind.max_id:
        return target_id
    suffix = "-encrypted" if target_id.endswith("-encrypted") else ""
    digest = hashlib.sha256(target_id.encode()).hexdigest()[:8]
    head = target_id[: kind.max_id - len(suffix) - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}{suffix}"


def _ids(event: dict[str, Any], kind: Kind) -> tuple[str, str]:
    source_id = event["SourceDBSnapshotIdentifier"]
    target_id = target_identifier(kind, event["TargetDBSnapshotIdentifier"])
    if source_id.lower() == target_id.lower():
        raise RemediationError(f"TargetDBSnapshotIdentifier {target_id} must differ from the source")
    return source_id, target_id


def _restore(rds: Any, kind: Kind, snapshot_id: str) -> list[str]:
    """Who the snapshot is shared with: account ids, or 'all' (public)."""
    result = getattr(rds, kind.describe_attributes)(**{kind.id_param: snapshot_id})[kind.attributes_result]
    return sorted(v for attr in result.get(kind.attributes_key) or () if attr["AttributeName"] == "restore"
                  for v in attr.get("AttributeValues") or ())


def _listed(value: Any) -> list[Any]:
    return [] if value is None else list(value) if isinstance(value, list) else [value]


def _admits(key_policy: dict[str, Any], account: str) -> bool:
    """The key policy allows ``account`` to use the key for a snapshot shared with it."""
    allowed: set[str] = set()
    for statement in _listed(key_policy.get("Statement")):
        principal = statement.get("Principal")
        aws = _listed(principal.get("AWS")) if isinstance(principal, dict) else [principal]
        names = ("*" in aws and not statement.get("Condition")) or any(
            str(p) == account or str(p).split(":")[4:5] == [account] for p in aws if str(p) != "*"
        )
        if not names:
            continue
        covered = {a for a in SHARED_KEY_ACTIONS
                   if any(fnmatchcase(a.lower(), str(p).lower()) for p in _listed(statement.get("Action")))}
        if statement.get("Effect") == "Deny" and covered:
            return False
        if statement.get("Effect") == "Allow":
            allowed |= covered
    return allowed == set(SHARED_KEY_ACTIONS)


def _check_sharing(kind: Kind, source_id: str, shared: list[str], key_input: str, key: dict[str, Any]) -> None:
    """Refuse, before anything is copied, a shared source whose encrypted copy could not be shared the
    same way: deleting the source would cut those accounts off."""
    if PUBLIC in shared:
        raise RemediationError(
            f"SourceDBSnapshotIdentifier {source_id} is public (restore attribute 'all'); an encrypted snapshot "
            f"cannot be public ({SHARING_DOC}). Make it private first (RDS.1, ASR-MakeRDSSnapshotPrivate), "
            "sharing it with the accounts that need it. Nothing changed."
        )
    accounts = ", ".join(shared)
    aws_managed = key.get("KeyManager") == "AWS" or key_input.startswith("alias/aws/") or ":alias/aws/" in key_input
    if aws_managed:
        raise RemediationError(
            f"SourceDBSnapshotIdentifier {source_id} is shared with {accounts}; a copy encrypted with the AWS "
            f"managed key {key_input} cannot be shared ({SHARING_DOC}), and deleting the source would cut those "
            "accounts off. Give KmsKeyId a customer managed key whose key policy lets them use it. Nothing changed."
        )
    kms = boto3.client("kms", config=BOTO_CONFIG)
    policy = json.loads(kms.get_key_policy(KeyId=key["Arn"], PolicyName="default")["Policy"])
    for account in shared:
        if not _admits(policy, account):
            raise RemediationError(
                f"SourceDBSnapshotIdentifier {source_id} is shared with {accounts}; the key policy of KmsKeyId "
                f"{key_input} does not let account {account} use it ({', '.join(SHARED_KEY_ACTIONS)}), so the "
                f"encrypted copy would be of no use to it ({SHARING_DOC}). Nothing changed."
            )


def start_encrypted_copy(event: dict[str, Any], _context: Any) -> dict[str, str]:
    """Validate, then start the encrypted copy unless it already exists. Deletes nothing."""
    kind = _kind(event)
    source_id, target_id = _ids(event, kind)
    rds = boto3.client("rds", config=BOTO_CONFIG)
    source = _get(rds, kind, source_id)
    target = _get(rds, kind, target_id)
    if source is None:
        if target is not None and target.get(kind.encrypted_key):
            return _started(DONE, target_id, f"Source already gone; encrypted copy {target_id} exists.")
        raise RemediationError(
            f"SourceDBSnapshotIdentifier {source_id}: no such {kind.label} in this account and Region"
        )
    if source.get(kind.encrypted_key):
        return _started(DONE, target_id, f"{source_id} is already encrypted; nothing to do.")
    problem = _source_problem(kind, source_id, source)
    if problem:
        raise RemediationError(problem)
    if target is not None:
        problem = _copy_problem(kind, source, target, target_id)
        if problem:
            raise RemediationError(problem + ". Nothing changed.")
        return _started(kind.wait_step, target_id, f"Encrypted copy {target_id} already exists.")
    key = _check_key(event["KmsKeyId"])
    shared = _restore(rds, kind, source_id)
    if shared:
        _check_sharing(kind, source_id, shared, event["KmsKeyId"], key)
    getattr(rds, kind.copy)(
        **{
            f"Source{kind.id_param}": source_id,
            f"Target{kind.id_param}": target_id,
            "KmsKeyId": key["Arn"],
            "CopyTags": True,
        }
    )
    return _started(kind.wait_step, target_id, f"Started encrypted copy {target_id} with key {key['Arn']}.")


def _started(next_step: str, target_id: str, message: str) -> dict[str, str]:
    return {"NextStep": next_step, "TargetDBSnapshotIdentifier": target_id, "Message": message}


def _share_like_source(rds: Any, kind: Kind, source_id: str, target_id: str) -> list[str]:
    """Share the copy with every account the source is shared with; those accounts."""
    accounts = _restore(rds, kind, source_id)
    if PUBLIC in accounts:
        raise RemediationError(
            f"SourceDBSnapshotIdentifier {source_id} is public; an encrypted copy cannot be. "
            f"{source_id} was NOT deleted"
        )
    missing = sorted(set(accounts) - set(_restore(rds, kind, target_id)))
    if missing:
        try:
            getattr(rds, kind.modify_attribute)(
                **{kind.id_param: target_id, "AttributeName": "restore", "ValuesToAdd": missing}
            )
        except ClientError as err:
            raise RemediationError(
                f"Encrypted copy {target_id} cannot be shared with {', '.join(missing)} as {source_id} is: "
                f"{err.response['Error'].get('Message', err.response['Error']['Code'])}; {source_id} was NOT deleted"
            ) from None
        still = sorted(set(accounts) - set(_restore(rds, kind, target_id)))
        if still:
            raise RemediationError(
                f"Encrypted copy {target_id} is not shared with {', '.join(still)}; {source_id} was NOT deleted"
            )
    return accounts


def delete_unencrypted_source(event: dict[str, Any], _context: Any) -> dict[str, str]:
    """Delete the source only if the copy is available, encrypted, a copy of it, and shared as it is."""
    kind = _kind(event)
    source_id, target_id = _ids(event, kind)
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
    accounts = _share_like_source(rds, kind, source_id, target_id)
    getattr(rds, kind.delete)(**{kind.id_param: source_id})
    shared = f" (shared with {', '.join(accounts)} as the source was)" if accounts else ""
    message = f"Encrypted copy {target_id}{shared} verified; unencrypted {kind.label} {source_id} deleted."
    return _result(source_id, target_id, message, target.get("KmsKeyId", ""), ",".join(accounts))


def _result(deleted: str, encrypted: str, message: str, key: str = "", shared: str = "") -> dict[str, str]:
    return {"Deleted": deleted, "EncryptedSnapshot": encrypted, "KmsKeyId": key, "SharedWith": shared,
            "Message": message}
