"""KMS.4 evaluator on moto: the shapes the control documentation names."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from asr.controls import Resource, Status, evaluate

ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture
def kms():
    with mock_aws():
        yield boto3.client("kms", region_name=REGION)


def _key(kms, **kwargs) -> Resource:
    arn = kms.create_key(**kwargs)["KeyMetadata"]["Arn"]
    return Resource.of_arn(arn, "AwsKmsKey")


def test_symmetric_key_without_rotation_fails_and_passes_once_rotated(kms):
    key = _key(kms)
    assert evaluate("KMS.4", boto3.Session(), key).status is Status.FAILED
    kms.enable_key_rotation(KeyId=key.id)
    verdict = evaluate("KMS.4", boto3.Session(), key)
    assert verdict.status is Status.PASSED, verdict.reason


def test_asymmetric_key_is_not_applicable(kms):
    key = _key(kms, KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    verdict = evaluate("KMS.4", boto3.Session(), key)
    assert verdict.status is Status.NOT_APPLICABLE
    assert "RSA_2048" in verdict.reason


def test_key_pending_deletion_is_not_applicable(kms):
    key = _key(kms)
    kms.schedule_key_deletion(KeyId=key.name, PendingWindowInDays=7)  # moto takes only the key id here
    assert evaluate("KMS.4", boto3.Session(), key).status is Status.NOT_APPLICABLE
