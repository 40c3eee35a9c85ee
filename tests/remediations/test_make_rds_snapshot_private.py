"""ASR-MakeRDSSnapshotPrivate: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.make_rds_snapshot_private import RemediationError, make_snapshot_private
from tests.conftest import OTHER_ACCOUNT
from tests.remediations.helpers import output
from tests.remediations.helpers.rds import make_aurora_cluster, make_instance

DOC = "MakeRDSSnapshotPrivate"


def make_snapshots(rds) -> None:
    """A public DB snapshot and a public cluster snapshot, both also shared with OTHER_ACCOUNT, plus bystanders."""
    make_instance(rds, "db1")
    make_aurora_cluster(rds, "cl1")
    for name in ("snap", "snap-bystander"):
        rds.create_db_snapshot(DBInstanceIdentifier="db1", DBSnapshotIdentifier=name)
        rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=name, AttributeName="restore",
                                         ValuesToAdd=["all", OTHER_ACCOUNT])
    for name in ("csnap", "csnap-bystander"):
        rds.create_db_cluster_snapshot(DBClusterIdentifier="cl1", DBClusterSnapshotIdentifier=name)
        rds.modify_db_cluster_snapshot_attribute(DBClusterSnapshotIdentifier=name, AttributeName="restore",
                                                 ValuesToAdd=["all", OTHER_ACCOUNT])


def shared(rds, snapshot_type: str, name: str) -> set[str]:
    if snapshot_type == "snapshot":
        attrs = rds.describe_db_snapshot_attributes(DBSnapshotIdentifier=name)[
            "DBSnapshotAttributesResult"]["DBSnapshotAttributes"]
    else:
        attrs = rds.describe_db_cluster_snapshot_attributes(DBClusterSnapshotIdentifier=name)[
            "DBClusterSnapshotAttributesResult"]["DBClusterSnapshotAttributes"]
    return {v for a in attrs if a["AttributeName"] == "restore" for v in a.get("AttributeValues", [])}


@pytest.fixture
def rds(rds):
    make_snapshots(rds)
    return rds


@pytest.fixture
def rds_doc(rds_doc):
    make_snapshots(rds_doc)
    return rds_doc


CASES = [("snapshot", "snap"), ("cluster-snapshot", "csnap")]


# --- script --------------------------------------------------------------------


@pytest.mark.parametrize("snapshot_type, name", CASES)
def test_script_removes_only_public_sharing(rds, snapshot_type, name):
    out = make_snapshot_private({"DBSnapshotId": name, "DBSnapshotType": snapshot_type}, None)
    assert shared(rds, snapshot_type, name) == {OTHER_ACCOUNT}
    assert shared(rds, snapshot_type, f"{name}-bystander") == {"all", OTHER_ACCOUNT}
    assert out["SharedWithAfter"] == OTHER_ACCOUNT


def test_script_wrong_type_names_the_input_and_changes_nothing(rds):
    with pytest.raises(RemediationError, match="DBSnapshotId snap: no such DB cluster snapshot"):
        make_snapshot_private({"DBSnapshotId": "snap", "DBSnapshotType": "cluster-snapshot"}, None)
    assert shared(rds, "snapshot", "snap") == {"all", OTHER_ACCOUNT}


# --- document ------------------------------------------------------------------


@pytest.mark.parametrize("snapshot_type, name", CASES)
def test_document_makes_the_snapshot_private_and_keeps_named_accounts(run_runbook, rds_doc, snapshot_type, name):
    execution = run_runbook(DOC, DBSnapshotId=name, DBSnapshotType=snapshot_type)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert shared(rds_doc, snapshot_type, name) == {OTHER_ACCOUNT}
    assert shared(rds_doc, snapshot_type, f"{name}-bystander") == {"all", OTHER_ACCOUNT}
    out = output(execution, "MakeRDSSnapshotPrivate.Output")
    assert set(out["SharedWithBefore"].split(",")) == {"all", OTHER_ACCOUNT}


@pytest.mark.parametrize("snapshot_type, name", CASES)
def test_document_second_run_changes_nothing(run_runbook, rds_doc, snapshot_type, name):
    first = run_runbook(DOC, DBSnapshotId=name, DBSnapshotType=snapshot_type)
    second = run_runbook(DOC, DBSnapshotId=name, DBSnapshotType=snapshot_type)
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert shared(rds_doc, snapshot_type, name) == {OTHER_ACCOUNT}
    assert "nothing changed" in output(second, "MakeRDSSnapshotPrivate.Output")["Message"]


@pytest.mark.parametrize("snapshot_id, snapshot_type", [("ghost", "snapshot"), ("snap", "cluster-snapshot")])
def test_document_missing_or_wrong_type_fails_naming_the_input(run_runbook, rds_doc, snapshot_id, snapshot_type):
    execution = run_runbook(DOC, DBSnapshotId=snapshot_id, DBSnapshotType=snapshot_type)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"DBSnapshotId {snapshot_id}: no such" in execution["FailureMessage"]
    assert shared(rds_doc, "snapshot", "snap") == {"all", OTHER_ACCOUNT}


@pytest.mark.parametrize("param, bad", [
    ("DBSnapshotId", "arn:aws:rds:us-east-1:111111111111:snapshot:snap"),
    ("DBSnapshotId", "snap--1"),
    ("DBSnapshotType", "dbsnapshot"),
])
def test_document_malformed_input_is_rejected_naming_the_parameter(run_runbook, param, bad):
    params = {"DBSnapshotId": "snap", "DBSnapshotType": "snapshot", param: bad}
    with pytest.raises(ParameterValidationError, match=f"parameter '{param}'"):
        run_runbook(DOC, **params)
