"""ASR-EnableMultiAZOnRDSInstance: the script against moto and Stubber, then the YAML document through the runner."""

from __future__ import annotations

import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_multi_az_on_rds_instance import (
    RemediationError,
    enable_multi_az,
    verify_multi_az,
)
from tests.conftest import REGION
from tests.remediations.helpers import output
from tests.remediations.helpers.rds import instance_arn, instance_state, make_aurora_instance, make_mysql_instance
from tests.remediations.helpers.stubs import stub_every_boto3_client

DOC = "EnableMultiAZOnRDSInstance"


# --- script --------------------------------------------------------------------


def test_script_enables_multi_az_on_the_named_instance_only(rds):
    make_mysql_instance(rds, "orders")
    make_mysql_instance(rds, "orders2")
    out = enable_multi_az({"DBInstanceIdentifier": "orders", "ApplyImmediately": False}, None)
    assert instance_state(rds, "orders")["MultiAZ"] is True
    assert instance_state(rds, "orders2")["MultiAZ"] is False
    assert out["MultiAZBefore"] == "disabled" and "maintenance window" in out["Message"]


def test_script_refuses_an_aurora_instance(rds):
    make_aurora_instance(rds, "aur", "aur-1", engine="aurora-mysql")
    with pytest.raises(RemediationError, match="belongs to DB cluster aur"):
        enable_multi_az({"DBInstanceIdentifier": "aur-1"}, None)


def _stubbed(monkeypatch, responses):
    """moto applies MultiAZ at once; real RDS reports it pending until the maintenance window."""
    stub = stub_every_boto3_client(monkeypatch, "rds", REGION)
    for method, response, params in responses:
        stub.add_response(method, response, params)
    return stub


def _db(multi_az: bool, pending: dict | None = None) -> dict:
    db = {"DBInstanceIdentifier": "pend", "DBInstanceArn": instance_arn("pend"), "Engine": "mysql",
          "DBInstanceStatus": "available", "MultiAZ": multi_az}
    if pending is not None:
        db["PendingModifiedValues"] = pending
    return {"DBInstances": [db]}


def test_script_pending_multi_az_is_not_requested_again_but_is_not_success(monkeypatch):
    """RDS.5 judges the current MultiAZ: a change pending for the maintenance window leaves the control
    FAILED, so the document must not report success (and so resolve the finding) while it is pending."""
    stub = _stubbed(monkeypatch, [
        ("describe_db_instances", _db(False, {"MultiAZ": True}), {"DBInstanceIdentifier": "pend"}),
        ("describe_db_instances", _db(False, {"MultiAZ": True}), {"DBInstanceIdentifier": "pend"}),
    ])
    out = enable_multi_az({"DBInstanceIdentifier": "pend", "ApplyImmediately": "false"}, None)
    assert out["MultiAZBefore"] == "pending" and "nothing changed" in out["Message"]
    with pytest.raises(RemediationError, match="pend: MultiAZ is pending .*maintenance window.*ApplyImmediately"):
        verify_multi_az({"DBInstanceIdentifier": "pend"}, None)
    stub.assert_no_pending_responses()


def test_script_a_change_requested_for_the_maintenance_window_fails_verification(monkeypatch):
    stub = _stubbed(monkeypatch, [
        ("describe_db_instances", _db(False, {}), {"DBInstanceIdentifier": "pend"}),
        ("modify_db_instance", {"DBInstance": {"DBInstanceIdentifier": "pend"}},
         {"DBInstanceIdentifier": "pend", "MultiAZ": True, "ApplyImmediately": False}),
        ("describe_db_instances", _db(False, {"MultiAZ": True}), {"DBInstanceIdentifier": "pend"}),
    ])
    enable_multi_az({"DBInstanceIdentifier": "pend", "ApplyImmediately": False}, None)
    with pytest.raises(RemediationError, match="MultiAZ is pending"):
        verify_multi_az({"DBInstanceIdentifier": "pend"}, None)
    stub.assert_no_pending_responses()


def test_script_verify_fails_when_neither_on_nor_pending(monkeypatch):
    _stubbed(monkeypatch, [("describe_db_instances", _db(False, {}), {"DBInstanceIdentifier": "pend"})])
    with pytest.raises(RemediationError, match="neither MultiAZ nor a pending MultiAZ change"):
        verify_multi_az({"DBInstanceIdentifier": "pend"}, None)


def test_script_passes_apply_immediately_through(monkeypatch):
    stub = _stubbed(monkeypatch, [
        ("describe_db_instances", _db(False, {}), {"DBInstanceIdentifier": "pend"}),
        ("modify_db_instance", {"DBInstance": {"DBInstanceIdentifier": "pend"}},
         {"DBInstanceIdentifier": "pend", "MultiAZ": True, "ApplyImmediately": True}),
    ])
    out = enable_multi_az({"DBInstanceIdentifier": "pend", "ApplyImmediately": True}, None)
    assert out["ApplyImmediately"] == "true"
    stub.assert_no_pending_responses()


# --- document ------------------------------------------------------------------


def test_document_enables_multi_az_and_changes_nothing_else(run_runbook, rds_doc):
    arn = make_mysql_instance(rds_doc, "billing", DeletionProtection=True, PubliclyAccessible=False)
    make_mysql_instance(rds_doc, "billing-bystander")
    before = instance_state(rds_doc, "billing")

    execution = run_runbook(DOC, RDSInstanceARN=arn)

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert instance_state(rds_doc, "billing") == {**before, "MultiAZ": True}
    assert instance_state(rds_doc, "billing-bystander")["MultiAZ"] is False
    assert output(execution, "EnableMultiAZ.Output")["ApplyImmediately"] == "false"
    assert output(execution, "VerifyMultiAZ.Output")["MultiAZ"] == "enabled"


def test_document_second_run_changes_nothing(run_runbook, rds_doc):
    arn = make_mysql_instance(rds_doc, "twice")
    first = run_runbook(DOC, RDSInstanceARN=arn, ApplyImmediately=True)
    after_first = instance_state(rds_doc, "twice")
    second = run_runbook(DOC, RDSInstanceARN=arn)
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert instance_state(rds_doc, "twice") == after_first
    assert "nothing changed" in output(second, "EnableMultiAZ.Output")["Message"]


def test_document_missing_instance_fails_naming_the_arn(run_runbook, rds_doc):
    make_mysql_instance(rds_doc, "ghost2")
    execution = run_runbook(DOC, RDSInstanceARN=instance_arn("ghost"))
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "db:ghost" in execution["FailureMessage"]
    assert instance_state(rds_doc, "ghost2")["MultiAZ"] is False


def test_document_aurora_instance_is_refused(run_runbook, rds_doc):
    make_aurora_instance(rds_doc, "aur", "aur-1", engine="aurora-mysql")
    execution = run_runbook(DOC, RDSInstanceARN=instance_arn("aur-1"))
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "belongs to DB cluster aur" in execution["FailureMessage"]


@pytest.mark.parametrize("param, bad", [
    ("RDSInstanceARN", "billing"),
    ("RDSInstanceARN", "arn:aws:rds:us-east-1:111111111111:snapshot:billing"),
    ("ApplyImmediately", "soon"),
])
def test_document_malformed_input_is_rejected_naming_the_parameter(run_runbook, param, bad):
    params = {"RDSInstanceARN": instance_arn("billing"), param: bad}
    with pytest.raises(ParameterValidationError, match=f"parameter '{param}'"):
        run_runbook(DOC, **params)
