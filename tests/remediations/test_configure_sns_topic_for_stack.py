"""ASR-ConfigureSNSTopicForStack through the runner.

moto 5.2.5's UpdateStack ignores NotificationARNs and its change sets never apply them, so the
CloudFormation client is a botocore Stubber checked against the real API shapes, patched into the
script through boto3.client; SNS runs on moto. Any CloudFormation call not expected below fails the
test, which proves the change set keeps the previous template and parameter values, and that
UpdateStack (which re-resolves parameters and may replace resources) is never called.
"""

from __future__ import annotations

import datetime

import boto3
import pytest
from botocore.stub import ANY

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts import configure_sns_topic_for_stack as script
from tests.remediations.helpers import step_output
from tests.remediations.helpers.stubs import stubbed_boto3_client

DOC = "ConfigureSNSTopicForStack"
ARN = "arn:aws:cloudformation:us-east-1:111111111111:stack/target/0a1b2c3d-0000-1111-2222-333344445555"
TOPIC = "arn:aws:sns:us-east-1:111111111111:SO0111-ASR-CloudFormationNotifications"


ROLE = "arn:aws:iam::111111111111:role/cfn-deployer"
AMI_PARAMETER = {"ParameterKey": "Ami", "ParameterValue": "/aws/service/ami-amazon-linux-latest/al2023",
                 "ResolvedValue": "ami-0123456789abcdef0"}  # fmt: skip


def described(status: str = "CREATE_COMPLETE", notify: list | None = None, role: bool = False) -> dict:
    stack = {
        "StackId": ARN,
        "StackName": "target",
        "StackStatus": status,
        "NotificationARNs": notify or [],
        "CreationTime": datetime.datetime(2024, 1, 1),
        "Parameters": [{"ParameterKey": "Env", "ParameterValue": "p"}, AMI_PARAMETER],
        "Capabilities": ["CAPABILITY_IAM"],
        "Tags": [{"Key": "team", "Value": "blue"}],
    }
    if role:
        stack["RoleARN"] = ROLE
    return {"Stacks": [stack]}


def change_set_request(role: bool = False) -> dict:
    """What CreateChangeSet must be asked: the previous template and parameter values, only the topic added."""
    request = {
        "StackName": ARN,
        "ChangeSetName": ANY,
        "ChangeSetType": "UPDATE",
        "UsePreviousTemplate": True,
        "NotificationARNs": [TOPIC],
        "Description": ANY,
        "Parameters": [{"ParameterKey": "Env", "UsePreviousValue": True},
                       {"ParameterKey": "Ami", "UsePreviousValue": True}],
        "Capabilities": ["CAPABILITY_IAM"],
    }  # fmt: skip
    if role:
        request["RoleARN"] = ROLE
    return request


def change_set(
    status: str = "CREATE_COMPLETE", changes: list | None = None, ami: str = "ami-0123456789abcdef0"
) -> dict:
    return {
        "ChangeSetName": "asr",
        "StackId": ARN,
        "Status": status,
        "ExecutionStatus": "AVAILABLE" if status == "CREATE_COMPLETE" else "UNAVAILABLE",
        "StatusReason": "" if status != "FAILED" else "Template error",
        "NotificationARNs": [TOPIC],
        "Parameters": [{"ParameterKey": "Env", "ParameterValue": "p"}, {**AMI_PARAMETER, "ResolvedValue": ami}],
        "Changes": changes or [],
    }


def expect_change_set(cfn, *, role: bool = False, described_change_set: dict | None = None) -> None:
    cfn.add_response("describe_stacks", described(role=role), {"StackName": ARN})
    cfn.add_response("create_change_set", {"Id": "cs-id", "StackId": ARN}, change_set_request(role))
    cfn.add_response(
        "describe_change_set", described_change_set or change_set(), {"StackName": ARN, "ChangeSetName": ANY}
    )


@pytest.fixture
def cfn(aws, monkeypatch):
    with stubbed_boto3_client(monkeypatch, "cloudformation") as stub:
        yield stub


def topics() -> list[str]:
    return [t["TopicArn"] for t in boto3.client("sns").list_topics()["Topics"]]


def test_document_adds_the_topic_then_changes_nothing(run_runbook, cfn):
    boto3.client("sns").create_topic(Name="bystander")
    expect_change_set(cfn)
    cfn.add_response("execute_change_set", {}, {"StackName": ARN, "ChangeSetName": ANY})
    cfn.add_response("describe_stacks", described("UPDATE_COMPLETE", [TOPIC]), {"StackName": ARN})
    first = run_runbook(DOC, StackArn=ARN)
    assert first["AutomationExecutionStatus"] == "Success", first.get("FailureMessage")
    assert step_output(first, "ConfigureSNSTopic.Output")["TopicArn"] == TOPIC
    assert step_output(first, "ConfigureSNSTopic.Output")["ChangeSet"].startswith("ASR-CloudFormation1-")
    assert sorted(topics()) == sorted([TOPIC, "arn:aws:sns:us-east-1:111111111111:bystander"])

    cfn.add_response("describe_stacks", described("UPDATE_COMPLETE", [TOPIC]), {"StackName": ARN})
    second = run_runbook(DOC, StackArn=ARN, TopicName="another")
    assert second["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in step_output(second, "ConfigureSNSTopic.Output")["Message"]
    assert len(topics()) == 2


def test_document_fails_when_the_update_rolls_back(run_runbook, cfn):
    expect_change_set(cfn)
    cfn.add_response("execute_change_set", {})
    cfn.add_response("describe_stacks", described("UPDATE_ROLLBACK_COMPLETE"), {"StackName": ARN})
    out = run_runbook(DOC, StackArn=ARN)
    assert out["AutomationExecutionStatus"] == "Failed"
    assert f"StackArn {ARN}: the update (change set ASR-CloudFormation1-" in out["FailureMessage"]
    assert "ended in UPDATE_ROLLBACK_COMPLETE" in out["FailureMessage"]


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


# --- a change set, never UpdateStack (CloudFormation.1 defect) ----------------------------


REPLACE_INSTANCE = {
    "Type": "Resource",
    "ResourceChange": {"Action": "Modify", "LogicalResourceId": "Server", "ResourceType": "AWS::EC2::Instance",
                       "Replacement": "True"},
}  # fmt: skip


@pytest.mark.parametrize(
    ("described_change_set", "named"),
    [
        (change_set(changes=[REPLACE_INSTANCE]), "Modify Server (AWS::EC2::Instance, replacement True)"),
        (change_set(ami="ami-0fedcba9876543210"), "parameter Ami would resolve to 'ami-0fedcba9876543210'"),
    ],
)
def test_document_refuses_a_change_beyond_the_notification(run_runbook, cfn, described_change_set, named):
    """UpdateStack re-resolved the latest-AMI parameter and replaced the instance: the change set shows it,
    and is deleted instead of executed."""
    expect_change_set(cfn, described_change_set=described_change_set)
    cfn.add_response("delete_change_set", {}, {"StackName": ARN, "ChangeSetName": ANY})
    out = run_runbook(DOC, StackArn=ARN)
    assert out["AutomationExecutionStatus"] == "Failed"
    message = out["FailureMessage"]
    assert f"StackArn {ARN}: adding the notification topic would also change the stack" in message
    assert named in message and "was deleted, not executed, and the stack is unchanged" in message


def test_document_passes_the_stacks_own_service_role(run_runbook, cfn):
    expect_change_set(cfn, role=True)
    cfn.add_response("execute_change_set", {})
    cfn.add_response("describe_stacks", described("UPDATE_COMPLETE", [TOPIC], role=True), {"StackName": ARN})
    out = run_runbook(DOC, StackArn=ARN)
    assert out["AutomationExecutionStatus"] == "Success", out.get("FailureMessage")


def test_document_reports_a_failed_change_set(run_runbook, cfn):
    expect_change_set(cfn, described_change_set=change_set("FAILED"))
    cfn.add_response("delete_change_set", {})
    out = run_runbook(DOC, StackArn=ARN)
    assert out["AutomationExecutionStatus"] == "Failed"
    assert "failed: Template error; nothing changed" in out["FailureMessage"]


def test_script_reports_honestly_when_the_update_outlasts_the_wait(cfn):
    """The poll runs out: the run fails saying the change set was executed and the update goes on -- never
    success, never 'nothing changed'."""
    expect_change_set(cfn)
    cfn.add_response("execute_change_set", {})
    for _ in range(script.MAX_POLLS):
        cfn.add_response("describe_stacks", described("UPDATE_IN_PROGRESS"), {"StackName": ARN})
    slept: list[float] = []
    with pytest.raises(script.RemediationError) as raised:
        script.configure_notifications({"StackArn": ARN, "TopicName": "SO0111-ASR-CloudFormationNotifications"},
                                       None, sleep=slept.append)  # fmt: skip
    message = str(raised.value)
    assert "was executed, but the stack is still UPDATE_IN_PROGRESS after 450 s" in message
    assert "the notification is not confirmed" in message
    assert slept == [script.POLL_SECONDS] * (script.MAX_POLLS - 1)


def test_script_gives_up_on_a_change_set_that_stays_pending(cfn):
    cfn.add_response("describe_stacks", described(), {"StackName": ARN})
    cfn.add_response("create_change_set", {"Id": "cs-id", "StackId": ARN})
    for _ in range(script.CHANGE_SET_MAX_POLLS):
        cfn.add_response("describe_change_set", change_set("CREATE_PENDING"))
    cfn.add_response("delete_change_set", {})
    slept: list[float] = []
    with pytest.raises(script.RemediationError, match="was still CREATE_PENDING after 60 s; it was not executed"):
        script.configure_notifications({"StackArn": ARN, "TopicName": "t"}, None, sleep=slept.append)
    assert len(slept) == script.CHANGE_SET_MAX_POLLS - 1
