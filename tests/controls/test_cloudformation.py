"""CloudFormation.1 evaluator on moto: stacks must notify an SNS topic."""

from __future__ import annotations

import functools
import json

import boto3
import pytest
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate

ACCOUNT, REGION = "111111111111", "us-east-1"
TEMPLATE = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})


@functools.cache
def _session() -> boto3.Session:
    return boto3.Session(region_name=REGION)


@pytest.fixture
def cloudformation():
    with mock_aws():
        yield boto3.client("cloudformation", region_name=REGION)


def _stack(cloudformation, name: str, **kwargs) -> Resource:
    arn = cloudformation.create_stack(StackName=name, TemplateBody=TEMPLATE, **kwargs)["StackId"]
    return Resource.of_arn(arn, "AwsCloudFormationStack")


def test_stack_without_notification_fails(cloudformation):
    verdict = evaluate("CloudFormation.1", _session(), _stack(cloudformation, "quiet"))
    assert verdict.status is Status.FAILED
    assert verdict.reason == "NotificationARNs is empty"


def test_stack_with_notification_topic_passes(cloudformation):
    # moto's UpdateStack keeps the old NotificationARNs, so the topic is set at creation.
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="stack-events")["TopicArn"]
    verdict = evaluate("CloudFormation.1", _session(), _stack(cloudformation, "loud", NotificationARNs=[topic]))
    assert verdict.status is Status.PASSED
    assert topic in verdict.reason


def test_deleted_stack_is_not_applicable(cloudformation):
    stack = _stack(cloudformation, "gone")
    cloudformation.delete_stack(StackName=stack.id)
    assert evaluate("CloudFormation.1", _session(), stack).status is Status.NOT_APPLICABLE


def test_unknown_stack_is_an_error(cloudformation):
    missing = Resource.of_arn(f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/none/0000", "AwsCloudFormationStack")
    with pytest.raises(EvaluationError, match="none"):
        evaluate("CloudFormation.1", _session(), missing)
