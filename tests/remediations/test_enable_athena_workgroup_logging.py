"""ASR-EnableAthenaWorkGroupLogging: the script and the YAML document through the runner.

Most Athena calls here are answered by botocore's Stubber against the real API shapes: the
Stubber checks each request (operation and exact parameters) and fails on any call it was not
told to expect, so a test also proves that no other workgroup is touched. The document tests
patch the Stubber-backed client into the runner's session (``stub_client``); the runner still
assumes the role and runs the document as usual on moto. The last tests run on moto alone, whose
missing UpdateWorkGroup asr/simulator/emulation/athena.py adds from the API reference: they prove
the effect on the workgroup's settings and on another workgroup.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_athena_workgroup_logging import (
    RemediationError,
    enable_workgroup_logging,
)

DOC = "EnableAthenaWorkGroupLogging"


def workgroup(name: str, publishing: bool) -> dict:
    return {
        "WorkGroup": {
            "Name": name,
            "State": "ENABLED",
            "Configuration": {
                "ResultConfiguration": {"OutputLocation": "s3://results/"},
                "EnforceWorkGroupConfiguration": True,
                "PublishCloudWatchMetricsEnabled": publishing,
            },
        }
    }


def expect_enable(stubber: Stubber, name: str) -> None:
    stubber.add_response("get_work_group", workgroup(name, False), {"WorkGroup": name})
    stubber.add_response(
        "update_work_group", {}, {"WorkGroup": name, "ConfigurationUpdates": {"PublishCloudWatchMetricsEnabled": True}}
    )
    stubber.add_response("get_work_group", workgroup(name, True), {"WorkGroup": name})


# --- script --------------------------------------------------------------------


def test_turns_metrics_on_with_exactly_one_update(stub_client):
    athena = stub_client("athena")
    expect_enable(athena, "analysts")
    out = enable_workgroup_logging({"WorkGroupName": "analysts"}, None)
    athena.assert_no_pending_responses()
    assert out["PublishCloudWatchMetricsBefore"] == "false" and out["PublishCloudWatchMetricsAfter"] == "true"


def test_missing_workgroup_names_the_input(stub_client):
    athena = stub_client("athena")
    athena.add_client_error(
        "get_work_group",
        "InvalidRequestException",
        "WorkGroup ghost is not found.",
        expected_params={"WorkGroup": "ghost"},
    )
    with pytest.raises(RemediationError, match="WorkGroupName ghost: no such Athena workgroup"):
        enable_workgroup_logging({"WorkGroupName": "ghost"}, None)
    athena.assert_no_pending_responses()  # no update was attempted


# --- document ------------------------------------------------------------------


def test_document_turns_metrics_on_and_touches_nothing_else(run_runbook, stub_client):
    athena = stub_client("athena")
    expect_enable(athena, "analysts")
    execution = run_runbook(DOC, WorkGroupName="analysts")
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    athena.assert_no_pending_responses()
    assert "EnableWorkGroupLogging.Output" in execution["Outputs"]


def test_document_second_run_changes_nothing(run_runbook, stub_client):
    athena = stub_client("athena")
    for _ in range(2):  # an already-publishing workgroup is read twice and never updated
        athena.add_response("get_work_group", workgroup("analysts", True), {"WorkGroup": "analysts"})
    execution = run_runbook(DOC, WorkGroupName="analysts")
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    athena.assert_no_pending_responses()
    assert "nothing changed" in str(execution["Outputs"])


@pytest.mark.parametrize("bad", ["", "a/b", "x" * 129, "arn:aws:athena:us-east-1:111111111111:workgroup/wg"])
def test_document_rejects_a_malformed_name(run_runbook, stub_client, bad):
    athena = stub_client("athena")  # no response queued: any Athena call would fail the test
    with pytest.raises(ParameterValidationError, match="WorkGroupName"):
        run_runbook(DOC, WorkGroupName=bad)
    athena.assert_no_pending_responses()


def test_document_fails_on_a_missing_workgroup_naming_it(run_runbook, stub_client):
    athena = stub_client("athena")
    athena.add_client_error(
        "get_work_group",
        "InvalidRequestException",
        "WorkGroup absent is not found.",
        expected_params={"WorkGroup": "absent"},
    )
    execution = run_runbook(DOC, WorkGroupName="absent")
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "WorkGroupName absent" in execution["FailureMessage"]
    athena.assert_no_pending_responses()


# --- on emulated Athena (moto + asr/simulator/emulation/athena.py) --------------------------------


def test_document_on_emulated_athena_turns_metrics_on_and_keeps_the_rest(run_runbook):
    athena = boto3.client("athena", region_name="us-east-1")
    settings = workgroup("x", False)["WorkGroup"]["Configuration"]
    for name in ("analysts", "other"):
        athena.create_work_group(Name=name, Description=name, Configuration=dict(settings))
    before = athena.get_work_group(WorkGroup="analysts")["WorkGroup"]
    other = athena.get_work_group(WorkGroup="other")["WorkGroup"]
    first = run_runbook(DOC, WorkGroupName="analysts")
    assert first["AutomationExecutionStatus"] == "Success", first.get("FailureMessage")
    after = athena.get_work_group(WorkGroup="analysts")["WorkGroup"]
    assert after["Configuration"] == {**before["Configuration"], "PublishCloudWatchMetricsEnabled": True}
    assert (after["Description"], after["State"]) == (before["Description"], before["State"])
    assert athena.get_work_group(WorkGroup="other")["WorkGroup"]["Configuration"] == other["Configuration"]

    second = run_runbook(DOC, WorkGroupName="analysts")
    assert second["AutomationExecutionStatus"] == "Success", second.get("FailureMessage")
    assert "nothing changed" in str(second["Outputs"])
    assert athena.get_work_group(WorkGroup="analysts")["WorkGroup"]["Configuration"] == after["Configuration"]


def test_document_on_emulated_athena_fails_on_a_missing_workgroup(run_runbook):
    execution = run_runbook(DOC, WorkGroupName="absent")
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "WorkGroupName absent: no such Athena workgroup" in execution["FailureMessage"]
