"""Seeders for the management and governance controls: AWS CloudFormation.

CloudFormation.1 (https://docs.aws.amazon.com/securityhub/latest/userguide/cloudformation-controls.html#cloudformation-1,
Config rule cloudformation-stack-notification-check): a stack that sends its events to no SNS topic.
The remediation may add a notification topic and nothing else: the stack's template, parameters,
resources, outputs, tags and service role, and every other stack, stay as they were.
"""

from __future__ import annotations

import json
from typing import Any

from asr.controls import Resource
from asr.simulator.seeds import Seeded, Where, seeder

_TEMPLATE = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Description": "seeded application stack",
    "Parameters": {
        "Env": {"Type": "String", "AllowedValues": ["dev", "prod"]},
        "RetentionSeconds": {"Type": "Number", "Default": "345600"},
    },
    "Resources": {
        "Jobs": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": {"Fn::Sub": "${AWS::StackName}-jobs"},
                "MessageRetentionPeriod": {"Ref": "RetentionSeconds"},
            },
        },
        "Setting": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Name": {"Fn::Sub": "/${AWS::StackName}/env"}, "Type": "String", "Value": {"Ref": "Env"}},
        },
    },
    "Outputs": {
        "JobsUrl": {"Value": {"Ref": "Jobs"}},
        "JobsArn": {"Value": {"Fn::GetAtt": ["Jobs", "Arn"]}},
    },
}


def _stack(cloudformation: Any, arn: str) -> dict[str, Any]:
    return cloudformation.describe_stacks(StackName=arn)["Stacks"][0]


def _resources(cloudformation: Any, arn: str) -> list[tuple[str, str, str]]:
    found = cloudformation.list_stack_resources(StackName=arn)["StackResourceSummaries"]
    return sorted((r["LogicalResourceId"], r["ResourceType"], r.get("PhysicalResourceId", "")) for r in found)


def _resource_state(where: Where, name: str) -> tuple[Any, ...]:
    """What the stack's resources hold: the queue's retention, the SSM parameter's value and version."""
    sqs, ssm = where.client("sqs"), where.client("ssm")
    url = sqs.get_queue_url(QueueName=f"{name}-jobs")["QueueUrl"]
    retention = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["MessageRetentionPeriod"])["Attributes"]
    parameter = ssm.get_parameter(Name=f"/{name}/env")["Parameter"]
    return retention, parameter["Value"], parameter["Version"]


def _everything_but_notifications(cloudformation: Any, arn: str) -> dict[str, Any]:
    stack = _stack(cloudformation, arn)
    keep = (
        "StackName",
        "Description",
        "Parameters",
        "Outputs",
        "Tags",
        "RoleARN",
        "Capabilities",
        "EnableTerminationProtection",
        "DisableRollback",
    )
    return {
        **{k: stack.get(k) for k in keep},
        "Template": cloudformation.get_template(StackName=arn)["TemplateBody"],
        "Resources": _resources(cloudformation, arn),
    }


def _stack_pair(where: Where, name: str, **create: Any) -> Seeded:
    cloudformation = where.client("cloudformation")
    arns = [
        cloudformation.create_stack(
            StackName=stack,
            TemplateBody=json.dumps(_TEMPLATE),
            Parameters=[{"ParameterKey": "Env", "ParameterValue": "prod"}],
            Tags=[{"Key": "team", "Value": "platform"}],
            **create,
        )["StackId"]
        for stack in (name, f"{name}-bystander")
    ]
    arn, other = arns
    return Seeded(
        resource=Resource.of_arn(arn, "AwsCloudFormationStack"),
        state=lambda: _stack(cloudformation, arn).get("NotificationARNs"),
        bystanders=lambda: (
            _everything_but_notifications(cloudformation, arn),
            _resource_state(where, name),
            _resource_state(where, f"{name}-bystander"),
            {
                **_everything_but_notifications(cloudformation, other),
                "NotificationARNs": _stack(cloudformation, other).get("NotificationARNs"),
            },
        ),
    )


@seeder("CloudFormation.1")
def stack_without_notifications(where: Where) -> Seeded:
    """A stack (a queue and an SSM parameter, two parameters of which one keeps its default, outputs,
    tags) that notifies no SNS topic; another such stack stays as it is."""
    return _stack_pair(where, "seeded-cfn1")


@seeder("CloudFormation.1", shape="service-role")
def stack_with_service_role(where: Where) -> Seeded:
    """The stack runs its operations as a service role (RoleARN): the update must keep that role (passing
    it to CloudFormation), never fall back to the caller's permissions."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "cloudformation.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = where.client("iam").create_role(RoleName="seeded-cfn1-deployer", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    return _stack_pair(where, "seeded-cfn1-role", RoleARN=role)
