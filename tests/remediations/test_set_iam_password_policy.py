"""ASR-SetIAMPasswordPolicy: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from asr import documents
from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.set_iam_password_policy import RemediationError, set_iam_password_policy
from tests.remediations.helpers.iam import lag

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


def test_the_read_back_waits_for_the_policy_to_show(iam, monkeypatch):
    iam.update_account_password_policy(**WEAK)
    lag(monkeypatch, "get_account_password_policy", 2)
    slept: list[float] = []
    set_iam_password_policy(dict(CIS), None, sleep=slept.append)
    assert policy() == CIS and len(slept) == 2


def test_a_policy_that_never_shows_fails_after_a_bounded_wait(iam, monkeypatch):
    from remediation_runbooks.scripts import set_iam_password_policy as script

    iam.update_account_password_policy(**WEAK)
    lag(monkeypatch, "get_account_password_policy", 100)
    slept: list[float] = []
    with pytest.raises(RemediationError, match="did not take effect"):
        set_iam_password_policy(dict(CIS), None, sleep=slept.append)
    assert len(slept) == script.VERIFY_ATTEMPTS - 1


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


# --- the control runbooks: no standard's default locks users out --------------------------------


@pytest.fixture
def control_world(monkeypatch):
    """moto as the playbook tests run it (Security Hub BatchUpdateFindings, the solution's parameters)."""
    from tests.conftest import ACCOUNT, REGION, multi_account_moto
    from tests.playbooks import securityhub
    from tests.playbooks.harness import CLIENTS, solution_parameters

    CLIENTS.clear()
    securityhub.install(monkeypatch)
    with multi_account_moto(monkeypatch):
        solution_parameters(ACCOUNT, REGION)
        yield
    CLIENTS.clear()


@pytest.mark.parametrize("control_id", ["IAM.7", "IAM.15"])
def test_control_runbook_leaves_hard_expiry_off(control_world, control_id):
    """HardExpiry locks a user whose password expired out of the console until an administrator resets
    it; no Security Hub control asks for it (iam-password-policy has no such parameter), so the
    consolidated controls' runbook does not set it."""
    from asr.playbooks import data
    from asr.simulator.execution import Status as Run
    from tests.conftest import ACCOUNT
    from tests.playbooks.harness import client, finding_for, import_finding, real_registry, run_control

    std = data.load_standard("SC")
    finding = finding_for(std, control_id, f"AWS::::Account:{ACCOUNT}", resource_type="AwsAccount")
    import_finding(finding)
    _, execution = run_control(real_registry(), std, data.load_standard("SC").control(control_id).remap or control_id,
                               finding)
    assert execution.status is Run.SUCCESS, execution.failure_message
    got = client("iam").get_account_password_policy()["PasswordPolicy"]
    assert got["HardExpiry"] is False
    assert got["MaxPasswordAge"] == 90 and got["MinimumPasswordLength"] == 14
