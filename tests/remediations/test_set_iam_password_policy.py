"""ASR-SetIAMPasswordPolicy: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from asr import documents
from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.set_iam_password_policy import RemediationError, set_iam_password_policy

DOC = "SetIAMPasswordPolicy"
CIS = {
    "AllowUsersToChangePassword": True,
    "HardExpiry": False,
    "MaxPasswordAge": 90,
    "MinimumPasswordLength": 14,
    "PasswordReusePrevention": 24,
    "RequireLowercaseCharacters": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
    "RequireUppercaseCharacters": True,
}
WEAK = {
    "MinimumPasswordLength": 8, "RequireSymbols": False, "RequireNumbers": True,
    "RequireUppercaseCharacters": False, "RequireLowercaseCharacters": True,
    "AllowUsersToChangePassword": False, "MaxPasswordAge": 365, "PasswordReusePrevention": 3,
}


def policy() -> dict:
    got = boto3.client("iam").get_account_password_policy()["PasswordPolicy"]
    return {key: got.get(key) for key in CIS}


@pytest.fixture
def iam():
    with mock_aws():
        yield boto3.client("iam")


def test_document_defaults_are_the_cis_values():
    params = documents.runbook_source(DOC)["parameters"]
    assert {key: params[key]["default"] for key in CIS} == CIS


# --- script --------------------------------------------------------------------


def test_sets_the_cis_policy_over_a_weak_one(iam):
    iam.update_account_password_policy(**WEAK)
    out = set_iam_password_policy(dict(CIS), None)
    assert policy() == CIS
    assert out["KeptStricterExisting"] == "none"


def test_keeps_stricter_existing_settings(iam):
    iam.update_account_password_policy(
        MinimumPasswordLength=20, MaxPasswordAge=30, PasswordReusePrevention=24, HardExpiry=True,
        RequireSymbols=False, AllowUsersToChangePassword=True,
    )
    out = set_iam_password_policy(dict(CIS), None)
    assert policy() == {**CIS, "MinimumPasswordLength": 20, "MaxPasswordAge": 30, "HardExpiry": True}
    assert out["KeptStricterExisting"] == "HardExpiry, MaxPasswordAge, MinimumPasswordLength"


def test_out_of_range_value_names_the_input(iam):
    with pytest.raises(RemediationError, match="MinimumPasswordLength 200: must be between 6 and 128"):
        set_iam_password_policy({**CIS, "MinimumPasswordLength": 200}, None)


def test_string_flags_as_ssm_passes_them(iam):
    set_iam_password_policy({k: str(v).lower() for k, v in CIS.items()}, None)
    assert policy() == CIS


# --- document ------------------------------------------------------------------


def test_document_with_defaults_makes_a_weak_policy_cis_compliant(run_runbook):
    iam = boto3.client("iam")
    iam.update_account_password_policy(**WEAK)
    execution = run_runbook(DOC)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert policy() == CIS


def test_document_without_any_policy_creates_one(run_runbook):
    execution = run_runbook(DOC)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert policy() == CIS


def test_document_keeps_a_stricter_value(run_runbook):
    boto3.client("iam").update_account_password_policy(MinimumPasswordLength=32, MaxPasswordAge=60)
    execution = run_runbook(DOC)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert policy() == {**CIS, "MinimumPasswordLength": 32, "MaxPasswordAge": 60}
    assert "MinimumPasswordLength" in str(execution["Outputs"])


def test_document_second_run_changes_nothing(run_runbook):
    run_runbook(DOC)
    second = run_runbook(DOC)
    assert second["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in str(second["Outputs"])
    assert policy() == CIS


@pytest.mark.parametrize(
    ("param", "bad"),
    [("MinimumPasswordLength", 5), ("MaxPasswordAge", 0), ("PasswordReusePrevention", 25),
     ("MaxPasswordAge", "ninety")],
)
def test_document_rejects_out_of_range_values_and_changes_nothing(run_runbook, param, bad):
    boto3.client("iam").update_account_password_policy(**WEAK)
    with pytest.raises(ParameterValidationError, match=param):
        run_runbook(DOC, **{param: bad})
    assert boto3.client("iam").get_account_password_policy()["PasswordPolicy"]["MinimumPasswordLength"] == 8
