"""asr/simulator/emulation/sns.py through boto3 under moto: delivery status logging attributes are
returned by GetTopicAttributes once set, and SetTopicAttributes accepts only documented names and values."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from asr.simulator import emulation
from tests.conftest import ACCOUNT, REGION

ROLE = f"arn:aws:iam::{ACCOUNT}:role/sns-logs"


@pytest.fixture
def sns():
    emulation.install()
    with mock_aws():
        yield boto3.client("sns", region_name=REGION)


def test_delivery_status_attributes_are_returned_once_set(sns):
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    other = sns.create_topic(Name="other")["TopicArn"]
    assert not any("Feedback" in k for k in sns.get_topic_attributes(TopicArn=topic)["Attributes"])

    sns.set_topic_attributes(TopicArn=topic, AttributeName="SQSSuccessFeedbackRoleArn", AttributeValue=ROLE)
    sns.set_topic_attributes(TopicArn=topic, AttributeName="SQSFailureFeedbackRoleArn", AttributeValue=ROLE)
    sns.set_topic_attributes(TopicArn=topic, AttributeName="SQSSuccessFeedbackSampleRate", AttributeValue="25")

    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert {k: v for k, v in attributes.items() if "Feedback" in k} == {
        "SQSSuccessFeedbackRoleArn": ROLE,
        "SQSFailureFeedbackRoleArn": ROLE,
        "SQSSuccessFeedbackSampleRate": "25",
    }
    assert attributes["TopicArn"] == topic and "Policy" in attributes
    assert not any("Feedback" in k for k in sns.get_topic_attributes(TopicArn=other)["Attributes"])


def test_delivery_status_attributes_given_at_creation_are_returned(sns):
    topic = sns.create_topic(Name="t", Attributes={"LambdaFailureFeedbackRoleArn": ROLE})["TopicArn"]
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["LambdaFailureFeedbackRoleArn"] == ROLE


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("SQSFeedbackRole", ROLE, "SQSFeedbackRole"),
        ("HTTPSuccessFeedbackSampleRate", "101", "HTTPSuccessFeedbackSampleRate"),
        ("HTTPSuccessFeedbackSampleRate", "ten", "HTTPSuccessFeedbackSampleRate"),
        ("LambdaSuccessFeedbackRoleArn", "arn:aws:sns:us-east-1:111111111111:x", "LambdaSuccessFeedbackRoleArn"),
    ],
    ids=["unknown-name", "rate-over-100", "rate-not-a-number", "not-a-role"],
)
def test_an_invalid_attribute_is_refused_naming_it(sns, name, value, named):
    topic = sns.create_topic(Name="t")["TopicArn"]
    before = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    with pytest.raises(ClientError) as err:
        sns.set_topic_attributes(TopicArn=topic, AttributeName=name, AttributeValue=value)
    assert err.value.response["Error"]["Code"] == "InvalidParameter"
    assert named in err.value.response["Error"]["Message"]
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"] == before


def test_documented_non_logging_attributes_still_work(sns):
    topic = sns.create_topic(Name="t")["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="DisplayName", AttributeValue="Alerts")
    sns.set_topic_attributes(TopicArn=topic, AttributeName="KmsMasterKeyId", AttributeValue="alias/aws/sns")
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert (attributes["DisplayName"], attributes["KmsMasterKeyId"]) == ("Alerts", "alias/aws/sns")
