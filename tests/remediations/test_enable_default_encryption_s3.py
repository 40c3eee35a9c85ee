"""ASR-EnableDefaultEncryptionS3: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import boto3
import pytest

from asr import solution
from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_default_encryption_s3 import RemediationError, enable_default_encryption
from tests.conftest import ACCOUNT

NAME = "EnableDefaultEncryptionS3"
SENTINEL = solution.S3_4_DEFAULT_KMS_ALIAS
SSE_S3 = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name="us-east-1")
    for name in ("target-bucket", "bystander-bucket"):
        client.create_bucket(Bucket=name)
        client.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "team", "Value": "blue"}]})
        # Real S3 gives every new bucket SSE-S3 since 2023; moto does not.
        client.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=SSE_S3)
    return client


@pytest.fixture
def alias(aws):
    kms = boto3.client("kms", region_name="us-east-1")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/s3-cmk", TargetKeyId=key["KeyId"])
    return f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/s3-cmk"


def _default(s3, bucket="target-bucket"):
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    except s3.exceptions.ClientError:
        return None
    return rules[0]["ApplyServerSideEncryptionByDefault"]


def _event(alias=SENTINEL, bucket="target-bucket"):
    return {"BucketName": bucket, "AccountId": ACCOUNT, "KmsKeyAlias": alias}


# --- script ------------------------------------------------------------------------


def test_script_sentinel_sets_sse_s3(s3):
    s3.delete_bucket_encryption(Bucket="target-bucket")
    out = enable_default_encryption(_event(), None)
    assert _default(s3) == {"SSEAlgorithm": "AES256"}
    assert "set SSE-S3" in out["Message"]


def test_script_sentinel_never_downgrades_kms(s3, alias):
    enable_default_encryption(_event("s3-cmk"), None)
    out = enable_default_encryption(_event(), None)
    assert _default(s3) == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": alias}
    assert "never downgraded" in out["Message"]


@pytest.mark.parametrize("given", ["s3-cmk", "alias/s3-cmk"])
def test_script_alias_sets_sse_kms_with_the_alias_arn(s3, alias, given):
    out = enable_default_encryption(_event(given), None)
    assert _default(s3) == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": alias}
    assert out["Before"] != out["After"]


def test_script_unknown_alias_changes_nothing(s3):
    s3.delete_bucket_encryption(Bucket="target-bucket")
    with pytest.raises(RemediationError, match="KmsKeyAlias nope: no such KMS alias"):
        enable_default_encryption(_event("nope"), None)
    assert _default(s3) is None


def test_script_disabled_key_is_refused(s3, alias):
    kms = boto3.client("kms", region_name="us-east-1")
    kms.disable_key(KeyId=kms.describe_key(KeyId="alias/s3-cmk")["KeyMetadata"]["KeyId"])
    with pytest.raises(RemediationError, match="KmsKeyAlias s3-cmk: key .* is Disabled"):
        enable_default_encryption(_event("s3-cmk"), None)


def test_script_asymmetric_key_is_refused(s3):
    kms = boto3.client("kms", region_name="us-east-1")
    key = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/signing", TargetKeyId=key)
    with pytest.raises(RemediationError, match="KmsKeyAlias signing: S3 needs a symmetric encryption key"):
        enable_default_encryption(_event("signing"), None)


def test_script_missing_bucket(s3):
    with pytest.raises(RemediationError, match="BucketName no-such-bucket: no such bucket"):
        enable_default_encryption(_event(bucket="no-such-bucket"), None)


# --- document ----------------------------------------------------------------------


def test_document_sets_sse_s3_by_default_and_touches_nothing_else(s3, run_runbook):
    s3.delete_bucket_encryption(Bucket="target-bucket")
    s3.delete_bucket_encryption(Bucket="bystander-bucket")
    result = run_runbook(NAME, BucketName="target-bucket", AccountId=ACCOUNT)
    assert result["AutomationExecutionStatus"] == "Success", result.get("FailureMessage")
    assert _default(s3) == {"SSEAlgorithm": "AES256"}
    assert _default(s3, "bystander-bucket") is None
    assert s3.get_bucket_tagging(Bucket="target-bucket")["TagSet"] == [{"Key": "team", "Value": "blue"}]


def test_document_sets_sse_kms_with_the_alias(s3, alias, run_runbook):
    result = run_runbook(NAME, BucketName="target-bucket", AccountId=ACCOUNT, KmsKeyAlias="s3-cmk")
    assert result["AutomationExecutionStatus"] == "Success", result.get("FailureMessage")
    assert _default(s3) == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": alias}
    rules = s3.get_bucket_encryption(Bucket="target-bucket")["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["BucketKeyEnabled"] is True
    assert _default(s3, "bystander-bucket") == {"SSEAlgorithm": "AES256"}


def test_document_second_run_changes_nothing(s3, alias, run_runbook):
    params = {"BucketName": "target-bucket", "AccountId": ACCOUNT, "KmsKeyAlias": "alias/s3-cmk"}
    assert run_runbook(NAME, **params)["AutomationExecutionStatus"] == "Success"
    result = run_runbook(NAME, **params)
    assert result["AutomationExecutionStatus"] == "Success"
    assert "Nothing changed" in str(result["Outputs"])
    assert _default(s3) == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": alias}


@pytest.mark.parametrize(
    ("param", "bad"),
    [
        ("BucketName", "arn:aws:s3:::target-bucket"),
        ("AccountId", "1234"),
        ("KmsKeyAlias", "arn:aws:kms:us-east-1:111111111111:key/x"),
        ("KmsKeyAlias", ""),
    ],
)
def test_document_rejects_malformed_input(s3, run_runbook, param, bad):
    params = {"BucketName": "target-bucket", "AccountId": ACCOUNT, param: bad}
    with pytest.raises(ParameterValidationError, match=f"parameter '{param}'"):
        run_runbook(NAME, **params)
    assert _default(s3) == {"SSEAlgorithm": "AES256"}


def test_document_unknown_alias_fails_naming_it(s3, run_runbook):
    s3.delete_bucket_encryption(Bucket="target-bucket")
    result = run_runbook(NAME, BucketName="target-bucket", AccountId=ACCOUNT, KmsKeyAlias="nope")
    assert result["AutomationExecutionStatus"] == "Failed"
    assert "KmsKeyAlias nope: no such KMS alias" in result["FailureMessage"]
    assert _default(s3) is None


def test_document_missing_bucket_fails_naming_it(s3, run_runbook):
    result = run_runbook(NAME, BucketName="no-such-bucket", AccountId=ACCOUNT)
    assert result["AutomationExecutionStatus"] == "Failed"
    assert "BucketName no-such-bucket: no such bucket" in result["FailureMessage"]


# --- read back: S3 bucket settings are eventually consistent ---------------------------------

_BUCKET = {"Bucket": "target-bucket", "ExpectedBucketOwner": ACCOUNT}
_AES = {
    "ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
}


def _stub_reads(monkeypatch, shown: int):
    from tests.remediations.helpers.stubs import stub_every_boto3_client

    stub = stub_every_boto3_client(monkeypatch, "s3")
    absent = "ServerSideEncryptionConfigurationNotFoundError"
    stub.add_client_error("get_bucket_encryption", absent, expected_params=_BUCKET)
    stub.add_response("put_bucket_encryption", {}, None)
    for _ in range(shown):
        stub.add_client_error("get_bucket_encryption", absent, expected_params=_BUCKET)
    return stub


def test_script_reads_back_until_s3_shows_the_encryption(monkeypatch):
    stub = _stub_reads(monkeypatch, 1)
    stub.add_response("get_bucket_encryption", _AES, _BUCKET)
    sleeps = []
    out = enable_default_encryption(_event(), None, sleep=sleeps.append)
    assert sleeps == [10] and out["After"] == {"SSEAlgorithm": "AES256"}
    stub.assert_no_pending_responses()


def test_script_gives_up_after_a_minute_naming_the_bucket(monkeypatch):
    stub = _stub_reads(monkeypatch, 6)
    sleeps = []
    with pytest.raises(RemediationError, match="BucketName target-bucket: default encryption still reads .* after 6"):
        enable_default_encryption(_event(), None, sleep=sleeps.append)
    assert sleeps == [10] * 5
    stub.assert_no_pending_responses()
