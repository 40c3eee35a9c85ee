"""SNS.1 and SNS.2 evaluators on moto."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate

ACCOUNT, REGION = "111111111111", "us-east-1"
FEEDBACK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/sns-delivery-status"


@pytest.fixture
def sns():
    with mock_aws():
        yield boto3.client("sns", region_name=REGION)


def _topic(sns, name: str = "alerts", **attributes: str) -> Resource:
    arn = sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
    return Resource.of_arn(arn, "AwsSnsTopic")


def _verdict(control_id: str, resource: Resource):
    return evaluate(control_id, boto3.Session(), resource)


def test_sns1_unencrypted_topic_fails_kms_encrypted_one_passes(sns):
    verdict = _verdict("SNS.1", _topic(sns, "plain"))
    assert verdict.status is Status.FAILED
    assert "KmsMasterKeyId is not set" in verdict.reason
    key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    verdict = _verdict("SNS.1", _topic(sns, "secret", KmsMasterKeyId=key))
    assert verdict.status is Status.PASSED
    assert key in verdict.reason


def test_sns1_aws_managed_key_counts(sns):
    topic = _topic(sns)
    sns.set_topic_attributes(TopicArn=topic.id, AttributeName="KmsMasterKeyId", AttributeValue="alias/aws/sns")
    assert _verdict("SNS.1", topic).status is Status.PASSED


def test_sns1_missing_topic_is_an_evaluation_error(sns):
    gone = Resource.of_arn(f"arn:aws:sns:{REGION}:{ACCOUNT}:gone", "AwsSnsTopic")
    with pytest.raises(EvaluationError, match="gone"):
        _verdict("SNS.1", gone)


def test_sns2_topic_without_delivery_status_logging_fails(sns):
    verdict = _verdict("SNS.2", _topic(sns))
    assert verdict.status is Status.FAILED
    assert "FeedbackRoleArn" in verdict.reason


class StubSession:
    """Hands the evaluator a Stubber-backed SNS client."""

    def __init__(self, attributes: dict[str, str]) -> None:
        self.client_ = boto3.client("sns", region_name=REGION)
        self.stubber = Stubber(self.client_)
        self.stubber.add_response("get_topic_attributes", {"Attributes": attributes}, {"TopicArn": TOPIC})
        self.stubber.activate()

    def client(self, service: str, region_name: str | None = None) -> Any:
        return self.client_


TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"


# moto stores SetTopicAttributes' delivery-status attributes (<Protocol>SuccessFeedbackRoleArn ...) but
# GetTopicAttributes never returns them, so the topics with delivery status logging are stubbed.
@pytest.mark.parametrize("protocol", ["HTTP", "SQS", "Lambda", "Firehose", "Application"])
def test_sns2_delivery_status_logging_for_any_protocol_passes(protocol):
    attributes = {
        "TopicArn": TOPIC,
        f"{protocol}SuccessFeedbackRoleArn": FEEDBACK_ROLE,
        f"{protocol}SuccessFeedbackSampleRate": "100",
        f"{protocol}FailureFeedbackRoleArn": FEEDBACK_ROLE,
    }
    session = StubSession(attributes)
    verdict = evaluate("SNS.2", session, Resource.of_arn(TOPIC, "AwsSnsTopic"))
    assert verdict.status is Status.PASSED
    assert f"{protocol}FailureFeedbackRoleArn" in verdict.reason
    session.stubber.assert_no_pending_responses()


def test_sns2_sample_rate_without_a_feedback_role_is_not_logging():
    session = StubSession({"TopicArn": TOPIC, "HTTPSuccessFeedbackSampleRate": "100"})
    verdict = evaluate("SNS.2", session, Resource.of_arn(TOPIC, "AwsSnsTopic"))
    assert verdict.status is Status.FAILED
