"""ASR-CreateIAMSupportRole: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import json

import boto3
import pytest

from remediation_runbooks.scripts.create_iam_support_role import (
    ROLE_NAME,
    RemediationError,
    create_iam_support_role,
    trust_policy,
)
from tests.conftest import ACCOUNT, OTHER_ACCOUNT
from tests.remediations.helpers.iam import lag

DOC = "CreateIAMSupportRole"
SUPPORT = "arn:aws:iam::aws:policy/AWSSupportAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def attached(role: str = ROLE_NAME) -> set[str]:
    policies = boto3.client("iam").list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    return {p["PolicyArn"] for p in policies}


def make_role(name: str, trusted: str) -> None:
    doc = {"Version": "2012-10-17",
           "Statement": [{"Effect": "Allow", "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"}]}
    boto3.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(doc))


@pytest.fixture(autouse=True)
def _aws_managed_policies(monkeypatch):
    """moto knows AWS managed policies such as AWSSupportAccess only when asked to load them."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")


# --- script --------------------------------------------------------------------


def test_creates_the_role_trusted_by_this_account_only(aws_only):
    out = create_iam_support_role({}, None)
    role = boto3.client("iam").get_role(RoleName=ROLE_NAME)["Role"]
    assert role["AssumeRolePolicyDocument"] == trust_policy("aws", ACCOUNT)
    assert attached() == {SUPPORT}
    assert out["RoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"


def test_completes_an_existing_role_of_this_account(aws_only):
    make_role(ROLE_NAME, f"arn:aws:iam::{ACCOUNT}:root")
    boto3.client("iam").attach_role_policy(RoleName=ROLE_NAME, PolicyArn=READ_ONLY)
    out = create_iam_support_role({}, None)
    assert attached() == {SUPPORT, READ_ONLY}
    assert out["Message"] == "AWSSupportAccess attached."


def test_refuses_an_existing_role_trusted_outside_the_account(aws_only):
    make_role(ROLE_NAME, f"arn:aws:iam::{OTHER_ACCOUNT}:root")
    with pytest.raises(RemediationError, match=f"trusts arn:aws:iam::{OTHER_ACCOUNT}:root"):
        create_iam_support_role({}, None)
    assert attached() == set()


def test_the_read_back_waits_for_the_policy_to_show(aws_only, monkeypatch):
    lag(monkeypatch, "list_attached_role_policies", 1)
    slept: list[float] = []
    create_iam_support_role({}, None, sleep=slept.append)
    assert attached() == {SUPPORT} and len(slept) == 1


def test_a_policy_that_never_shows_fails_after_a_bounded_wait(aws_only, monkeypatch):
    from remediation_runbooks.scripts import create_iam_support_role as script

    lag(monkeypatch, "list_attached_role_policies", 100)
    slept: list[float] = []
    with pytest.raises(RemediationError, match="AWSSupportAccess is still not attached"):
        create_iam_support_role({}, None, sleep=slept.append)
    assert len(slept) == script.VERIFY_ATTEMPTS - 1


# --- document ------------------------------------------------------------------


def test_document_creates_the_support_role(run_runbook):
    make_role("bystander", f"arn:aws:iam::{ACCOUNT}:root")
    execution = run_runbook(DOC)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert attached() == {SUPPORT}
    assert attached("bystander") == set()
    role = boto3.client("iam").get_role(RoleName=ROLE_NAME)["Role"]
    assert role["AssumeRolePolicyDocument"] == trust_policy("aws", ACCOUNT)


def test_document_second_run_changes_nothing(run_runbook):
    run_runbook(DOC)
    second = run_runbook(DOC)
    assert second["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in str(second["Outputs"])
    assert attached() == {SUPPORT}


def test_document_fails_on_a_foreign_trusted_role_and_changes_nothing(run_runbook):
    make_role(ROLE_NAME, "*")
    execution = run_runbook(DOC)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"role {ROLE_NAME} already exists and trusts *" in execution["FailureMessage"]
    assert attached() == set()


def test_document_rejects_a_malformed_assume_role(run_runbook):
    from asr.simulator.errors import ParameterValidationError

    with pytest.raises(ParameterValidationError, match="AutomationAssumeRole"):
        run_runbook(DOC, AutomationAssumeRole="SO0111-CreateIAMSupportRole-sim")
