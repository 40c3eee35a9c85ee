"""ASR-RevokeUnrotatedKeys: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

from datetime import timedelta

import boto3
import pytest
from moto import mock_aws
from moto.core.utils import utcnow
from moto.iam.models import iam_backends

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.revoke_unrotated_keys import RemediationError, revoke_unrotated_keys
from tests.conftest import ACCOUNT
from tests.remediations.helpers.iam import lag

DOC = "RevokeUnrotatedKeys"


def new_key(user: str, age_days: int) -> str:
    """An access key of ``user`` created ``age_days`` ago (moto's clock is moved, not ours)."""
    key_id = boto3.client("iam").create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    for key in iam_backends[ACCOUNT]["aws"].users[user].access_keys:
        if key.access_key_id == key_id:
            key.create_date = utcnow() - timedelta(days=age_days)
    return key_id


def statuses(user: str) -> dict[str, str]:
    keys = boto3.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return {k["AccessKeyId"]: k["Status"] for k in keys}


@pytest.fixture
def iam():
    with mock_aws():
        client = boto3.client("iam")
        client.create_user(UserName="alice")
        client.create_user(UserName="bob")
        yield client


# --- script --------------------------------------------------------------------


def test_deactivates_only_the_old_active_keys_of_the_user(iam):
    old, fresh = new_key("alice", 120), new_key("alice", 10)
    bobs_old = new_key("bob", 400)
    out = revoke_unrotated_keys({"IAMUserName": "alice", "MaxCredentialUsageAge": "90"}, None)
    assert statuses("alice") == {old: "Inactive", fresh: "Active"}
    assert statuses("bob") == {bobs_old: "Active"}
    assert out["DeactivatedKeys"] == old


def test_threshold_is_the_input(iam):
    key = new_key("alice", 50)
    revoke_unrotated_keys({"IAMUserName": "alice", "MaxCredentialUsageAge": "45"}, None)
    assert statuses("alice") == {key: "Inactive"}


def test_the_read_back_waits_for_the_change_to_show(iam, monkeypatch):
    old = new_key("alice", 120)
    lag(monkeypatch, "list_access_keys", 2)
    slept: list[float] = []
    revoke_unrotated_keys({"IAMUserName": "alice", "MaxCredentialUsageAge": "90"}, None, sleep=slept.append)
    assert statuses("alice") == {old: "Inactive"} and len(slept) == 2


def test_a_change_that_never_shows_fails_after_a_bounded_wait(iam, monkeypatch):
    from remediation_runbooks.scripts import revoke_unrotated_keys as script

    new_key("alice", 120)
    lag(monkeypatch, "list_access_keys", 100)
    slept: list[float] = []
    with pytest.raises(RemediationError, match="IAMUserName alice: keys .* are still active"):
        revoke_unrotated_keys({"IAMUserName": "alice", "MaxCredentialUsageAge": "90"}, None, sleep=slept.append)
    assert len(slept) == script.VERIFY_ATTEMPTS - 1


def test_missing_user_names_the_input(iam):
    with pytest.raises(RemediationError, match="IAMUserName carol: no such IAM user"):
        revoke_unrotated_keys({"IAMUserName": "carol", "MaxCredentialUsageAge": "90"}, None)


# --- document ------------------------------------------------------------------


@pytest.fixture
def users(run_runbook):
    client = boto3.client("iam")
    client.create_user(UserName="alice", Tags=[{"Key": "team", "Value": "ops"}])
    client.create_user(UserName="bob")
    return client


def test_document_deactivates_old_keys(run_runbook, users):
    old, fresh = new_key("alice", 91), new_key("alice", 1)
    bobs_old = new_key("bob", 200)
    execution = run_runbook(DOC, IAMUserName="alice")
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert statuses("alice") == {old: "Inactive", fresh: "Active"}
    assert statuses("bob") == {bobs_old: "Active"}
    assert users.list_user_tags(UserName="alice")["Tags"] == [{"Key": "team", "Value": "ops"}]
    assert old in str(execution["Outputs"])


def test_document_second_run_changes_nothing(run_runbook, users):
    old = new_key("alice", 100)
    run_runbook(DOC, IAMUserName="alice")
    second = run_runbook(DOC, IAMUserName="alice")
    assert second["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in str(second["Outputs"])
    assert statuses("alice") == {old: "Inactive"}


@pytest.mark.parametrize(
    ("param", "value"),
    [("IAMUserName", "arn:aws:iam::111111111111:user/alice"), ("IAMUserName", "a b"),
     ("MaxCredentialUsageAge", "0"), ("MaxCredentialUsageAge", "ninety")],
)
def test_document_rejects_malformed_input(run_runbook, users, param, value):
    old = new_key("alice", 100)
    with pytest.raises(ParameterValidationError, match=param):
        run_runbook(DOC, **{"IAMUserName": "alice", param: value})
    assert statuses("alice") == {old: "Active"}


def test_document_fails_on_a_missing_user(run_runbook, users):
    old = new_key("alice", 100)
    execution = run_runbook(DOC, IAMUserName="carol")
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "IAMUserName carol: no such IAM user" in execution["FailureMessage"]
    assert statuses("alice") == {old: "Active"}
