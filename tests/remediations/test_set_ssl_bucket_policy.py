"""ASR-SetSSLBucketPolicy: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import json

import boto3
import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.set_ssl_bucket_policy import RemediationError, add_ssl_bucket_policy, ssl_statement
from tests.conftest import ACCOUNT
from tests.remediations.helpers.stubs import stub_every_boto3_client

NAME = "SetSSLBucketPolicy"
ARN = "arn:aws:s3:::target-bucket"
READER = {
    "Sid": "CrossAccountRead",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
    "Action": "s3:GetObject",
    "Resource": f"{ARN}/*",
}
PUBLIC = {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{ARN}/*"}
BLOCK_POLICY = {
    "BlockPublicAcls": False,
    "IgnorePublicAcls": False,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": False,
}


def _policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Id": "Mine", "Statement": list(statements)})


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name="us-east-1")
    for name in ("target-bucket", "bystander-bucket"):
        client.create_bucket(Bucket=name)
    client.put_bucket_policy(Bucket="target-bucket", Policy=_policy(READER))
    client.put_bucket_policy(Bucket="bystander-bucket", Policy=_policy(PUBLIC))
    return client


def _statements(s3, bucket="target-bucket"):
    return json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]


def _event(bucket="target-bucket"):
    return {"BucketName": bucket, "AccountId": ACCOUNT, "Partition": "aws"}


# --- script ------------------------------------------------------------------------


def test_script_adds_the_statement_and_keeps_the_others(s3):
    out = add_ssl_bucket_policy(_event(), None)
    assert _statements(s3) == [READER, ssl_statement(ARN)]
    assert json.loads(s3.get_bucket_policy(Bucket="target-bucket")["Policy"])["Id"] == "Mine"
    assert (out["StatementsBefore"], out["StatementsAfter"]) == (1, 2)


def test_script_creates_a_policy_when_there_is_none(s3):
    s3.delete_bucket_policy(Bucket="target-bucket")
    add_ssl_bucket_policy(_event(), None)
    assert _statements(s3) == [ssl_statement(ARN)]


def test_script_recognises_an_equivalent_statement_of_the_owner(s3):
    theirs = {
        "Sid": "TLSOnly",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": ["s3:*"],
        "Resource": [f"{ARN}/*", ARN],
        "Condition": {"Bool": {"aws:SecureTransport": False}},
    }
    s3.put_bucket_policy(Bucket="target-bucket", Policy=_policy(READER, theirs))
    out = add_ssl_bucket_policy(_event(), None)
    assert _statements(s3) == [READER, theirs]
    assert "nothing changed" in out["Message"]


def test_script_refuses_a_clashing_sid(s3):
    clash = {
        "Sid": "AllowSSLRequestsOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": f"{ARN}/*",
    }
    s3.put_bucket_policy(Bucket="target-bucket", Policy=_policy(clash))
    with pytest.raises(RemediationError, match="Sid AllowSSLRequestsOnly that does not deny"):
        add_ssl_bucket_policy(_event(), None)
    assert _statements(s3) == [clash]


@pytest.mark.parametrize("level", ["bucket", "account"])
def test_script_refuses_public_statements_under_block_public_policy(s3, level, as_remediation_role):
    s3.put_bucket_policy(Bucket="target-bucket", Policy=_policy(READER, PUBLIC))
    if level == "bucket":
        s3.put_public_access_block(Bucket="target-bucket", PublicAccessBlockConfiguration=BLOCK_POLICY)
    else:
        boto3.client("s3control", region_name="us-east-1").put_public_access_block(
            AccountId=ACCOUNT, PublicAccessBlockConfiguration=BLOCK_POLICY
        )
    with pytest.raises(
        RemediationError,
        match=f"public access \\(PublicRead\\) and Block Public Access \\(BlockPublicPolicy\\) is on for the {level}",
    ), as_remediation_role("SetSSLBucketPolicy"):
        add_ssl_bucket_policy(_event(), None)
    assert _statements(s3) == [READER, PUBLIC]


def test_script_public_statement_without_block_public_access_is_kept(s3):
    s3.put_bucket_policy(Bucket="target-bucket", Policy=_policy(PUBLIC))
    add_ssl_bucket_policy(_event(), None)
    assert _statements(s3) == [PUBLIC, ssl_statement(ARN)]


def test_script_explains_access_denied_from_s3(monkeypatch):
    # moto does not enforce BlockPublicPolicy on PutBucketPolicy; real S3 answers AccessDenied
    # (implementation guide, troubleshooting "SetSSLBucketPolicy fails with AccessDenied").
    stub = stub_every_boto3_client(monkeypatch, "s3")
    stub.add_response(
        "get_bucket_policy",
        {"Policy": _policy(READER)},
        {"Bucket": "target-bucket", "ExpectedBucketOwner": ACCOUNT},
    )
    stub.add_client_error("put_bucket_policy", service_error_code="AccessDenied", http_status_code=403)
    with pytest.raises(
        RemediationError, match="BucketName target-bucket: S3 denied PutBucketPolicy. If Block Public Access"
    ):
        add_ssl_bucket_policy(_event(), None)
    stub.assert_no_pending_responses()


def test_script_missing_bucket(s3):
    with pytest.raises(RemediationError, match="BucketName no-such-bucket: no such bucket"):
        add_ssl_bucket_policy(_event("no-such-bucket"), None)


# --- document ----------------------------------------------------------------------


def test_document_adds_the_statement_and_touches_nothing_else(s3, run_runbook):
    result = run_runbook(NAME, BucketName="target-bucket", AccountId=ACCOUNT)
    assert result["AutomationExecutionStatus"] == "Success", result.get("FailureMessage")
    assert _statements(s3) == [READER, ssl_statement(ARN)]
    assert _statements(s3, "bystander-bucket") == [PUBLIC]
    assert "Added statement AllowSSLRequestsOnly" in str(result["Outputs"]["SetSSLBucketPolicy.Output"])


def test_document_second_run_adds_no_duplicate(s3, run_runbook):
    assert run_runbook(NAME, BucketName="target-bucket", AccountId=ACCOUNT)["AutomationExecutionStatus"] == "Success"
    result = run_runbook(NAME, BucketName="target-bucket", AccountId=ACCOUNT)
    assert result["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in str(result["Outputs"])
    assert _statements(s3) == [READER, ssl_statement(ARN)]


def test_document_refuses_public_statements_under_block_public_access(s3, run_runbook):
    s3.put_public_access_block(Bucket="bystander-bucket", PublicAccessBlockConfiguration=BLOCK_POLICY)
    result = run_runbook(NAME, BucketName="bystander-bucket", AccountId=ACCOUNT)
    assert result["AutomationExecutionStatus"] == "Failed"
    assert (
        "BucketName bystander-bucket: the bucket policy has statements that allow public access (PublicRead)"
        in result["FailureMessage"]
    )
    assert _statements(s3, "bystander-bucket") == [PUBLIC]


@pytest.mark.parametrize(
    ("param", "bad"), [("BucketName", ARN), ("BucketName", "target-bucket/"), ("AccountId", "11111111111x")]
)
def test_document_rejects_malformed_input(s3, run_runbook, param, bad):
    params = {"BucketName": "target-bucket", "AccountId": ACCOUNT, param: bad}
    with pytest.raises(ParameterValidationError, match=f"parameter '{param}'"):
        run_runbook(NAME, **params)
    assert _statements(s3) == [READER]


def test_document_missing_bucket_fails_naming_it(s3, run_runbook):
    result = run_runbook(NAME, BucketName="no-such-bucket", AccountId=ACCOUNT)
    assert result["AutomationExecutionStatus"] == "Failed"
    assert "BucketName no-such-bucket: no such bucket" in result["FailureMessage"]


# --- read back: bucket policies are eventually consistent ------------------------------------

_BUCKET = {"Bucket": "target-bucket", "ExpectedBucketOwner": ACCOUNT}


def test_script_reads_back_until_s3_shows_the_statement(monkeypatch):
    stub = stub_every_boto3_client(monkeypatch, "s3")
    stub.add_client_error("get_bucket_policy", "NoSuchBucketPolicy", expected_params=_BUCKET)
    stub.add_response("put_bucket_policy", {}, None)
    stub.add_client_error("get_bucket_policy", "NoSuchBucketPolicy", expected_params=_BUCKET)
    policy = {"Version": "2012-10-17", "Statement": [ssl_statement("arn:aws:s3:::target-bucket")]}
    stub.add_response("get_bucket_policy", {"Policy": json.dumps(policy)}, _BUCKET)
    sleeps = []
    out = add_ssl_bucket_policy(_event(), None, sleep=sleeps.append)
    assert sleeps == [10] and out["StatementsAfter"] == 1
    stub.assert_no_pending_responses()


def test_script_gives_up_after_a_minute_naming_the_bucket(monkeypatch):
    stub = stub_every_boto3_client(monkeypatch, "s3")
    stub.add_client_error("get_bucket_policy", "NoSuchBucketPolicy", expected_params=_BUCKET)
    stub.add_response("put_bucket_policy", {}, None)
    for _ in range(6):
        stub.add_client_error("get_bucket_policy", "NoSuchBucketPolicy", expected_params=_BUCKET)
    sleeps = []
    with pytest.raises(RemediationError, match="does not show statement AllowSSLRequestsOnly after 6 reads"):
        add_ssl_bucket_policy(_event(), None, sleep=sleeps.append)
    assert sleeps == [10] * 5
    stub.assert_no_pending_responses()
