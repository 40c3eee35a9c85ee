"""ASR-RemoveUnusedSecret: the script against moto, then the YAML document through the runner.

moto never reports LastAccessedDate (it always returns null); the ``accessed`` fixture
makes moto's DescribeSecret report the date a test sets, and ``created`` back-dates a
secret's CreatedDate in moto's backend.
"""

from __future__ import annotations

import json
import time
from datetime import UTC

import pytest
from moto.secretsmanager.models import FakeSecret

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.remove_unused_secret import RemediationError, remove_unused_secret
from tests.conftest import ACCOUNT, REGION
from tests.remediations.helpers.secretsmanager import DAY, backdate_secret, timestamp_days_ago

DOC = "RemoveUnusedSecret"


@pytest.fixture
def accessed(monkeypatch):
    """``accessed(name, days_ago)``: moto reports the secret last read that many days ago."""
    dates: dict[str, int] = {}
    original = FakeSecret.to_dict

    def to_dict(self):
        result = original(self)
        if self.name in dates:
            result["LastAccessedDate"] = dates[self.name]
        return result

    monkeypatch.setattr(FakeSecret, "to_dict", to_dict)

    def set_date(name: str, days_ago: int) -> None:
        dates[name] = timestamp_days_ago(days_ago)

    return set_date


def created(name: str, days_ago: int) -> None:
    backdate_secret(name, "created_date", days_ago)


def deleted(sm, arn: str) -> bool:
    return bool(sm.describe_secret(SecretId=arn).get("DeletedDate"))


def event(arn: str, days: int = 90) -> dict:
    return {"SecretARN": arn, "UnusedForDays": days}


# --- script --------------------------------------------------------------------


def test_deletes_a_secret_unused_past_the_threshold_with_recovery_window(sm, accessed):
    arn = sm.create_secret(Name="old", SecretString="x")["ARN"]
    other = sm.create_secret(Name="old-bystander", SecretString="y")["ARN"]
    created("old", 400)
    created("old-bystander", 400)
    accessed("old", 91)
    accessed("old-bystander", 91)

    out = remove_unused_secret(event(arn), None)

    assert deleted(sm, arn) and not deleted(sm, other)
    assert out["Deleted"] == "true"
    deletion = sm.describe_secret(SecretId=arn)["DeletedDate"].timestamp()
    assert 29 * DAY < deletion - time.time() <= 30 * DAY  # 30-day recovery window
    sm.restore_secret(SecretId=arn)  # still recoverable
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == "x"


@pytest.mark.parametrize("days_ago", [0, 30, 90])
def test_never_deletes_a_secret_accessed_within_the_threshold(sm, accessed, days_ago):
    arn = sm.create_secret(Name="used", SecretString="x")["ARN"]
    created("used", 400)
    accessed("used", days_ago)
    with pytest.raises(
        RemediationError,
        match=f"SecretARN .*used.*: last accessed .* \\({days_ago} days ago\\), within UnusedForDays 90; not deleted",
    ):
        remove_unused_secret(event(arn), None)
    assert not deleted(sm, arn)


def test_a_never_read_secret_created_recently_is_not_unused(sm):
    arn = sm.create_secret(Name="new", SecretString="x")["ARN"]
    created("new", 10)
    with pytest.raises(RemediationError, match="never accessed; created .* \\(10 days ago\\)"):
        remove_unused_secret(event(arn), None)
    assert not deleted(sm, arn)


def test_a_never_read_secret_created_long_ago_is_unused(sm):
    arn = sm.create_secret(Name="forgotten", SecretString="x")["ARN"]
    created("forgotten", 120)
    out = remove_unused_secret(event(arn), None)
    assert deleted(sm, arn)
    assert "never accessed; created" in out["Message"]


def test_a_secret_managed_by_another_service_is_refused(sm):
    arn = sm.create_secret(
        Name="rds!db-1", SecretString="x", Tags=[{"Key": "aws:secretsmanager:owningService", "Value": "rds"}]
    )["ARN"]
    created("rds!db-1", 400)
    with pytest.raises(RemediationError, match="managed by rds"):
        remove_unused_secret(event(arn), None)
    assert not deleted(sm, arn)


def test_missing_secret_names_the_input(sm):
    arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ghost-AbCdEf"
    with pytest.raises(RemediationError, match="SecretARN .*ghost-AbCdEf: no such secret"):
        remove_unused_secret(event(arn), None)


# --- document ------------------------------------------------------------------


def test_document_deletes_only_the_unused_secret(run_runbook, sm_doc, accessed):
    arn = sm_doc.create_secret(Name="stale", SecretString="x", Tags=[{"Key": "team", "Value": "sec"}])["ARN"]
    other = sm_doc.create_secret(Name="stale-bystander", SecretString="y")["ARN"]
    for name in ("stale", "stale-bystander"):
        created(name, 500)
        accessed(name, 200)

    execution = run_runbook(DOC, SecretARN=arn)

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert deleted(sm_doc, arn) and not deleted(sm_doc, other)
    assert sm_doc.get_secret_value(SecretId=other)["SecretString"] == "y"
    assert "RestoreSecret" in execution["Outputs"]["RemoveUnusedSecret.Output"][0]


def test_document_second_run_changes_nothing(run_runbook, sm_doc, accessed):
    arn = sm_doc.create_secret(Name="twice", SecretString="x")["ARN"]
    created("twice", 500)
    accessed("twice", 200)
    first = run_runbook(DOC, SecretARN=arn)
    deletion = sm_doc.describe_secret(SecretId=arn)["DeletedDate"]
    second = run_runbook(DOC, SecretARN=arn)
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert sm_doc.describe_secret(SecretId=arn)["DeletedDate"] == deletion
    assert "nothing changed" in str(second["Outputs"])
    # Both runs say when the secret goes, and that the control keeps failing until then.
    day = deletion.astimezone(UTC).date().isoformat()
    for run in (first, second):
        message = json.loads(run["Outputs"]["RemoveUnusedSecret.Output"][0])["Message"]
        assert f"scheduled for deletion on {day}" in message, message
        assert "keeps reporting SecretsManager.3 FAILED" in message, message


def test_document_refuses_a_recently_used_secret(run_runbook, sm_doc, accessed):
    arn = sm_doc.create_secret(Name="busy", SecretString="x")["ARN"]
    created("busy", 500)
    accessed("busy", 5)
    execution = run_runbook(DOC, SecretARN=arn, UnusedForDays=30)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "SecretARN" in execution["FailureMessage"] and "not deleted" in execution["FailureMessage"]
    assert not deleted(sm_doc, arn)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SecretARN", "busy"),
        ("SecretARN", "arn:aws:secretsmanager:us-east-1:111111111111:secret:"),
        ("UnusedForDays", 0),
        ("UnusedForDays", 366),
    ],
)
def test_document_rejects_malformed_input(run_runbook, sm_doc, accessed, name, value):
    arn = sm_doc.create_secret(Name="busy", SecretString="x")["ARN"]
    created("busy", 500)
    accessed("busy", 200)
    with pytest.raises(ParameterValidationError, match=name):
        run_runbook(DOC, **{"SecretARN": arn, name: value})
    assert not deleted(sm_doc, arn)


def test_document_fails_on_a_missing_secret_naming_it(run_runbook, sm_doc):
    arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:gone-AbCdEf"
    execution = run_runbook(DOC, SecretARN=arn)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "SecretARN" in execution["FailureMessage"] and "gone-AbCdEf" in execution["FailureMessage"]
