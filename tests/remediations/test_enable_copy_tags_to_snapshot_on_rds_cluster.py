"""ASR-EnableCopyTagsToSnapshotOnRDSCluster: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_copy_tags_to_snapshot_on_rds_cluster import enable_copy_tags_to_snapshot
from tests.conftest import OTHER_ACCOUNT
from tests.remediations.helpers import output
from tests.remediations.helpers.rds import cluster_arn, cluster_state, make_aurora_cluster

DOC = "EnableCopyTagsToSnapshotOnRDSCluster"


def test_script_enables_copy_tags_on_the_named_cluster_only(rds):
    make_aurora_cluster(rds, "orders")
    make_aurora_cluster(rds, "orders2")
    out = enable_copy_tags_to_snapshot({"DBClusterIdentifier": "orders"}, None)
    assert cluster_state(rds, "orders")["CopyTagsToSnapshot"] is True
    assert cluster_state(rds, "orders2")["CopyTagsToSnapshot"] is False
    assert out["CopyTagsToSnapshotBefore"] == "false"


def test_document_enables_copy_tags_and_changes_nothing_else(run_runbook, rds_doc):
    arn = make_aurora_cluster(rds_doc, "billing", DeletionProtection=True, BackupRetentionPeriod=7)
    make_aurora_cluster(rds_doc, "billing-bystander")
    before = cluster_state(rds_doc, "billing")

    execution = run_runbook(DOC, RDSClusterARN=arn)

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert cluster_state(rds_doc, "billing") == {**before, "CopyTagsToSnapshot": True}
    assert cluster_state(rds_doc, "billing-bystander")["CopyTagsToSnapshot"] is False
    assert output(execution, "EnableCopyTagsToSnapshot.Output")["DBClusterArn"] == arn


def test_document_second_run_changes_nothing(run_runbook, rds_doc):
    arn = make_aurora_cluster(rds_doc, "twice")
    first = run_runbook(DOC, RDSClusterARN=arn)
    after_first = cluster_state(rds_doc, "twice")
    second = run_runbook(DOC, RDSClusterARN=arn)
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert cluster_state(rds_doc, "twice") == after_first
    assert "nothing changed" in output(second, "EnableCopyTagsToSnapshot.Output")["Message"]


@pytest.mark.parametrize("arn", [cluster_arn("ghost"), cluster_arn("billing", OTHER_ACCOUNT)])
def test_document_missing_cluster_fails_naming_the_arn(run_runbook, rds_doc, arn, iam_enforcer):
    make_aurora_cluster(rds_doc, "billing")
    # The role is scoped to its own account: AWS denies it another account's resource outright.
    with iam_enforcer.expect_denial(lambda d: d.resource == arn) as denied:
        execution = run_runbook(DOC, RDSClusterARN=arn)
    assert bool(denied) == (f":{OTHER_ACCOUNT}:" in arn)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert arn in execution["FailureMessage"]
    assert cluster_state(rds_doc, "billing")["CopyTagsToSnapshot"] is False


@pytest.mark.parametrize("bad", [
    "billing",
    "arn:aws:rds:us-east-1:111111111111:db:billing",
    "arn:aws:rds:us-east-1:111111111111:cluster:billing-",
])
def test_document_malformed_arn_is_rejected_by_the_pattern(run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="parameter 'RDSClusterARN'"):
        run_runbook(DOC, RDSClusterARN=bad)


def test_document_passes_apply_immediately_as_given(run_runbook, rds_doc):
    arn = make_aurora_cluster(rds_doc, "now")
    execution = run_runbook(DOC, RDSClusterARN=arn, ApplyImmediately=True)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert cluster_state(rds_doc, "now")["CopyTagsToSnapshot"] is True
    with pytest.raises(ParameterValidationError, match="parameter 'ApplyImmediately'"):
        run_runbook(DOC, RDSClusterARN=arn, ApplyImmediately="maybe")
