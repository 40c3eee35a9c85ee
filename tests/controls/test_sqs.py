"""SQS.1 evaluator on moto."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate

ACCOUNT, REGION = "111111111111", "us-east-1"


@pytest.fixture
def sqs():
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def _queue(sqs, name: str, **attributes: str) -> Resource:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return Resource.of_arn(arn, "AwsSqsQueue")


def _verdict(resource: Resource):
    return evaluate("SQS.1", boto3.Session(), resource)


def test_sqs1_unencrypted_queue_fails(sqs):
    verdict = _verdict(_queue(sqs, "plain", SqsManagedSseEnabled="false"))
    assert verdict.status is Status.FAILED
    assert "SqsManagedSseEnabled is false" in verdict.reason


def test_sqs1_sse_sqs_passes(sqs):
    verdict = _verdict(_queue(sqs, "sse-sqs", SqsManagedSseEnabled="true"))
    assert verdict.status is Status.PASSED
    assert "SSE-SQS" in verdict.reason


def test_sqs1_sse_kms_passes(sqs):
    verdict = _verdict(_queue(sqs, "sse-kms", KmsMasterKeyId="alias/aws/sqs"))
    assert verdict.status is Status.PASSED
    assert "SSE-KMS" in verdict.reason


def test_sqs1_encryption_turned_off_later_fails(sqs):
    queue = _queue(sqs, "later")
    assert _verdict(queue).status is Status.PASSED
    url = sqs.get_queue_url(QueueName="later")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"SqsManagedSseEnabled": "false"})
    assert _verdict(queue).status is Status.FAILED


def test_sqs1_missing_queue_is_an_evaluation_error(sqs):
    gone = Resource.of_arn(f"arn:aws:sqs:{REGION}:{ACCOUNT}:gone", "AwsSqsQueue")
    with pytest.raises(EvaluationError, match="gone"):
        _verdict(gone)
