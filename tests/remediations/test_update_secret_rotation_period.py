"""ASR-UpdateSecretRotationPeriod: the script against moto, then the YAML document through the runner.

moto sets LastRotatedDate to "now" on every RotateSecret call; tests that need an
overdue secret set the date in moto's backend (``overdue``).
"""

from __future__ import annotations

import json

import pytest
from moto.awslambda_simple.models import LambdaSimpleBackend

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.secret_rotation import RemediationError, update_rotation_period
from tests.conftest import ACCOUNT, REGION
from tests.remediations.helpers.secretsmanager import (
    backdate_secret,
    rotation,
    rotation_function,
    secret_with_function,
)

DOC = "UpdateSecretRotationPeriod"

pytestmark = pytest.mark.usefixtures("lambda_without_docker")


def overdue(name: str, days: int) -> None:
    backdate_secret(name, "last_rotation_date", days)


def versions(sm, arn: str) -> dict[str, list[str]]:
    return sm.describe_secret(SecretId=arn)["VersionIdsToStages"]


@pytest.fixture
def rotations(monkeypatch) -> list[tuple[str, str]]:
    """(secret name, step) of every rotation-function call moto makes, from the moment the test starts it."""
    calls: list[tuple[str, str]] = []
    original = LambdaSimpleBackend.invoke

    def invoke(self, function_name, qualifier, body, headers, response_headers):
        event = json.loads(body)
        calls.append((event["SecretId"], event["Step"]))
        return original(self, function_name, qualifier, body, headers, response_headers)

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    return calls


def rotated_now(calls: list[tuple[str, str]], name: str) -> bool:
    return (name, "createSecret") in calls


# --- script --------------------------------------------------------------------


def test_overdue_secret_gets_a_schedule_and_rotates_now(sm, rotations):
    function = rotation_function()
    arn = secret_with_function(sm, "db", function, enabled=True, days=365)
    bystander = secret_with_function(sm, "db-bystander", function, enabled=True, days=365)
    overdue("db", 200)
    overdue("db-bystander", 200)
    rotations.clear()

    out = update_rotation_period({"SecretARN": arn, "MaxDaysSinceRotation": 90}, None)

    assert rotation(sm, arn) == (True, 90, function)
    assert rotated_now(rotations, "db")
    assert rotation(sm, bystander) == (True, 365, function)
    assert not rotated_now(rotations, "db-bystander")
    assert out["RotatedNow"] == "true"


def test_recently_rotated_secret_only_gets_the_schedule(sm, rotations):
    arn = secret_with_function(sm, "fresh", rotation_function(), enabled=False)
    rotations.clear()
    out = update_rotation_period({"SecretARN": arn, "MaxDaysSinceRotation": 90}, None)
    assert rotation(sm, arn)[:2] == (True, 90)
    assert not rotated_now(rotations, "fresh")
    assert out["RotatedNow"] == "false"


def test_secret_without_rotation_function_is_refused(sm):
    arn = sm.create_secret(Name="plain", SecretString="x")["ARN"]
    with pytest.raises(RemediationError, match="SecretARN .*plain.*: no rotation function is configured"):
        update_rotation_period({"SecretARN": arn, "MaxDaysSinceRotation": 90}, None)
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == "x"


# --- document ------------------------------------------------------------------


def test_document_fixes_schedule_and_rotation(run_runbook, sm_doc, rotations):
    function = rotation_function()
    arn = secret_with_function(sm_doc, "api", function, enabled=True, days=400)
    bystander = secret_with_function(sm_doc, "api-bystander", function, enabled=True, days=400)
    overdue("api", 120)
    overdue("api-bystander", 120)
    bystander_versions = versions(sm_doc, bystander)
    rotations.clear()

    execution = run_runbook(DOC, SecretARN=arn)

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert rotation(sm_doc, arn) == (True, 90, function)
    assert rotated_now(rotations, "api")
    assert rotation(sm_doc, bystander) == (True, 400, function)
    assert versions(sm_doc, bystander) == bystander_versions
    assert not rotated_now(rotations, "api-bystander")
    assert sm_doc.describe_secret(SecretId=arn)["Tags"] == [{"Key": "team", "Value": "sec"}]
    assert "UpdateSecretRotationPeriod.Output" in execution["Outputs"]


def test_document_second_run_changes_nothing(run_runbook, sm_doc, rotations):
    arn = secret_with_function(sm_doc, "twice", rotation_function(), enabled=True, days=400)
    overdue("twice", 120)
    first = run_runbook(DOC, SecretARN=arn, MaxDaysSinceRotation=60)
    state = (rotation(sm_doc, arn), versions(sm_doc, arn))
    rotations.clear()
    second = run_runbook(DOC, SecretARN=arn, MaxDaysSinceRotation=60)
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert (rotation(sm_doc, arn), versions(sm_doc, arn)) == state
    assert rotations == []
    assert "nothing changed" in str(second["Outputs"])


@pytest.mark.parametrize(("name", "value_"), [
    ("SecretARN", "arn:aws:secretsmanager:us-east-1:111111111111:db"),
    ("MaxDaysSinceRotation", 0),
    ("MaxDaysSinceRotation", "ninety"),
])
def test_document_rejects_malformed_input(run_runbook, sm_doc, name, value_):
    arn = secret_with_function(sm_doc, "db", rotation_function())
    with pytest.raises(ParameterValidationError, match=name):
        run_runbook(DOC, **{"SecretARN": arn, name: value_})
    assert rotation(sm_doc, arn)[0] is False


def test_document_fails_on_a_missing_secret_naming_it(run_runbook, sm_doc):
    arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:gone-AbCdEf"
    execution = run_runbook(DOC, SecretARN=arn)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "SecretARN" in execution["FailureMessage"] and "gone-AbCdEf" in execution["FailureMessage"]
