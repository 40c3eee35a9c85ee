"""ASR-ConfigureS3BucketPublicAccessBlock: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import boto3
import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.configure_s3_bucket_public_access_block import (
    RemediationError,
    configure_bucket_public_access_block,
)
from tests.conftest import ACCOUNT

NAME = "ConfigureS3BucketPublicAccessBlock"
ALL_ON = dict.fromkeys(("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True)
POLICY = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},'
    '"Action":"s3:GetObject","Resource":"arn:aws:s3:::target-bucket/*"}]}'
)


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name="us-east-1")
    for name in ("target-bucket", "bystander-bucket"):
        client.create_bucket(Bucket=name)
        client.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=dict.fromkeys(ALL_ON, False))
    client.put_bucket_policy(Bucket="target-bucket", Policy=POLICY)
    return client


def _block(s3, bucket):
    return s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]


def _event(bucket="target-bucket", **flags):
    return {"BucketName": bucket, "AccountId": ACCOUNT, **{k: True for k in ALL_ON}, **flags}


# --- script ------------------------------------------------------------------------


def test_script_turns_flags_on(s3):
    out = configure_bucket_public_access_block(_event(), None)
    assert _block(s3, "target-bucket") == ALL_ON
    assert out["Changed"] == sorted(ALL_ON)


def test_script_never_turns_a_flag_off(s3):
    s3.put_public_access_block(Bucket="target-bucket", PublicAccessBlockConfiguration=ALL_ON)
    out = configure_bucket_public_access_block(_event(BlockPublicPolicy=False, IgnorePublicAcls="false"), None)
    assert _block(s3, "target-bucket") == ALL_ON
    assert "nothing changed" in out["Message"]


def test_script_bucket_without_any_block_configuration(s3):
    s3.delete_public_access_block(Bucket="target-bucket")
    configure_bucket_public_access_block(_event(RestrictPublicBuckets=False), None)
    assert _block(s3, "target-bucket") == {**ALL_ON, "RestrictPublicBuckets": False}


def test_script_missing_bucket_names_the_input(s3):
    with pytest.raises(RemediationError, match="BucketName no-such-bucket: no such bucket"):
        configure_bucket_public_access_block(_event("no-such-bucket"), None)


def test_script_rejects_a_non_boolean_flag(s3):
    with pytest.raises(RemediationError, match="BlockPublicAcls 'yes'"):
        configure_bucket_public_access_block(_event(BlockPublicAcls="yes"), None)


# --- document ----------------------------------------------------------------------


def test_document_blocks_public_access_and_touches_nothing_else(s3, run_runbook):
    result = run_runbook(NAME, BucketName="target-bucket")

    assert result["AutomationExecutionStatus"] == "Success", result.get("FailureMessage")
    assert _block(s3, "target-bucket") == ALL_ON
    assert _block(s3, "bystander-bucket") == dict.fromkeys(ALL_ON, False)
    assert s3.get_bucket_policy(Bucket="target-bucket")["Policy"] == POLICY
    output = result["Outputs"]["ConfigureBucketPublicAccessBlock.Output"]
    assert "Turned on" in str(output)


def test_document_second_run_changes_nothing(s3, run_runbook):
    assert run_runbook(NAME, BucketName="target-bucket")["AutomationExecutionStatus"] == "Success"
    result = run_runbook(NAME, BucketName="target-bucket")
    assert result["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in str(result["Outputs"])
    assert _block(s3, "target-bucket") == ALL_ON


def test_document_false_flag_is_left_as_is(s3, run_runbook):
    result = run_runbook(NAME, BucketName="target-bucket", BlockPublicPolicy="false")
    assert result["AutomationExecutionStatus"] == "Success", result.get("FailureMessage")
    assert _block(s3, "target-bucket") == {**ALL_ON, "BlockPublicPolicy": False}


@pytest.mark.parametrize("bad", ["arn:aws:s3:::target-bucket", "Target_Bucket", "ab", "192.168.1.1"])
def test_document_rejects_a_malformed_bucket_name(s3, run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="parameter 'BucketName'"):
        run_runbook(NAME, BucketName=bad)
    assert _block(s3, "target-bucket") == dict.fromkeys(ALL_ON, False)


def test_document_missing_bucket_fails_naming_it(s3, run_runbook):
    result = run_runbook(NAME, BucketName="no-such-bucket")
    assert result["AutomationExecutionStatus"] == "Failed"
    assert "BucketName no-such-bucket: no such bucket" in result["FailureMessage"]
    assert _block(s3, "bystander-bucket") == dict.fromkeys(ALL_ON, False)


def test_document_rejects_a_non_boolean_flag(s3, run_runbook):
    with pytest.raises(ParameterValidationError, match="parameter 'BlockPublicAcls'"):
        run_runbook(NAME, BucketName="target-bucket", BlockPublicAcls="yes")
    assert _block(s3, "target-bucket") == dict.fromkeys(ALL_ON, False)


# --- read back: S3 bucket settings are eventually consistent ---------------------------------

_BUCKET = {"Bucket": "target-bucket", "ExpectedBucketOwner": ACCOUNT}
ALL_OFF = dict.fromkeys(ALL_ON, False)


def _stub_reads(monkeypatch, reads):
    from tests.remediations.helpers.stubs import stub_every_boto3_client

    stub = stub_every_boto3_client(monkeypatch, "s3")
    stub.add_client_error("get_public_access_block", "NoSuchPublicAccessBlockConfiguration", expected_params=_BUCKET)
    stub.add_response("put_public_access_block", {}, {**_BUCKET, "PublicAccessBlockConfiguration": ALL_ON})
    for flags in reads:
        stub.add_response("get_public_access_block", {"PublicAccessBlockConfiguration": flags}, _BUCKET)
    return stub


def test_script_reads_back_until_s3_shows_the_flags(monkeypatch):
    stub = _stub_reads(monkeypatch, [ALL_OFF, ALL_OFF, ALL_ON])
    sleeps = []
    out = configure_bucket_public_access_block(_event(), None, sleep=sleeps.append)
    assert sleeps == [10, 10] and out["After"] == ALL_ON
    stub.assert_no_pending_responses()


def test_script_gives_up_after_a_minute_naming_the_bucket(monkeypatch):
    stub = _stub_reads(monkeypatch, [ALL_OFF] * 6)
    sleeps = []
    with pytest.raises(RemediationError, match="BucketName target-bucket: Block Public Access still reads .* after 6"):
        configure_bucket_public_access_block(_event(), None, sleep=sleeps.append)
    assert sleeps == [10] * 5
    stub.assert_no_pending_responses()
