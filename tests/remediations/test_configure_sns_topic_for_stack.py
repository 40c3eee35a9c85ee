"""ASR-ConfigureSNSTopicForStack through the runner.

moto 5.2.5's UpdateStack ignores NotificationARNs and refuses a notification-only
update ("No updates are to be performed"), so the CloudFormation client is a botocore
Stubber checked against the real API shapes, patched into the script through
boto3.client; SNS runs on moto. Any CloudFormation call not expected below fails the test,
which proves the update keeps the previous template and parameter values.
"""

from __future__ import annotations

import datetime

import boto3
import pytest

from asr.simulator.errors import ParameterValidationError
from tests.remediations.helpers import step_output
from tests.remediations.helpers.stubs import stubbed_boto3_client

DOC = "ConfigureSNSTopicForStack"
ARN = "arn:aws:cloudformation:us-east-1:111111111111:stack/target/0a1b2c3d-0000-1111-2222-333344445555"
TOPIC = "arn:aws:sns:us-east-1:111111111111:SO0111-ASR-CloudFormationNotifications"


def described(status: str = "CREATE_COMPLETE", notify: list | None = None) -> dict:
    return {
        "Stacks": [
            {
                "StackId": ARN,
                "StackName": "target",
                "StackStatus": status,
                "NotificationARNs": notify or [],
                "CreationTime": datetime.datetime(2024, 1, 1),
                "Parameters": [{"ParameterKey": "Env", "ParameterValue": "p"}],
                "Capabilities": ["CAPABILITY_IAM"],
                "Tags": [{"Key": "team", "Value": "blue"}],
            }
        ]
    }


@pytest.fixture
def cfn(aws, monkeypatch):
    with stubbed_boto3_client(monkeypatch, "cloudformation") as stub:
        yield stub


def topics() -> list[str]:
    return [t["TopicArn"] for t in boto3.client("sns").list_topics()["Topics"]]


def test_document_adds_the_topic_then_changes_nothing(run_runbook, cfn):
    boto3.client("sns").create_topic(Name="bystander")
    cfn.add_response("describe_stacks", described(), {"StackName": ARN})
    cfn.add_response(
        "update_stack",
        {"StackId": ARN},
        {
            "StackName": ARN,
            "UsePreviousTemplate": True,
            "NotificationARNs": [TOPIC],
            "Parameters": [{"ParameterKey": "Env", "UsePreviousValue": True}],
            "Capabilities": ["CAPABILITY_IAM"],
        },
    )
    cfn.add_response("describe_stacks", described("UPDATE_COMPLETE", [TOPIC]), {"StackName": ARN})
    first = run_runbook(DOC, StackArn=ARN)
    assert first["AutomationExecutionStatus"] == "Success", first.get("FailureMessage")
    assert step_output(first, "ConfigureSNSTopic.Output")["TopicArn"] == TOPIC
    assert sorted(topics()) == sorted([TOPIC, "arn:aws:sns:us-east-1:111111111111:bystander"])

    cfn.add_response("describe_stacks", described("UPDATE_COMPLETE", [TOPIC]), {"StackName": ARN})
    second = run_runbook(DOC, StackArn=ARN, TopicName="another")
    assert second["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in step_output(second, "ConfigureSNSTopic.Output")["Message"]
    assert len(topics()) == 2


def test_document_fails_when_the_update_rolls_back(run_runbook, cfn):
    cfn.add_response("describe_stacks", described(), {"StackName": ARN})
    cfn.add_response("update_stack", {"StackId": ARN})
    cfn.add_response("describe_stacks", described("UPDATE_ROLLBACK_COMPLETE"), {"StackName": ARN})
    out = run_runbook(DOC, StackArn=ARN)
    assert out["AutomationExecutionStatus"] == "Failed"
    assert f"StackArn {ARN}: the update ended in UPDATE_ROLLBACK_COMPLETE" in out["FailureMessage"]


def test_document_refuses_a_stack_that_cannot_be_updated(run_runbook, cfn):
    cfn.add_response("describe_stacks", described("UPDATE_IN_PROGRESS"), {"StackName": ARN})
    out = run_runbook(DOC, StackArn=ARN)
    assert out["AutomationExecutionStatus"] == "Failed"
    assert "is UPDATE_IN_PROGRESS and cannot be updated now" in out["FailureMessage"]
    assert topics() == []


@pytest.mark.parametrize(
    "params",
    [
        {"StackArn": "target"},
        {"StackArn": "arn:aws:cloudformation:us-east-1:111111111111:stack/t/not-a-uuid"},
        {"StackArn": ARN, "TopicName": "bad name"},
    ],
)
def test_document_rejects_malformed_input(run_runbook, cfn, params):
    with pytest.raises(ParameterValidationError, match=list(params)[-1]):
        run_runbook(DOC, **params)


def test_document_fails_on_a_missing_stack_and_creates_nothing(run_runbook, cfn):
    cfn.add_client_error("describe_stacks", "ValidationError", f"Stack with id {ARN} does not exist")
    out = run_runbook(DOC, StackArn=ARN)
    assert out["AutomationExecutionStatus"] == "Failed"
    assert f"StackArn {ARN}: no such stack" in out["FailureMessage"]
    assert topics() == []
