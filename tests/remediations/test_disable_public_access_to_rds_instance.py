"""ASR-DisablePublicAccessToRDSInstance: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

from functools import partial

import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.disable_public_access_to_rds_instance import (
    RemediationError,
    disable_public_access,
)
from tests.conftest import OTHER_ACCOUNT
from tests.remediations.helpers import output
from tests.remediations.helpers.rds import instance_arn, instance_state, make_instance, make_multi_az_db_cluster

DOC = "DisablePublicAccessToRDSInstance"

# Instances here start public unless a test says otherwise.
make_public_instance = partial(make_instance, PubliclyAccessible=True)


# --- script --------------------------------------------------------------------


def test_script_makes_the_named_instance_private_only(rds):
    make_public_instance(rds, "orders")
    make_public_instance(rds, "orders2")
    out = disable_public_access({"DBInstanceIdentifier": "orders"}, None)
    assert instance_state(rds, "orders")["PubliclyAccessible"] is False
    assert instance_state(rds, "orders2")["PubliclyAccessible"] is True
    assert out["PubliclyAccessibleBefore"] == "true"


def test_script_private_instance_is_left_alone(rds):
    make_instance(rds, "quiet", PubliclyAccessible=False)
    out = disable_public_access({"DBInstanceIdentifier": "quiet"}, None)
    assert "nothing changed" in out["Message"]


def test_script_refuses_a_multi_az_db_cluster_member(rds):
    make_multi_az_db_cluster(rds, "maz")
    make_public_instance(rds, "maz-1", DBClusterIdentifier="maz")
    with pytest.raises(RemediationError, match="Multi-AZ DB cluster maz"):
        disable_public_access({"DBInstanceIdentifier": "maz-1"}, None)
    assert instance_state(rds, "maz-1")["PubliclyAccessible"] is True


# --- document ------------------------------------------------------------------


def test_document_resolves_the_arn_and_changes_only_that_instance(run_runbook, rds_doc):
    arn = make_public_instance(rds_doc, "billing", MultiAZ=True, DeletionProtection=True)
    make_public_instance(rds_doc, "billing-replica")
    before = instance_state(rds_doc, "billing")

    execution = run_runbook(DOC, RDSInstanceARN=arn)

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert instance_state(rds_doc, "billing") == {**before, "PubliclyAccessible": False}
    assert instance_state(rds_doc, "billing-replica")["PubliclyAccessible"] is True
    assert output(execution, "DisablePublicAccess.Output")["PubliclyAccessibleBefore"] == "true"


def test_document_second_run_changes_nothing(run_runbook, rds_doc):
    arn = make_public_instance(rds_doc, "twice")
    first = run_runbook(DOC, RDSInstanceARN=arn)
    after_first = instance_state(rds_doc, "twice")
    second = run_runbook(DOC, RDSInstanceARN=arn)
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert instance_state(rds_doc, "twice") == after_first
    assert "nothing changed" in output(second, "DisablePublicAccess.Output")["Message"]


def test_document_missing_instance_fails_naming_the_arn(run_runbook, rds_doc):
    make_public_instance(rds_doc, "ghost2")
    execution = run_runbook(DOC, RDSInstanceARN=instance_arn("ghost"))
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "db:ghost" in execution["FailureMessage"]
    assert instance_state(rds_doc, "ghost2")["PubliclyAccessible"] is True


@pytest.mark.parametrize("arn", [
    instance_arn("elsewhere", OTHER_ACCOUNT), instance_arn("elsewhere", region="eu-west-1"),
])
def test_document_arn_of_another_account_or_region_changes_nothing(run_runbook, rds_doc, arn, iam_enforcer):
    make_public_instance(rds_doc, "elsewhere")
    # The role is scoped to its own account: AWS denies it another account's resource outright.
    with iam_enforcer.expect_denial(lambda d: d.resource == arn) as denied:
        execution = run_runbook(DOC, RDSInstanceARN=arn)
    assert bool(denied) == (f":{OTHER_ACCOUNT}:" in arn)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert instance_state(rds_doc, "elsewhere")["PubliclyAccessible"] is True


@pytest.mark.parametrize("bad", [
    "orders",
    "arn:aws:rds:us-east-1:111111111111:cluster:orders",
    "arn:aws:rds:us-east-1:111111111111:db:orders--x",
    "arn:aws:rds:us-east-1:1111:db:orders",
])
def test_document_malformed_arn_is_rejected_by_the_pattern(run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="parameter 'RDSInstanceARN'"):
        run_runbook(DOC, RDSInstanceARN=bad)
