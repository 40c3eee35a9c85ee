"""ASR-ConfigureS3PublicAccessBlock: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import boto3
import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts import configure_s3_public_access_block as script
from tests.conftest import ACCOUNT, OTHER_ACCOUNT

NAME = "ConfigureS3PublicAccessBlock"
FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
ALL_ON = dict.fromkeys(FLAGS, True)
ALL_OFF = dict.fromkeys(FLAGS, False)


@pytest.fixture
def s3control(aws):
    client = boto3.client("s3control", region_name="us-east-1")
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="bystander-bucket")
    s3.put_public_access_block(Bucket="bystander-bucket", PublicAccessBlockConfiguration=ALL_OFF)
    return client


def _account_block(client, account=ACCOUNT):
    """The account's setting, read as that account (moto keys its data by MOTO_ACCOUNT_ID)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_ACCOUNT_ID", account)
        try:
            return client.get_public_access_block(AccountId=account)["PublicAccessBlockConfiguration"]
        except client.exceptions.NoSuchPublicAccessBlockConfiguration:
            return None


def _bucket_block():
    s3 = boto3.client("s3", region_name="us-east-1")
    return s3.get_public_access_block(Bucket="bystander-bucket")["PublicAccessBlockConfiguration"]


# --- script ------------------------------------------------------------------------


def test_script_turns_the_account_flags_on(s3control):
    out = script.configure_account_public_access_block({"AccountId": ACCOUNT, **ALL_ON}, None)
    assert _account_block(s3control) == ALL_ON
    assert out["Changed"] == sorted(FLAGS)


def test_script_never_turns_a_flag_off(s3control):
    s3control.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration=ALL_ON)
    out = script.configure_account_public_access_block({"AccountId": ACCOUNT, **ALL_OFF}, None)
    assert _account_block(s3control) == ALL_ON
    assert "nothing changed" in out["Message"]


def test_script_waits_for_the_setting_to_show_with_an_injected_sleep(s3control, monkeypatch):
    reads = iter([ALL_OFF, ALL_OFF, ALL_OFF, ALL_ON])
    monkeypatch.setattr(script, "_current_block", lambda *_: next(reads))
    slept: list[float] = []
    script.configure_account_public_access_block({"AccountId": ACCOUNT, **ALL_ON}, None, sleep=slept.append)
    assert slept == [script.VERIFY_INTERVAL_SECONDS] * 2


def test_script_gives_up_after_the_bounded_wait(s3control, monkeypatch):
    monkeypatch.setattr(script, "_current_block", lambda *_: ALL_OFF)
    slept: list[float] = []
    with pytest.raises(script.RemediationError, match=f"AccountId {ACCOUNT}: Block Public Access still reads"):
        script.configure_account_public_access_block({"AccountId": ACCOUNT, **ALL_ON}, None, sleep=slept.append)
    assert len(slept) == script.VERIFY_ATTEMPTS - 1


def test_script_refuses_another_account(s3control):
    with pytest.raises(
        script.RemediationError, match=f"AccountId {OTHER_ACCOUNT}: this document runs in account {ACCOUNT}"
    ):
        script.configure_account_public_access_block({"AccountId": OTHER_ACCOUNT, **ALL_ON}, None)
    assert _account_block(s3control, OTHER_ACCOUNT) is None


# --- document ----------------------------------------------------------------------


def test_document_blocks_public_access_for_the_account_only(s3control, run_runbook):
    result = run_runbook(NAME, AccountId=ACCOUNT)

    assert result["AutomationExecutionStatus"] == "Success", result.get("FailureMessage")
    assert _account_block(s3control) == ALL_ON
    assert _account_block(s3control, OTHER_ACCOUNT) is None
    assert _bucket_block() == ALL_OFF
    assert "Turned on" in str(result["Outputs"]["ConfigureAccountPublicAccessBlock.Output"])


def test_document_second_run_changes_nothing(s3control, run_runbook):
    assert run_runbook(NAME, AccountId=ACCOUNT)["AutomationExecutionStatus"] == "Success"
    result = run_runbook(NAME, AccountId=ACCOUNT)
    assert result["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in str(result["Outputs"])
    assert _account_block(s3control) == ALL_ON


@pytest.mark.parametrize("bad", ["11111111111", "1111111111111", "arn:aws:iam::111111111111:root", "abcdefghijkl"])
def test_document_rejects_a_malformed_account_id(s3control, run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="parameter 'AccountId'"):
        run_runbook(NAME, AccountId=bad)
    assert _account_block(s3control) is None


def test_document_refuses_another_account(s3control, run_runbook):
    result = run_runbook(NAME, AccountId=OTHER_ACCOUNT)
    assert result["AutomationExecutionStatus"] == "Failed"
    assert f"AccountId {OTHER_ACCOUNT}: this document runs in account {ACCOUNT}" in result["FailureMessage"]
    assert _account_block(s3control) is None
    assert _account_block(s3control, OTHER_ACCOUNT) is None


def test_document_rejects_a_non_boolean_flag(s3control, run_runbook):
    with pytest.raises(ParameterValidationError, match="parameter 'IgnorePublicAcls'"):
        run_runbook(NAME, AccountId=ACCOUNT, IgnorePublicAcls="maybe")
    assert _account_block(s3control) is None
