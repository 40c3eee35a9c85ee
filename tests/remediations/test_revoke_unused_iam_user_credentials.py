"""ASR-RevokeUnusedIAMUserCredentials: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

from datetime import timedelta

import boto3
import pytest
from moto.core.utils import utcnow
from moto.iam.models import AccessKeyLastUsed, iam_backends

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.revoke_unused_iam_user_credentials import (
    RemediationError,
    revoke_unused_iam_user_credentials,
)
from tests.conftest import ACCOUNT
from tests.remediations.helpers.iam import lag

DOC = "RevokeUnusedIAMUserCredentials"


def _user(name: str):
    return iam_backends[ACCOUNT]["aws"].users[name]


def new_key(user: str, created_days_ago: int, used_days_ago: int | None = None) -> str:
    """An access key of ``user``; moto's recorded dates are moved back, no real waiting."""
    key_id = boto3.client("iam").create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    key = next(k for k in _user(user).access_keys if k.access_key_id == key_id)
    key.create_date = utcnow() - timedelta(days=created_days_ago)
    if used_days_ago is not None:
        key.last_used = AccessKeyLastUsed(utcnow() - timedelta(days=used_days_ago), "s3", "us-east-1")
    return key_id


def new_user(name: str, created_days_ago: int = 0, password_used_days_ago: int | None = None,
             console: bool = True) -> None:
    iam = boto3.client("iam")
    iam.create_user(UserName=name, Tags=[{"Key": "owner", "Value": name}])
    if console:
        iam.create_login_profile(UserName=name, Password="Correct-Horse-9-Battery")
    _user(name).create_date = utcnow() - timedelta(days=created_days_ago)
    if password_used_days_ago is not None:
        _user(name).password_last_used = utcnow() - timedelta(days=password_used_days_ago)


def statuses(user: str) -> dict[str, str]:
    keys = boto3.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return {k["AccessKeyId"]: k["Status"] for k in keys}


def has_password(user: str) -> bool:
    iam = boto3.client("iam")
    try:
        iam.get_login_profile(UserName=user)
        return True
    except iam.exceptions.NoSuchEntityException:
        return False


def run_script(user: str, days: str = "90") -> dict:
    return revoke_unused_iam_user_credentials({"IAMUserName": user, "MaxCredentialUsageAge": days}, None)


# --- script --------------------------------------------------------------------


def test_revokes_unused_keys_and_password_of_the_user_only(aws_only):
    new_user("alice", created_days_ago=400, password_used_days_ago=120)
    new_user("bob", created_days_ago=400, password_used_days_ago=120)
    stale, never_used_old = new_key("alice", 300, 100), new_key("alice", 200)
    bobs = new_key("bob", 300, 100)

    out = run_script("alice")

    assert statuses("alice") == {stale: "Inactive", never_used_old: "Inactive"}
    assert not has_password("alice")
    assert statuses("bob") == {bobs: "Active"} and has_password("bob")
    assert out["ConsolePasswordDeleted"] == "true"


def test_recently_used_password_and_new_keys_are_kept(aws_only):
    new_user("alice", created_days_ago=400, password_used_days_ago=10)
    new, old_but_used = new_key("alice", 20), new_key("alice", 300, 5)
    out = run_script("alice")
    assert has_password("alice") and statuses("alice") == {new: "Active", old_but_used: "Active"}
    assert "nothing changed" in out["Message"]


def test_never_used_password_counts_from_its_creation(aws_only):
    new_user("old", created_days_ago=60)
    new_user("new", created_days_ago=30)
    run_script("old", "45")
    run_script("new", "45")
    assert not has_password("old") and has_password("new")


def test_user_without_console_access(aws_only):
    new_user("svc", created_days_ago=400, console=False)
    key = new_key("svc", 100, 91)
    out = run_script("svc")
    assert statuses("svc") == {key: "Inactive"} and out["ConsolePasswordDeleted"] == "false"


def test_a_password_set_again_after_its_last_use_counts_from_when_it_was_set(aws_only):
    """Used 200 days ago, then reset by an administrator 10 days ago: the new password is not unused."""
    new_user("alice", created_days_ago=10, password_used_days_ago=200)
    out = run_script("alice")
    assert has_password("alice") and out["ConsolePasswordDeleted"] == "false"


def test_the_read_back_waits_for_the_change_to_show(aws_only, monkeypatch):
    new_user("alice", created_days_ago=400, password_used_days_ago=120)
    key = new_key("alice", 300, 100)
    lag(monkeypatch, "list_access_keys", 1)
    slept: list[float] = []
    revoke_unused_iam_user_credentials({"IAMUserName": "alice", "MaxCredentialUsageAge": "90"}, None,
                                       sleep=slept.append)
    assert statuses("alice") == {key: "Inactive"} and not has_password("alice") and len(slept) == 1


def test_a_change_that_never_shows_fails_after_a_bounded_wait(aws_only, monkeypatch):
    from remediation_runbooks.scripts import revoke_unused_iam_user_credentials as script

    new_user("alice", created_days_ago=400, password_used_days_ago=120)
    lag(monkeypatch, "get_login_profile", 100)
    slept: list[float] = []
    with pytest.raises(RemediationError, match="IAMUserName alice: console password still read back as usable"):
        revoke_unused_iam_user_credentials({"IAMUserName": "alice", "MaxCredentialUsageAge": "90"}, None,
                                           sleep=slept.append)
    assert len(slept) == script.VERIFY_ATTEMPTS - 1


def test_missing_user_names_the_input(aws_only):
    with pytest.raises(RemediationError, match="IAMUserName carol: no such IAM user"):
        run_script("carol")


# --- document ------------------------------------------------------------------


def test_document_revokes_unused_credentials(run_runbook):
    new_user("alice", created_days_ago=400, password_used_days_ago=50)
    new_user("bob", created_days_ago=400, password_used_days_ago=50)
    stale, recent = new_key("alice", 100, 46), new_key("alice", 100, 44)
    bobs = new_key("bob", 100, 46)

    execution = run_runbook(DOC, IAMUserName="alice", MaxCredentialUsageAge="45")

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert statuses("alice") == {stale: "Inactive", recent: "Active"} and not has_password("alice")
    assert statuses("bob") == {bobs: "Active"} and has_password("bob")
    assert boto3.client("iam").list_user_tags(UserName="alice")["Tags"] == [{"Key": "owner", "Value": "alice"}]


def test_document_default_threshold_is_90_days(run_runbook):
    new_user("alice", created_days_ago=400, password_used_days_ago=60)
    key = new_key("alice", 100, 60)
    execution = run_runbook(DOC, IAMUserName="alice")
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert statuses("alice") == {key: "Active"} and has_password("alice")


def test_document_second_run_changes_nothing(run_runbook):
    new_user("alice", created_days_ago=400, password_used_days_ago=120)
    key = new_key("alice", 300, 100)
    run_runbook(DOC, IAMUserName="alice")
    second = run_runbook(DOC, IAMUserName="alice")
    assert second["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in str(second["Outputs"])
    assert statuses("alice") == {key: "Inactive"}


@pytest.mark.parametrize(
    ("param", "value"), [("IAMUserName", "user/alice"), ("MaxCredentialUsageAge", "-1"), ("MaxCredentialUsageAge", "")]
)
def test_document_rejects_malformed_input(run_runbook, param, value):
    new_user("alice", created_days_ago=400, password_used_days_ago=120)
    with pytest.raises(ParameterValidationError, match=param):
        run_runbook(DOC, **{"IAMUserName": "alice", param: value})
    assert has_password("alice")


def test_document_fails_on_a_missing_user(run_runbook):
    new_user("alice", created_days_ago=400, password_used_days_ago=120)
    execution = run_runbook(DOC, IAMUserName="carol")
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "IAMUserName carol: no such IAM user" in execution["FailureMessage"]
    assert has_password("alice")
