"""ASR-EnableRDSInstanceDeletionProtection: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_rds_instance_deletion_protection import (
    RemediationError,
    enable_deletion_protection,
)
from tests.conftest import OTHER_ACCOUNT
from tests.remediations.helpers import output
from tests.remediations.helpers.rds import instance_arn, instance_state, make_aurora_instance, make_mysql_instance

DOC = "EnableRDSInstanceDeletionProtection"


# --- script --------------------------------------------------------------------


def test_script_protects_the_named_instance_only(rds):
    make_mysql_instance(rds, "orders")
    make_mysql_instance(rds, "orders2")
    out = enable_deletion_protection({"DBInstanceIdentifier": "orders", "ApplyImmediately": False}, None)
    assert instance_state(rds, "orders")["DeletionProtection"] is True
    assert instance_state(rds, "orders2")["DeletionProtection"] is False
    assert out["DeletionProtectionBefore"] == "false"


def test_script_refuses_an_aurora_instance_and_points_to_the_cluster_runbook(rds):
    make_aurora_instance(rds, "aur", "aur-1", engine="aurora-postgresql")
    with pytest.raises(RemediationError, match="ASR-EnableRDSClusterDeletionProtection"):
        enable_deletion_protection({"DBInstanceIdentifier": "aur-1"}, None)
    assert rds.describe_db_clusters(DBClusterIdentifier="aur")["DBClusters"][0]["DeletionProtection"] is False


# --- document ------------------------------------------------------------------


def test_document_protects_the_instance_and_changes_nothing_else(run_runbook, rds_doc):
    arn = make_mysql_instance(rds_doc, "billing", MultiAZ=True, PubliclyAccessible=True)
    make_mysql_instance(rds_doc, "billing-bystander")
    before = instance_state(rds_doc, "billing")

    execution = run_runbook(DOC, RDSInstanceARN=arn)

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert instance_state(rds_doc, "billing") == {**before, "DeletionProtection": True}
    assert instance_state(rds_doc, "billing-bystander")["DeletionProtection"] is False
    assert output(execution, "VerifyDeletionProtection.Output")["DeletionProtection"] == "true"


def test_document_second_run_changes_nothing(run_runbook, rds_doc):
    arn = make_mysql_instance(rds_doc, "twice")
    first = run_runbook(DOC, RDSInstanceARN=arn, ApplyImmediately=True)
    after_first = instance_state(rds_doc, "twice")
    second = run_runbook(DOC, RDSInstanceARN=arn)
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert instance_state(rds_doc, "twice") == after_first
    assert "nothing changed" in output(second, "EnableDeletionProtection.Output")["Message"]


@pytest.mark.parametrize("arn", [instance_arn("ghost"), instance_arn("billing", OTHER_ACCOUNT)])
def test_document_missing_instance_fails_naming_the_arn(run_runbook, rds_doc, arn, iam_enforcer):
    make_mysql_instance(rds_doc, "billing")
    # The role is scoped to its own account: AWS denies it another account's resource outright.
    with iam_enforcer.expect_denial(lambda d: d.resource == arn) as denied:
        execution = run_runbook(DOC, RDSInstanceARN=arn)
    assert bool(denied) == (f":{OTHER_ACCOUNT}:" in arn)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert arn in execution["FailureMessage"]
    assert instance_state(rds_doc, "billing")["DeletionProtection"] is False


@pytest.mark.parametrize("param, bad", [
    ("RDSInstanceARN", "arn:aws:rds:us-east-1:111111111111:cluster:billing"),
    ("RDSInstanceARN", "db-ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    ("ApplyImmediately", "later"),
])
def test_document_malformed_input_is_rejected_naming_the_parameter(run_runbook, param, bad):
    params = {"RDSInstanceARN": instance_arn("billing"), param: bad}
    with pytest.raises(ParameterValidationError, match=f"parameter '{param}'"):
        run_runbook(DOC, **params)
