"""assumeRole, aws:executeAutomation and TargetLocations across accounts and Regions under moto."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.simulator.conftest import ACCOUNT, OTHER_ACCOUNT, OTHER_REGION, REGION, ROLE_NAME, role_arn, session_in
from tests.simulator.helpers import api, doc, echo, fails, returns, script

WHO = """
import boto3
def handler(events, context):
    return boto3.client("sts").get_caller_identity()["Account"] + "/" + boto3.client("ssm").meta.region_name
"""
ROLE_PARAM = {"AutomationAssumeRole": {"type": "String", "default": ""}}


def test_assume_role_is_used_by_api_steps_and_scripts(run_doc) -> None:
    document = doc(
        script("Who", WHO, outputs=[{"Name": "Me", "Selector": "$.Payload"}]),
        api("Put", "ssm", "PutParameter", Name="/marker", Value="x", Type="String"),
        parameters=ROLE_PARAM,
        assume_role="{{ AutomationAssumeRole }}",
    )
    execution = run_doc(document, AutomationAssumeRole=role_arn(OTHER_ACCOUNT))
    assert execution.status == "Success", execution.failure_message
    assert execution.step("Who").outputs["Me"] == f"{OTHER_ACCOUNT}/{REGION}"
    assert execution.to_dict()["ExecutedBy"] == role_arn(OTHER_ACCOUNT)
    other = session_in(OTHER_ACCOUNT, REGION).client("ssm")
    assert other.get_parameter(Name="/marker")["Parameter"]["Value"] == "x"
    with pytest.raises(ClientError):
        boto3.client("ssm", region_name=REGION).get_parameter(Name="/marker")


def test_without_assume_role_the_callers_session_is_used(run_doc) -> None:
    document = doc(
        script("Who", WHO, outputs=[{"Name": "Me", "Selector": "$.Payload"}]),
        parameters=ROLE_PARAM,
        assume_role="{{ AutomationAssumeRole }}",
    )
    execution = run_doc(document)
    assert execution.step("Who").outputs["Me"] == f"{ACCOUNT}/{REGION}"


def test_assume_role_failure_fails_the_run(run_doc) -> None:
    execution = run_doc(
        doc(returns("A", 1), parameters=ROLE_PARAM, assume_role="{{ AutomationAssumeRole }}"),
        AutomationAssumeRole="not-an-arn",
    )
    assert execution.status == "Failed"
    assert execution.failure_message.startswith("assumeRole failed: cannot assume role 'not-an-arn'")


MARK = doc(
    api(
        "Mark",
        "ssm",
        "PutParameter",
        Name="/asr/marker",
        Type="String",
        Overwrite=True,
        Value="{{ Tag }}:{{ global:ACCOUNT_ID }}:{{ global:REGION }}",
    ),
    echo("Echo", {"tag": "{{ Tag }}"}),
    parameters={"Tag": {"type": "String"}, **ROLE_PARAM},
    outputs=["Echo.Events"],
    assume_role="{{ AutomationAssumeRole }}",
)


def _marker(account: str, region: str) -> str | None:
    try:
        return session_in(account, region).client("ssm").get_parameter(Name="/asr/marker")["Parameter"]["Value"]
    except ClientError:
        return None


def test_child_automation_in_the_same_account(run_doc, registry, runner) -> None:
    registry.add("Child", MARK)
    call = {
        "name": "Call",
        "action": "aws:executeAutomation",
        "inputs": {"DocumentName": "Child", "RuntimeParameters": {"Tag": "{{ Tag }}"}},
    }
    execution = run_doc(doc(call, parameters={"Tag": {"type": "String"}}), Tag="t1")
    assert execution.status == "Success", execution.failure_message
    outputs = execution.step("Call").outputs
    child = runner.get_execution(outputs["ExecutionId"])
    assert outputs["Status"] == "Success"
    assert json.loads(outputs["Output"]) == {"Echo.Events": ['{"tag":"t1"}']}
    assert child.parent_automation_execution_id == execution.automation_execution_id
    assert execution.step("Call").child_executions == [child]
    assert _marker(ACCOUNT, REGION) == f"t1:{ACCOUNT}:{REGION}"


def test_failed_child_fails_the_step(run_doc, registry, runner) -> None:
    registry.add("Child", doc(fails("Break", "child broke")))
    execution = run_doc(doc({"name": "Call", "action": "aws:executeAutomation", "inputs": {"DocumentName": "Child"}}))
    assert execution.status == "Failed"
    child_id = execution.step("Call").outputs["ExecutionId"]
    assert runner.get_execution(child_id).failure_message == "Step Break failed: ValueError: child broke"
    assert execution.failure_message == (
        f"Step Call failed: Child execution {child_id} ended Failed: Step Break failed: ValueError: child broke"
    )


def test_child_with_bad_parameters_or_unknown_document_fails_the_step(run_doc, registry) -> None:
    registry.add("Child", MARK)
    execution = run_doc(
        doc(
            {
                "name": "Call",
                "action": "aws:executeAutomation",
                "inputs": {"DocumentName": "Child", "RuntimeParameters": {"Nope": "x"}},
            }
        )
    )
    assert "cannot start Child: Child: unknown parameter 'Nope'" in execution.failure_message
    execution = run_doc(doc({"name": "Call", "action": "aws:executeAutomation", "inputs": {"DocumentName": "Ghost"}}))
    assert execution.failure_message == "Step Call failed: cannot start Ghost: document 'Ghost' is not in the registry"


def test_target_locations_run_the_child_in_each_account_and_region(run_doc, registry, runner) -> None:
    registry.add("Child", MARK)
    call = {
        "name": "Call",
        "action": "aws:executeAutomation",
        "inputs": {
            "DocumentName": "Child",
            "RuntimeParameters": {"Tag": "t2"},
            "TargetLocations": [
                {"Accounts": [OTHER_ACCOUNT], "Regions": [REGION, OTHER_REGION], "ExecutionRoleName": ROLE_NAME}
            ],
        },
    }
    execution = run_doc(doc(call))
    assert execution.status == "Success", execution.failure_message
    aggregate = runner.get_execution(execution.step("Call").outputs["ExecutionId"])
    children = aggregate.child_executions
    assert [(c.account_id, c.region) for c in children] == [(OTHER_ACCOUNT, REGION), (OTHER_ACCOUNT, OTHER_REGION)]
    assert all(c.parent_automation_execution_id == aggregate.automation_execution_id for c in children)
    assert children[1].to_dict()["TargetLocations"] == [
        {"Accounts": [OTHER_ACCOUNT], "Regions": [OTHER_REGION], "ExecutionRoleName": ROLE_NAME}
    ]
    assert _marker(OTHER_ACCOUNT, REGION) == f"t2:{OTHER_ACCOUNT}:{REGION}"
    assert _marker(OTHER_ACCOUNT, OTHER_REGION) == f"t2:{OTHER_ACCOUNT}:{OTHER_REGION}"
    assert _marker(ACCOUNT, REGION) is None
    assert _marker(ACCOUNT, OTHER_REGION) is None


def test_target_location_failure_is_reported(run_doc, registry) -> None:
    registry.add("Child", doc(fails("Break")))
    call = {
        "name": "Call",
        "action": "aws:executeAutomation",
        "inputs": {
            "DocumentName": "Child",
            "TargetLocations": [{"Accounts": [OTHER_ACCOUNT], "Regions": [OTHER_REGION]}],
        },
    }
    execution = run_doc(doc(call))
    assert execution.status == "Failed"
    assert f"{OTHER_ACCOUNT}/{OTHER_REGION}" in execution.failure_message
    assert execution.step("Call").outputs["Status"] == "Failed"


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ({"Accounts": ["ou-abcd-12345678"], "Regions": [REGION]}, "unsupported: TargetLocations entry"),
        (
            {"Accounts": [OTHER_ACCOUNT], "Regions": [REGION], "TargetLocationMaxConcurrency": "1"},
            "unsupported: TargetLocations field 'TargetLocationMaxConcurrency'",
        ),
    ],
)
def test_target_locations_outside_the_subset(run_doc, registry, location, message) -> None:
    registry.add("Child", doc(returns("A", 1)))
    call = {
        "name": "Call",
        "action": "aws:executeAutomation",
        "inputs": {"DocumentName": "Child", "TargetLocations": [location]},
    }
    assert run_doc(doc(call)).failure_message.startswith(message)


# -- the "done when" test --------------------------------------------------------------

CHILD = """
schemaVersion: '0.3'
description: Enable versioning on a bucket (runs in the target account and Region).
assumeRole: '{{ AutomationAssumeRole }}'
parameters:
  AutomationAssumeRole: {type: String, default: ''}
  BucketName: {type: String, allowedPattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$'}
outputs: [Verify.Status]
mainSteps:
  - name: Enable
    action: aws:executeAwsApi
    inputs:
      Service: s3
      Api: PutBucketVersioning
      Bucket: '{{ BucketName }}'
      VersioningConfiguration: {Status: Enabled}
  - name: Wait
    action: aws:waitForAwsResourceProperty
    timeoutSeconds: 300
    inputs:
      Service: s3
      Api: GetBucketVersioning
      Bucket: '{{BucketName}}'
      PropertySelector: $.Status
      DesiredValues: [Enabled]
  - name: Assert
    action: aws:assertAwsResourceProperty
    inputs:
      Service: s3
      Api: GetBucketVersioning
      Bucket: '{{ BucketName }}'
      PropertySelector: $.Status
      DesiredValues: [Enabled]
  - name: Verify
    action: aws:executeAwsApi
    isEnd: true
    inputs: {Service: s3, Api: GetBucketVersioning, Bucket: '{{ BucketName }}'}
    outputs:
      - {Name: Status, Selector: $.Status, Type: String}
"""

PARENT = """
schemaVersion: '0.3'
assumeRole: '{{ AutomationAssumeRole }}'
parameters:
  AutomationAssumeRole: {type: String}
  BucketArn: {type: String, allowedPattern: '^arn:aws:s3:::[a-z0-9.-]+$'}
  TargetAccounts: {type: StringList, allowedPattern: '^\\d{12}$'}
  TargetRegions: {type: StringList}
outputs: [ParseInput.BucketName, Remediate.Status, CallerAccount.Account]
mainSteps:
  - name: ParseInput
    action: aws:executeScript
    inputs:
      Runtime: python3.11
      Handler: parse
      InputPayload: {arn: '{{ BucketArn }}'}
      Script: |
        def parse(events, context):
            return {"bucket": events["arn"].split(":::", 1)[1], "partition": context["global:AWS_PARTITION"]}
    outputs:
      - {Name: BucketName, Selector: $.Payload.bucket, Type: String}
  - name: CallerAccount
    action: aws:executeAwsApi
    inputs: {Service: sts, Api: GetCallerIdentity}
    outputs:
      - {Name: Account, Selector: $.Account}
  - name: ChooseRemediation
    action: aws:branch
    inputs:
      Choices:
        - NextStep: Remediate
          And:
            - {Variable: '{{ ParseInput.BucketName }}', StartsWith: data-}
            - {Variable: '{{ CallerAccount.Account }}', StringEquals: '111111111111'}
      Default: Skip
  - name: Remediate
    action: aws:executeAutomation
    isEnd: true
    inputs:
      DocumentName: Test-EnableVersioning
      RuntimeParameters:
        BucketName: '{{ ParseInput.BucketName }}'
      TargetLocations:
        - Accounts: '{{ TargetAccounts }}'
          Regions: '{{ TargetRegions }}'
          ExecutionRoleName: AutomationRole
  - name: Skip
    action: aws:executeScript
    inputs:
      Runtime: python3.11
      Handler: handler
      Script: |
        def handler(events, context):
            raise RuntimeError("should not be reached")
"""


def test_done_when_multi_step_document_changes_a_bucket_in_another_account_and_region(aws, registry, runner) -> None:
    target = session_in(OTHER_ACCOUNT, OTHER_REGION).client("s3")
    target.create_bucket(Bucket="data-bucket-222", CreateBucketConfiguration={"LocationConstraint": OTHER_REGION})
    registry.add("Test-EnableVersioning", CHILD)
    registry.add("Test-Parent", PARENT)

    execution = runner.run(
        "Test-Parent",
        {
            "AutomationAssumeRole": role_arn(ACCOUNT),
            "BucketArn": "arn:aws:s3:::data-bucket-222",
            "TargetAccounts": [OTHER_ACCOUNT],
            "TargetRegions": [OTHER_REGION],
        },
        account_id=ACCOUNT,
        region=REGION,
    )

    assert execution.status == "Success", execution.failure_message
    assert target.get_bucket_versioning(Bucket="data-bucket-222")["Status"] == "Enabled"
    assert "data-bucket-222" not in [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]

    result = execution.to_dict()
    assert result["AutomationExecutionStatus"] == "Success"
    assert result["DocumentName"] == "Test-Parent"
    assert [s["StepName"] for s in result["StepExecutions"]] == [
        "ParseInput",
        "CallerAccount",
        "ChooseRemediation",
        "Remediate",
    ]
    assert {s["StepStatus"] for s in result["StepExecutions"]} == {"Success"}
    assert result["Outputs"]["ParseInput.BucketName"] == ["data-bucket-222"]
    assert result["Outputs"]["CallerAccount.Account"] == [ACCOUNT]
    assert result["Outputs"]["Remediate.Status"] == ["Success"]
    assert result["Parameters"]["TargetAccounts"] == [OTHER_ACCOUNT]
    for key in ("AutomationExecutionId", "DocumentVersion", "ExecutionStartTime", "ExecutionEndTime", "Mode"):
        assert key in result

    (child,) = runner.get_execution(execution.step("Remediate").outputs["ExecutionId"]).child_executions
    assert (child.account_id, child.region) == (OTHER_ACCOUNT, OTHER_REGION)
    assert child.executed_steps() == ["Enable", "Wait", "Assert", "Verify"]
    assert child.outputs == {"Verify.Status": ["Enabled"]}
    assert child.to_dict()["TargetLocations"][0]["ExecutionRoleName"] == ROLE_NAME


def test_done_when_document_takes_the_default_branch_for_other_buckets(aws, registry, runner) -> None:
    registry.add("Test-EnableVersioning", CHILD)
    registry.add("Test-Parent", PARENT)
    execution = runner.run(
        "Test-Parent",
        {
            "AutomationAssumeRole": role_arn(ACCOUNT),
            "BucketArn": "arn:aws:s3:::logs-1",
            "TargetAccounts": [OTHER_ACCOUNT],
            "TargetRegions": [OTHER_REGION],
        },
        account_id=ACCOUNT,
        region=REGION,
    )
    assert execution.executed_steps() == ["ParseInput", "CallerAccount", "ChooseRemediation", "Skip"]
    assert execution.failure_message == "Step Skip failed: RuntimeError: should not be reached"
