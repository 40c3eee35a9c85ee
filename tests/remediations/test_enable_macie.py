"""ASR-EnableMacie: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import boto3
import pytest

from remediation_runbooks.scripts.enable_macie import RemediationError, enable_macie
from tests.conftest import ACCOUNT, OTHER_ACCOUNT
from tests.remediations.helpers.stubs import stub_every_boto3_client

NAME = "EnableMacie"


@pytest.fixture
def macie(aws):
    # moto starts every account and Region with Macie enabled; start from "never enabled".
    boto3.client("macie2", region_name="eu-west-1").disable_macie()
    with pytest.MonkeyPatch.context() as other:
        other.setenv("MOTO_ACCOUNT_ID", OTHER_ACCOUNT)
        boto3.client("macie2", region_name="us-east-1").disable_macie()
    client = boto3.client("macie2", region_name="us-east-1")
    client.disable_macie()
    return client


def _status(macie):
    try:
        return macie.get_macie_session()["status"]
    except macie.exceptions.ClientError:
        return "NOT_ENABLED"


def _stubbed(monkeypatch, responses):
    stub = stub_every_boto3_client(monkeypatch, "macie2")
    for method, response, params in responses:
        if isinstance(response, tuple):
            stub.add_client_error(
                method, service_error_code=response[0], service_message=response[1], http_status_code=403
            )
        else:
            stub.add_response(method, response, params)
    return stub


# --- script ------------------------------------------------------------------------


def test_script_enables_macie(macie):
    out = enable_macie({}, None)
    assert _status(macie) == "ENABLED"
    assert macie.get_macie_session()["findingPublishingFrequency"] == "SIX_HOURS"
    assert (out["StatusBefore"], out["StatusAfter"]) == ("NOT_ENABLED", "ENABLED")


def test_script_resumes_a_paused_macie(monkeypatch, as_remediation_role):
    # moto has no UpdateMacieSession (and no PAUSED status): proven with Stubber, as the remediation role.
    stub = _stubbed(
        monkeypatch,
        [
            ("get_macie_session", {"status": "PAUSED"}, {}),
            ("update_macie_session", {}, {"status": "ENABLED"}),
            ("get_macie_session", {"status": "ENABLED"}, {}),
        ],
    )
    with as_remediation_role("EnableMacie"):
        out = enable_macie({}, None)
    stub.assert_no_pending_responses()
    assert out["StatusBefore"] == "PAUSED"


def test_script_understands_real_macie_not_enabled_answer(monkeypatch):
    # Real Macie answers GetMacieSession with AccessDeniedException "Macie is not enabled".
    stub = _stubbed(
        monkeypatch,
        [
            ("get_macie_session", ("AccessDeniedException", "Macie is not enabled."), None),
            ("enable_macie", {}, {"findingPublishingFrequency": "SIX_HOURS", "status": "ENABLED"}),
            ("get_macie_session", {"status": "ENABLED"}, {}),
        ],
    )
    enable_macie({}, None)
    stub.assert_no_pending_responses()


def test_script_real_access_denied_is_not_mistaken_for_not_enabled(monkeypatch):
    _stubbed(
        monkeypatch,
        [
            (
                "get_macie_session",
                ("AccessDeniedException", "User is not authorized to perform macie2:GetMacieSession"),
                None,
            )
        ],
    )
    with pytest.raises(boto3.client("macie2", region_name="us-east-1").exceptions.AccessDeniedException):
        enable_macie({}, None)


def test_script_fails_if_the_status_does_not_become_enabled(monkeypatch):
    _stubbed(
        monkeypatch,
        [
            ("get_macie_session", {"status": "PAUSED"}, {}),
            ("update_macie_session", {}, {"status": "ENABLED"}),
            ("get_macie_session", {"status": "PAUSED"}, {}),
        ],
    )
    with pytest.raises(RemediationError, match="Macie status is PAUSED after the change"):
        enable_macie({}, None)


# --- document ----------------------------------------------------------------------


def test_document_enables_macie_in_this_account_and_region_only(macie, run_runbook):
    result = run_runbook(NAME)
    assert result["AutomationExecutionStatus"] == "Success", result.get("FailureMessage")
    assert _status(macie) == "ENABLED"
    assert _status(boto3.client("macie2", region_name="eu-west-1")) == "NOT_ENABLED"
    with pytest.MonkeyPatch.context() as other:
        other.setenv("MOTO_ACCOUNT_ID", OTHER_ACCOUNT)
        assert _status(boto3.client("macie2", region_name="us-east-1")) == "NOT_ENABLED"
    assert "Macie enabled" in str(result["Outputs"]["EnableMacie.Output"])


def test_document_second_run_changes_nothing(macie, run_runbook):
    assert run_runbook(NAME)["AutomationExecutionStatus"] == "Success"
    updated = macie.get_macie_session()["updatedAt"]
    result = run_runbook(NAME)
    assert result["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in str(result["Outputs"])
    assert macie.get_macie_session()["updatedAt"] == updated


def test_document_rejects_a_malformed_role(macie, run_runbook):
    from asr.simulator.errors import ParameterValidationError

    with pytest.raises(ParameterValidationError, match="parameter 'AutomationAssumeRole'"):
        run_runbook(NAME, AutomationAssumeRole=f"arn:aws:iam::{ACCOUNT}:user/someone")
    assert _status(macie) == "NOT_ENABLED"
