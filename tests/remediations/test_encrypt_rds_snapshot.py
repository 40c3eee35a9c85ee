"""ASR-EncryptRDSSnapshot: the script against moto and Stubber, then the YAML document through the runner.

moto returns neither SourceDBSnapshotIdentifier nor in-progress copies (every copy is
'available' at once), so the checks that protect the source from deletion while a copy
is unfinished, or when the target is a copy of another snapshot, are proven with
botocore's Stubber against the real RDS API shapes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from botocore.stub import Stubber

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.encrypt_rds_snapshot import (
    RemediationError,
    delete_unencrypted_source,
    start_encrypted_copy,
)
from tests.conftest import ACCOUNT, REGION
from tests.remediations.helpers import new_kms_key, output
from tests.remediations.helpers.rds import make_aurora_cluster, make_instance
from tests.remediations.helpers.stubs import stub_every_boto3_client

DOC = "EncryptRDSSnapshot"


def make_database(rds) -> None:
    make_instance(rds, "db1")
    make_aurora_cluster(rds, "cl1")
    for name in ("snap", "snap-bystander"):
        rds.create_db_snapshot(DBInstanceIdentifier="db1", DBSnapshotIdentifier=name,
                               Tags=[{"Key": "owner", "Value": "dba"}])
    for name in ("csnap", "csnap-bystander"):
        rds.create_db_cluster_snapshot(DBClusterIdentifier="cl1", DBClusterSnapshotIdentifier=name)


def snapshot(rds, kind: str, name: str) -> dict | None:
    try:
        if kind == "snapshot":
            return rds.describe_db_snapshots(DBSnapshotIdentifier=name)["DBSnapshots"][0]
        return rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=name)["DBClusterSnapshots"][0]
    except rds.exceptions.ClientError:
        return None


def encrypted(snap: dict) -> bool:
    return bool(snap.get("Encrypted") or snap.get("StorageEncrypted"))


def event(source: str, target: str, kind: str = "snapshot", key: str = "alias/aws/rds") -> dict:
    return {"SourceDBSnapshotIdentifier": source, "TargetDBSnapshotIdentifier": target,
            "DBSnapshotType": kind, "KmsKeyId": key}


@pytest.fixture
def rds(rds):
    make_database(rds)
    return rds


@pytest.fixture
def rds_doc(rds_doc):
    make_database(rds_doc)
    return rds_doc


# --- script on moto ------------------------------------------------------------------


def test_script_copies_encrypted_with_tags_then_deletes_only_the_source(rds):
    started = start_encrypted_copy(event("snap", "snap-encrypted"), None)
    assert started["NextStep"] == "WaitForEncryptedDBSnapshot"
    copy = snapshot(rds, "snapshot", "snap-encrypted")
    assert encrypted(copy) and copy["TagList"] == [{"Key": "owner", "Value": "dba"}]
    assert snapshot(rds, "snapshot", "snap") is not None, "the copy step deletes nothing"

    done = delete_unencrypted_source(event("snap", "snap-encrypted"), None)

    assert snapshot(rds, "snapshot", "snap") is None
    assert snapshot(rds, "snapshot", "snap-bystander") is not None
    assert done["Deleted"] == "snap" and done["EncryptedSnapshot"] == "snap-encrypted"


def test_script_missing_key_names_the_input_and_copies_nothing(rds):
    with pytest.raises(RemediationError, match="KmsKeyId alias/nope: no such KMS key"):
        start_encrypted_copy(event("snap", "snap-encrypted", key="alias/nope"), None)
    assert snapshot(rds, "snapshot", "snap-encrypted") is None


def test_script_already_encrypted_source_is_left_alone(rds):
    key = new_kms_key()
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier="snap", TargetDBSnapshotIdentifier="enc", KmsKeyId=key)
    out = start_encrypted_copy(event("enc", "enc-encrypted"), None)
    assert out["NextStep"] == "VerifyCopyAndDeleteSource"
    assert "already encrypted" in delete_unencrypted_source(event("enc", "enc-encrypted"), None)["Message"]
    assert snapshot(rds, "snapshot", "enc") is not None
    assert snapshot(rds, "snapshot", "enc-encrypted") is None


def test_script_same_source_and_target_is_refused(rds):
    with pytest.raises(RemediationError, match="TargetDBSnapshotIdentifier snap must differ"):
        start_encrypted_copy(event("snap", "snap"), None)


# --- shared sources: deleting one would cut off the accounts it is shared with ----------------------
#
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/share-encrypted-snapshot.html: a snapshot encrypted
# with the AWS managed key cannot be shared, an encrypted snapshot cannot be public, and the accounts it is
# shared with need the key policy's permission to use the key.

PARTNER = "444455556666"


def share(rds, name: str, *accounts: str, kind: str = "snapshot") -> None:
    if kind == "snapshot":
        rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=name, AttributeName="restore",
                                         ValuesToAdd=list(accounts))
    else:
        rds.modify_db_cluster_snapshot_attribute(DBClusterSnapshotIdentifier=name, AttributeName="restore",
                                                 ValuesToAdd=list(accounts))


def shared_with(rds, name: str) -> list[str]:
    attrs = rds.describe_db_snapshot_attributes(DBSnapshotIdentifier=name)["DBSnapshotAttributesResult"]
    return sorted(v for a in attrs["DBSnapshotAttributes"] if a["AttributeName"] == "restore"
                  for v in a.get("AttributeValues", []))


def key_for(*accounts: str) -> str:
    """A customer managed key whose policy lets ``accounts`` use it for snapshots shared with them."""
    statements = [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*",
                   "Resource": "*"}]
    if accounts:
        statements.append({"Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in accounts]},
                           "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                                      "kms:DescribeKey", "kms:CreateGrant"], "Resource": "*"})
    return new_kms_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))


def test_script_a_shared_source_with_the_aws_managed_key_is_refused_before_copying(rds):
    share(rds, "snap", PARTNER)
    with pytest.raises(RemediationError) as refused:
        start_encrypted_copy(event("snap", "snap-encrypted"), None)
    message = str(refused.value)
    assert f"shared with {PARTNER}" in message and "AWS managed key" in message and "Nothing changed" in message
    assert snapshot(rds, "snapshot", "snap-encrypted") is None and snapshot(rds, "snapshot", "snap") is not None


def test_script_a_public_source_is_refused_before_copying(rds):
    share(rds, "snap", "all")
    with pytest.raises(RemediationError, match="public .*RDS.1"):
        start_encrypted_copy(event("snap", "snap-encrypted", key=key_for(PARTNER)), None)
    assert snapshot(rds, "snapshot", "snap-encrypted") is None


def test_script_a_key_that_the_accounts_cannot_use_is_refused_before_copying(rds):
    share(rds, "snap", PARTNER)
    with pytest.raises(RemediationError, match=f"key policy .* does not let account {PARTNER} use it"):
        start_encrypted_copy(event("snap", "snap-encrypted", key=key_for()), None)
    assert snapshot(rds, "snapshot", "snap-encrypted") is None


def test_script_a_shared_source_is_replaced_by_a_copy_shared_with_the_same_accounts(rds):
    share(rds, "snap", PARTNER)
    key = key_for(PARTNER)
    start_encrypted_copy(event("snap", "snap-encrypted", key=key), None)
    done = delete_unencrypted_source(event("snap", "snap-encrypted", key=key), None)
    assert shared_with(rds, "snap-encrypted") == [PARTNER]
    assert snapshot(rds, "snapshot", "snap") is None
    assert done["SharedWith"] == PARTNER


# --- identifiers RDS would refuse --------------------------------------------------------------------


def test_script_a_cluster_snapshot_copy_name_is_kept_within_63_characters(rds):
    """DB cluster snapshot identifiers have at most 63 characters (CopyDBClusterSnapshot,
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBClusterSnapshot.html):
    '<source>-encrypted' of a long source is shortened, the same way on every run."""
    source = "c" + "x" * 59
    rds.create_db_cluster_snapshot(DBClusterIdentifier="cl1", DBClusterSnapshotIdentifier=source)
    asked = f"{source}-encrypted"
    started = start_encrypted_copy(event(source, asked, kind="cluster-snapshot"), None)
    target = started["TargetDBSnapshotIdentifier"]
    assert len(target) <= 63 and target.endswith("-encrypted") and "--" not in target
    assert encrypted(snapshot(rds, "cluster-snapshot", target))
    done = delete_unencrypted_source(event(source, asked, kind="cluster-snapshot"), None)
    assert done["EncryptedSnapshot"] == target and snapshot(rds, "cluster-snapshot", source) is None


# --- script on Stubber (states moto does not produce) ---------------------------------


NOW = datetime(2024, 1, 1, tzinfo=UTC)


def _snap(name: str, *, encrypted_: bool, status: str = "available", kind: str = "manual", source: str = "") -> dict:
    snap = {"DBSnapshotIdentifier": name, "DBSnapshotArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:{name}",
            "DbiResourceId": "db-ABCDEFGHIJKLMNOPQRSTUVWXYZ", "Status": status, "SnapshotType": kind,
            "Encrypted": encrypted_, "OriginalSnapshotCreateTime": NOW}
    if source:
        snap["SourceDBSnapshotIdentifier"] = source
    return {"DBSnapshots": [snap]}


def _stub(monkeypatch, *describes: tuple[str, dict]) -> Stubber:
    """Queue DescribeDBSnapshots answers; any other call (a delete or copy) fails the test."""
    stub = stub_every_boto3_client(monkeypatch, "rds", REGION)
    for name, response in describes:
        stub.add_response("describe_db_snapshots", response, {"DBSnapshotIdentifier": name})
    return stub


SOURCE_ARN = f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:src"


def test_source_is_kept_while_the_copy_is_still_being_made(monkeypatch):
    stub = _stub(monkeypatch, ("src", _snap("src", encrypted_=False)),
                 ("dst", _snap("dst", encrypted_=True, status="creating", source=SOURCE_ARN)))
    with pytest.raises(RemediationError, match="copy dst is creating; src was NOT deleted"):
        delete_unencrypted_source(event("src", "dst"), None)
    stub.assert_no_pending_responses()


def test_source_is_kept_when_the_target_is_a_copy_of_another_snapshot(monkeypatch):
    other = f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:older"
    _stub(monkeypatch, ("src", _snap("src", encrypted_=False)),
          ("dst", _snap("dst", encrypted_=True, source=other)))
    with pytest.raises(RemediationError, match="is a copy of .*older, not of the source; src was NOT deleted"):
        delete_unencrypted_source(event("src", "dst"), None)


def test_source_is_kept_when_the_target_is_not_encrypted(monkeypatch):
    _stub(monkeypatch, ("src", _snap("src", encrypted_=False)),
          ("dst", _snap("dst", encrypted_=False, source=SOURCE_ARN)))
    with pytest.raises(RemediationError, match="exists and is not encrypted; src was NOT deleted"):
        delete_unencrypted_source(event("src", "dst"), None)


def test_automated_snapshot_is_refused_before_anything_is_copied(monkeypatch):
    automated = "rds:db1-2024-01-01"
    stub = _stub(monkeypatch, (automated, _snap(automated, encrypted_=False, kind="automated")))
    stub.add_client_error("describe_db_snapshots", "DBSnapshotNotFound",
                          expected_params={"DBSnapshotIdentifier": "dst"})
    with pytest.raises(RemediationError, match="is an automated DB snapshot; only manual snapshots can be deleted"):
        start_encrypted_copy(event("rds:db1-2024-01-01", "dst"), None)
    stub.assert_no_pending_responses()


# --- document --------------------------------------------------------------------------


@pytest.mark.parametrize("kind, source", [
    ("snapshot", "snap"), ("cluster-snapshot", "csnap"), ("dbclustersnapshot", "csnap"),
])
def test_document_replaces_the_source_with_an_encrypted_copy(run_runbook, rds_doc, kind, source):
    api_kind = "snapshot" if kind == "snapshot" else "cluster-snapshot"
    bystander_before = snapshot(rds_doc, api_kind, f"{source}-bystander")

    execution = run_runbook(DOC, SourceDBSnapshotIdentifier=source, TargetDBSnapshotIdentifier=f"{source}-encrypted",
                            DBSnapshotType=kind)

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert snapshot(rds_doc, api_kind, source) is None
    assert encrypted(snapshot(rds_doc, api_kind, f"{source}-encrypted"))
    assert snapshot(rds_doc, api_kind, f"{source}-bystander") == bystander_before
    assert output(execution, "VerifyCopyAndDeleteSource.Output")["Deleted"] == source


def test_document_a_long_cluster_snapshot_name_is_copied_and_waited_for_under_its_short_name(run_runbook, rds_doc):
    source = "c" + "y" * 59
    rds_doc.create_db_cluster_snapshot(DBClusterIdentifier="cl1", DBClusterSnapshotIdentifier=source)
    execution = run_runbook(DOC, SourceDBSnapshotIdentifier=source, TargetDBSnapshotIdentifier=f"{source}-encrypted",
                            DBSnapshotType="cluster-snapshot")
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    target = output(execution, "VerifyCopyAndDeleteSource.Output")["EncryptedSnapshot"]
    assert len(target) <= 63 and encrypted(snapshot(rds_doc, "cluster-snapshot", target))
    assert snapshot(rds_doc, "cluster-snapshot", source) is None


@pytest.mark.parametrize(("kind", "source"), [("snapshot", "snap"), ("cluster-snapshot", "csnap")])
def test_document_shared_source_keeps_its_accounts_on_the_copy(run_runbook, rds_doc, kind, source):
    share(rds_doc, source, PARTNER, kind=kind)
    key = key_for(PARTNER)
    execution = run_runbook(DOC, SourceDBSnapshotIdentifier=source, TargetDBSnapshotIdentifier=f"{source}-encrypted",
                            DBSnapshotType=kind, KmsKeyId=key)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    if kind == "snapshot":
        assert shared_with(rds_doc, f"{source}-encrypted") == [PARTNER]
    else:
        attrs = rds_doc.describe_db_cluster_snapshot_attributes(DBClusterSnapshotIdentifier=f"{source}-encrypted")
        restore = [a for a in attrs["DBClusterSnapshotAttributesResult"]["DBClusterSnapshotAttributes"]
                   if a["AttributeName"] == "restore"]
        assert restore[0]["AttributeValues"] == [PARTNER]
    assert snapshot(rds_doc, kind, source) is None
    assert output(execution, "VerifyCopyAndDeleteSource.Output")["SharedWith"] == PARTNER


def test_document_shared_source_with_the_default_key_fails_and_changes_nothing(run_runbook, rds_doc):
    share(rds_doc, "snap", PARTNER)
    execution = run_runbook(DOC, SourceDBSnapshotIdentifier="snap", TargetDBSnapshotIdentifier="snap-encrypted",
                            DBSnapshotType="snapshot")
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"shared with {PARTNER}" in execution["FailureMessage"]
    assert snapshot(rds_doc, "snapshot", "snap") is not None and snapshot(rds_doc, "snapshot", "snap-encrypted") is None


def test_document_second_run_changes_nothing(run_runbook, rds_doc):
    params = {"SourceDBSnapshotIdentifier": "snap", "TargetDBSnapshotIdentifier": "snap-encrypted",
              "DBSnapshotType": "snapshot"}
    first = run_runbook(DOC, **params)
    copy_after_first = snapshot(rds_doc, "snapshot", "snap-encrypted")
    second = run_runbook(DOC, **params)
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert snapshot(rds_doc, "snapshot", "snap-encrypted") == copy_after_first
    assert "nothing changed" in output(second, "VerifyCopyAndDeleteSource.Output")["Message"]


def test_document_existing_unencrypted_target_is_refused_and_the_source_kept(run_runbook, rds_doc):
    rds_doc.create_db_snapshot(DBInstanceIdentifier="db1", DBSnapshotIdentifier="taken")
    execution = run_runbook(DOC, SourceDBSnapshotIdentifier="snap", TargetDBSnapshotIdentifier="taken",
                            DBSnapshotType="snapshot")
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "TargetDBSnapshotIdentifier taken exists and is not encrypted" in execution["FailureMessage"]
    assert snapshot(rds_doc, "snapshot", "snap") is not None


@pytest.mark.parametrize("source, kind", [("ghost", "snapshot"), ("snap", "cluster-snapshot")])
def test_document_missing_or_wrong_type_source_fails_naming_it(run_runbook, rds_doc, source, kind):
    execution = run_runbook(DOC, SourceDBSnapshotIdentifier=source, TargetDBSnapshotIdentifier="x-encrypted",
                            DBSnapshotType=kind)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"SourceDBSnapshotIdentifier {source}: no such" in execution["FailureMessage"]
    assert snapshot(rds_doc, "snapshot", "snap") is not None


def test_document_missing_key_fails_naming_it_and_copies_nothing(run_runbook, rds_doc):
    execution = run_runbook(DOC, SourceDBSnapshotIdentifier="snap", TargetDBSnapshotIdentifier="snap-encrypted",
                            DBSnapshotType="snapshot", KmsKeyId="alias/missing")
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "KmsKeyId alias/missing: no such KMS key" in execution["FailureMessage"]
    assert snapshot(rds_doc, "snapshot", "snap-encrypted") is None
    assert snapshot(rds_doc, "snapshot", "snap") is not None


@pytest.mark.parametrize("param, bad", [
    ("SourceDBSnapshotIdentifier", "arn:aws:rds:us-east-1:111111111111:snapshot:snap"),
    ("TargetDBSnapshotIdentifier", "rds:snap-encrypted"),
    ("DBSnapshotType", "automated"),
    ("KmsKeyId", "my-key"),
])
def test_document_malformed_input_is_rejected_naming_the_parameter(run_runbook, param, bad):
    params = {"SourceDBSnapshotIdentifier": "snap", "TargetDBSnapshotIdentifier": "snap-encrypted",
              "DBSnapshotType": "snapshot", param: bad}
    with pytest.raises(ParameterValidationError, match=f"parameter '{param}'"):
        run_runbook(DOC, **params)
