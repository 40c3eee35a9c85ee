"""asr/simulator/emulation/cloudformation.py through boto3 under moto: UPDATE change sets that change
only a stack's notification ARNs are created, described within their stack, executed onto the stack
(notification ARNs included) and refused when they cannot be executed."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from asr.simulator import emulation
from tests.conftest import REGION

TEMPLATE = json.dumps(
    {
        "Parameters": {"Env": {"Type": "String"}, "Size": {"Type": "String", "Default": "small"}},
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "emulated-jobs"}}},
        "Outputs": {"Url": {"Value": {"Ref": "Queue"}}},
    }
)


@pytest.fixture
def world():
    emulation.install()
    with mock_aws():
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        topic = boto3.client("sns", region_name=REGION).create_topic(Name="stack-events")["TopicArn"]
        stack = cloudformation.create_stack(
            StackName="app",
            TemplateBody=TEMPLATE,
            Parameters=[{"ParameterKey": "Env", "ParameterValue": "prod"}],
            Tags=[{"Key": "team", "Value": "platform"}],
        )["StackId"]
        other = cloudformation.create_stack(
            StackName="other",
            TemplateBody=TEMPLATE.replace("emulated-jobs", "other-jobs"),
            Parameters=[{"ParameterKey": "Env", "ParameterValue": "dev"}],
        )["StackId"]
        yield cloudformation, stack, other, topic


def _previous(stack: str, **more) -> dict:
    return {
        "StackName": stack,
        "ChangeSetType": "UPDATE",
        "UsePreviousTemplate": True,
        "Parameters": [{"ParameterKey": k, "UsePreviousValue": True} for k in ("Env", "Size")],
        **more,
    }


def _code(err) -> tuple[str, int]:
    return err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_a_notification_only_change_set_is_created_by_stack_arn_with_no_resource_change(world):
    cloudformation, stack, _, topic = world
    created = cloudformation.create_change_set(**_previous(stack, ChangeSetName="notify", NotificationARNs=[topic]))
    assert created["StackId"] == stack
    described = cloudformation.describe_change_set(StackName=stack, ChangeSetName="notify")
    assert (described["Status"], described["ExecutionStatus"]) == ("CREATE_COMPLETE", "AVAILABLE")
    assert described["Changes"] == []
    assert described["NotificationARNs"] == [topic]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]} == {"Env": "prod", "Size": "small"}
    assert cloudformation.describe_change_set(ChangeSetName=created["Id"])["ChangeSetName"] == "notify"


def test_executing_it_adds_the_topic_and_changes_nothing_else(world):
    cloudformation, stack, other, topic = world
    before = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    resources = cloudformation.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    other_before = cloudformation.describe_stacks(StackName=other)["Stacks"][0]
    cloudformation.create_change_set(**_previous(stack, ChangeSetName="notify", NotificationARNs=[topic]))
    cloudformation.create_change_set(**_previous(stack, ChangeSetName="stale", NotificationARNs=[topic, topic]))
    cloudformation.execute_change_set(StackName=stack, ChangeSetName="notify")

    after = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    assert after["StackStatus"] == "UPDATE_COMPLETE"
    assert after["NotificationARNs"] == [topic]
    for key in ("Parameters", "Outputs", "Tags", "StackId"):
        assert after[key] == before[key], key
    assert [
        (r["LogicalResourceId"], r["PhysicalResourceId"])
        for r in cloudformation.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    ] == [(r["LogicalResourceId"], r["PhysicalResourceId"]) for r in resources]
    assert cloudformation.describe_stacks(StackName=other)["Stacks"][0]["NotificationARNs"] == []
    assert cloudformation.describe_stacks(StackName=other)["Stacks"][0]["Parameters"] == other_before["Parameters"]
    names = [s["ChangeSetName"] for s in cloudformation.list_change_sets(StackName=stack)["Summaries"]]
    assert names == ["notify"]  # the stack's other change sets are deleted


def test_a_change_set_that_changes_nothing_is_created_failed_and_cannot_be_executed(world):
    cloudformation, stack, _, _ = world
    cloudformation.create_change_set(**_previous(stack, ChangeSetName="nothing"))
    described = cloudformation.describe_change_set(StackName=stack, ChangeSetName="nothing")
    assert (described["Status"], described["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert "didn't contain changes" in described["StatusReason"]
    with pytest.raises(ClientError) as err:
        cloudformation.execute_change_set(StackName=stack, ChangeSetName="nothing")
    assert _code(err) == ("InvalidChangeSetStatus", 400)
    assert cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def test_change_sets_are_found_within_their_stack(world):
    cloudformation, stack, other, topic = world
    cloudformation.create_change_set(**_previous(other, ChangeSetName="notify", NotificationARNs=[topic]))
    with pytest.raises(ClientError) as err:
        cloudformation.describe_change_set(StackName=stack, ChangeSetName="notify")
    assert _code(err) == ("ChangeSetNotFound", 404)
    with pytest.raises(ClientError) as err:
        cloudformation.execute_change_set(StackName=stack, ChangeSetName="notify")
    assert _code(err) == ("ChangeSetNotFound", 404)
    cloudformation.delete_change_set(StackName=other, ChangeSetName="notify")
    assert cloudformation.list_change_sets(StackName=other)["Summaries"] == []


@pytest.mark.parametrize(
    ("more", "named"),
    [
        ({"Parameters": [{"ParameterKey": "Env", "UsePreviousValue": True, "ParameterValue": "x"}]}, "Env"),
        ({"Parameters": [{"ParameterKey": "Missing", "UsePreviousValue": True}]}, "Missing"),
        ({"NotificationARNs": [f"arn:aws:sns:{REGION}:111111111111:t{i}" for i in range(6)]}, "NotificationARNs"),
    ],
    ids=["previous-and-value", "previous-of-unknown-key", "six-topics"],
)
def test_bad_input_is_refused_naming_it(world, more, named):
    cloudformation, stack, _, _ = world
    with pytest.raises(ClientError) as err:
        cloudformation.create_change_set(**{**_previous(stack, ChangeSetName="bad"), **more})
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert named in err.value.response["Error"]["Message"]
    assert cloudformation.list_change_sets(StackName=stack)["Summaries"] == []


def test_a_second_change_set_of_the_same_name_is_refused(world):
    cloudformation, stack, _, topic = world
    cloudformation.create_change_set(**_previous(stack, ChangeSetName="notify", NotificationARNs=[topic]))
    with pytest.raises(ClientError) as err:
        cloudformation.create_change_set(**_previous(stack, ChangeSetName="notify", NotificationARNs=[topic]))
    assert err.value.response["Error"]["Code"] == "AlreadyExistsException"
