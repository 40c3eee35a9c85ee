"""SSM.1 and SSM.4 evaluators on moto (SSM.1's managed-node list stubbed where a shape -- a PingStatus other
than Online -- cannot be made on moto; otherwise from asr/simulator/emulation/ssm.py)."""

from __future__ import annotations

import functools
import json
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate

ACCOUNT, REGION = "111111111111", "us-east-1"
CONTENT = json.dumps(
    {
        "schemaVersion": "2.2",
        "description": "list files",
        "mainSteps": [{"action": "aws:runShellScript", "name": "list", "inputs": {"runCommand": ["ls"]}}],
    }
)


@functools.cache
def _session() -> boto3.Session:
    return boto3.Session(region_name=REGION)


class _Session(boto3.Session):
    """A session that hands out a given (stubbed) client for some services."""

    def __init__(self, clients: dict[str, Any]) -> None:
        super().__init__(region_name=REGION)
        self._clients = clients

    def client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return self._clients.get(service_name) or super().client(service_name, *args, **kwargs)


@pytest.fixture(scope="module")
def _moto():
    with mock_aws():  # one moto for the module (EC2 is slow to build); every test makes its own resources
        yield


@pytest.fixture
def ec2(_moto):
    return boto3.client("ec2", region_name=REGION)


@pytest.fixture
def ssm(_moto):
    return boto3.client("ssm", region_name=REGION)


# ------------------------------------------------------------------------------------------ SSM.1


def _instance(ec2) -> Resource:
    instance_id = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    return Resource.of_arn(f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance_id}", "AwsEc2Instance")


def _managed_verdict(instance: Resource, nodes: list[dict[str, Any]]):
    # moto does not implement DescribeInstanceInformation, so the managed-node list is stubbed;
    # the instance itself is read from moto's EC2.
    client = boto3.client("ssm", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response("describe_instance_information", {"InstanceInformationList": nodes}, {"Filters": ANY})
    with stubber:
        return evaluate("SSM.1", _Session({"ssm": client}), instance)


def test_ssm_1_unmanaged_instance_fails(ec2):
    instance = _instance(ec2)
    verdict = _managed_verdict(instance, [])
    assert verdict.status is Status.FAILED
    assert instance.name in verdict.reason


def test_ssm_1_managed_instance_passes_whatever_its_ping_status(ec2):
    instance = _instance(ec2)
    verdict = _managed_verdict(instance, [{"InstanceId": instance.name, "PingStatus": "ConnectionLost"}])
    assert verdict.status is Status.PASSED
    assert "ConnectionLost" in verdict.reason


def test_ssm_1_on_the_emulated_managed_node_list(ec2):
    """No stub: the instance (a Windows Server AMI, SSM Agent preinstalled) is unmanaged until its instance
    profile's role holds AmazonSSMManagedInstanceCore (what SSM Agent needs to register)."""
    from asr.simulator import emulation

    emulation.install()
    iam = boto3.client("iam", region_name=REGION)
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName="ssm1-node", AssumeRolePolicyDocument=json.dumps(trust))
    iam.create_instance_profile(InstanceProfileName="ssm1-node")
    iam.add_role_to_instance_profile(InstanceProfileName="ssm1-node", RoleName="ssm1-node")
    instance = _instance(ec2)
    assert evaluate("SSM.1", _session(), instance).status is Status.FAILED
    ec2.associate_iam_instance_profile(IamInstanceProfile={"Name": "ssm1-node"}, InstanceId=instance.name)
    assert evaluate("SSM.1", _session(), instance).status is Status.FAILED  # the role cannot register yet
    iam.attach_role_policy(RoleName="ssm1-node", PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
    verdict = evaluate("SSM.1", _session(), instance)
    assert verdict.status is Status.PASSED and "Online" in verdict.reason


def test_ssm_1_stopped_instance_is_still_judged(ec2):
    instance = _instance(ec2)
    ec2.stop_instances(InstanceIds=[instance.name])
    assert _managed_verdict(instance, []).status is Status.FAILED


def test_ssm_1_terminated_instance_is_not_applicable(ec2):
    instance = _instance(ec2)
    ec2.terminate_instances(InstanceIds=[instance.name])
    assert evaluate("SSM.1", _session(), instance).status is Status.NOT_APPLICABLE


def test_ssm_1_missing_instance_is_an_error(ec2):
    missing = Resource.of_arn(f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123456789abcdef0", "AwsEc2Instance")
    with pytest.raises(EvaluationError, match="i-0123456789abcdef0"):
        evaluate("SSM.1", _session(), missing)


# ------------------------------------------------------------------------------------------ SSM.4


def _document(ssm, name: str) -> Resource:
    ssm.create_document(Name=name, Content=CONTENT, DocumentType="Command", DocumentFormat="JSON")
    return Resource.of_arn(f"arn:aws:ssm:{REGION}:{ACCOUNT}:document/{name}", "AwsSsmDocument")


def test_ssm_4_public_document_fails_until_unshared(ssm):
    document = _document(ssm, "public-doc")
    assert evaluate("SSM.4", _session(), document).status is Status.PASSED
    ssm.modify_document_permission(Name="public-doc", PermissionType="Share", AccountIdsToAdd=["all"])
    verdict = evaluate("SSM.4", _session(), document)
    assert verdict.status is Status.FAILED
    assert "'all'" in verdict.reason
    ssm.modify_document_permission(Name="public-doc", PermissionType="Share", AccountIdsToRemove=["all"])
    assert evaluate("SSM.4", _session(), document).status is Status.PASSED


def test_ssm_4_document_shared_with_an_account_passes(ssm):
    document = _document(ssm, "shared-doc")
    ssm.modify_document_permission(Name="shared-doc", PermissionType="Share", AccountIdsToAdd=["222222222222"])
    verdict = evaluate("SSM.4", _session(), document)
    assert verdict.status is Status.PASSED
    assert "1 account" in verdict.reason


def test_ssm_4_document_owned_by_amazon_is_not_applicable(ssm):
    # moto holds no AWS-owned documents, so DescribeDocument is stubbed with Amazon as the owner.
    client = boto3.client("ssm", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response(
        "describe_document",
        {"Document": {"Name": "AWS-RunShellScript", "Owner": "Amazon"}},
        {"Name": "AWS-RunShellScript"},
    )
    resource = Resource.of_arn(f"arn:aws:ssm:{REGION}:{ACCOUNT}:document/AWS-RunShellScript", "AwsSsmDocument")
    with stubber:
        verdict = evaluate("SSM.4", _Session({"ssm": client}), resource)
    assert verdict.status is Status.NOT_APPLICABLE
    assert "'Amazon'" in verdict.reason


def test_ssm_4_missing_document_is_an_error(ssm):
    missing = Resource.of_arn(f"arn:aws:ssm:{REGION}:{ACCOUNT}:document/none-such", "AwsSsmDocument")
    with pytest.raises(EvaluationError, match="none-such"):
        evaluate("SSM.4", _session(), missing)
