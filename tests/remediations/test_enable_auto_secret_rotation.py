"""ASR-EnableAutoSecretRotation: the script against moto, then the YAML document through the runner.

moto runs rotation functions in Docker; these tests switch moto's Lambda to its
no-Docker stub (``use_docker: False``), so RotateSecret calls a real (stubbed) function.
"""

from __future__ import annotations

import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.secret_rotation import RemediationError, enable_auto_rotation
from tests.conftest import ACCOUNT, REGION
from tests.remediations.helpers.secretsmanager import rotation, rotation_function, secret_with_function

DOC = "EnableAutoSecretRotation"

pytestmark = pytest.mark.usefixtures("lambda_without_docker")


def value(sm, arn: str) -> str:
    return sm.get_secret_value(SecretId=arn)["SecretString"]


# --- script --------------------------------------------------------------------


def test_turns_rotation_on_with_the_configured_function(sm):
    function = rotation_function()
    arn = secret_with_function(sm, "db-password", function)
    bystander = secret_with_function(sm, "db-password-bystander", function)
    out = enable_auto_rotation({"SecretARN": arn, "MaximumAllowedRotationFrequency": 90}, None)
    assert rotation(sm, arn) == (True, 90, function)
    assert rotation(sm, bystander) == (False, 30, function)
    assert value(sm, arn) == "s3cr3t"
    assert out["RotationBefore"] == "disabled" and out["RotationAfter"] == "every 90 days"


def test_a_shorter_schedule_is_kept(sm):
    arn = secret_with_function(sm, "fast", rotation_function(), enabled=True, days=7)
    out = enable_auto_rotation({"SecretARN": arn, "MaximumAllowedRotationFrequency": 90}, None)
    assert rotation(sm, arn)[:2] == (True, 7)
    assert "nothing changed" in out["Message"]


def test_a_longer_schedule_is_tightened(sm):
    arn = secret_with_function(sm, "slow", rotation_function(), enabled=True, days=365)
    enable_auto_rotation({"SecretARN": arn, "MaximumAllowedRotationFrequency": 90}, None)
    assert rotation(sm, arn)[:2] == (True, 90)


def test_secret_without_rotation_function_is_refused(sm):
    arn = sm.create_secret(Name="plain", SecretString="x")["ARN"]
    with pytest.raises(RemediationError, match="SecretARN .*plain.*: no rotation function is configured"):
        enable_auto_rotation({"SecretARN": arn, "MaximumAllowedRotationFrequency": 90}, None)
    assert "RotationEnabled" not in sm.describe_secret(SecretId=arn)


def test_missing_secret_names_the_input(sm):
    arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ghost-AbCdEf"
    with pytest.raises(RemediationError, match="SecretARN .*ghost-AbCdEf: no such secret"):
        enable_auto_rotation({"SecretARN": arn, "MaximumAllowedRotationFrequency": 90}, None)


# --- document ------------------------------------------------------------------


def test_document_turns_rotation_on_and_changes_nothing_else(run_runbook, sm_doc):
    function = rotation_function()
    arn = secret_with_function(sm_doc, "api-key", function)
    bystander = secret_with_function(sm_doc, "api-key-bystander", function)

    execution = run_runbook(DOC, SecretARN=arn)

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert rotation(sm_doc, arn) == (True, 90, function)
    assert rotation(sm_doc, bystander) == (False, 30, function)
    assert value(sm_doc, arn) == "s3cr3t"
    assert sm_doc.describe_secret(SecretId=arn)["Tags"] == [{"Key": "team", "Value": "sec"}]
    assert "EnableAutoSecretRotation.Output" in execution["Outputs"]


def test_document_second_run_changes_nothing(run_runbook, sm_doc):
    arn = secret_with_function(sm_doc, "twice", rotation_function())
    first = run_runbook(DOC, SecretARN=arn, MaximumAllowedRotationFrequency=30)
    second = run_runbook(DOC, SecretARN=arn, MaximumAllowedRotationFrequency=30)
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert rotation(sm_doc, arn)[:2] == (True, 30)
    assert "nothing changed" in str(second["Outputs"])


@pytest.mark.parametrize(("name", "value_"), [
    ("SecretARN", "db-password"),
    ("SecretARN", "arn:aws:ssm:us-east-1:111111111111:parameter/db-password"),
    ("MaximumAllowedRotationFrequency", 0),
    ("MaximumAllowedRotationFrequency", 1001),
])
def test_document_rejects_malformed_input(run_runbook, sm_doc, name, value_):
    arn = secret_with_function(sm_doc, "db-password", rotation_function())
    given = {"SecretARN": arn, name: value_}
    with pytest.raises(ParameterValidationError, match=name):
        run_runbook(DOC, **given)
    assert rotation(sm_doc, arn)[0] is False


def test_document_fails_without_rotation_function_naming_the_secret(run_runbook, sm_doc):
    arn = sm_doc.create_secret(Name="plain", SecretString="x")["ARN"]
    execution = run_runbook(DOC, SecretARN=arn)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "SecretARN" in execution["FailureMessage"] and "no rotation function" in execution["FailureMessage"]
    assert "RotationEnabled" not in sm_doc.describe_secret(SecretId=arn)
