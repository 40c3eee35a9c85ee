"""DocumentRegistry and the local emulations of the AWS-owned documents."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from asr.simulator import DocumentNotFoundError, DocumentRegistry
from asr.simulator.errors import ParameterValidationError
from tests.simulator.conftest import ACCOUNT, OTHER_ACCOUNT, REGION, role_arn, session_in

AWS_DOCUMENTS = ["AWS-ConfigureS3BucketLogging", "AWS-DisablePublicAccessForSecurityGroup", "AWS-TerminateEC2Instance"]


def test_add_get_names_and_files(tmp_path: Path) -> None:
    registry = DocumentRegistry()
    registry.add("B", {"schemaVersion": "0.3", "mainSteps": []})
    registry.add("A", "schemaVersion: '0.3'\nmainSteps: []\n")
    (tmp_path / "C.json").write_text(json.dumps({"schemaVersion": "0.3", "mainSteps": []}))
    assert registry.load_file(tmp_path / "C.json") == "C"
    assert registry.load_file(tmp_path / "C.json", name="Other") == "Other"
    assert registry.names() == ["A", "B", "C", "Other"]
    assert registry.get("A") == {"schemaVersion": "0.3", "mainSteps": []}
    with pytest.raises(DocumentNotFoundError, match="document 'Z' is not in the registry"):
        registry.get("Z")


def test_from_repo_uses_the_document_renderer(monkeypatch: pytest.MonkeyPatch) -> None:
    import asr.documents

    rendered = []
    monkeypatch.setattr(asr.documents, "remediation_runbook_names", lambda: ["ASR-One", "ASR-Two"])

    def render(name: str, namespace: str) -> dict:
        rendered.append((name, namespace))
        return {"schemaVersion": "0.3", "description": name, "mainSteps": []}

    monkeypatch.setattr(asr.documents, "render_remediation_runbook", render)
    registry = DocumentRegistry.from_repo(namespace="ns1")
    assert rendered == [("ASR-One", "ns1"), ("ASR-Two", "ns1")]
    assert registry.names() == sorted(["ASR-One", "ASR-Two", *AWS_DOCUMENTS])
    assert registry.get("ASR-Two")["description"] == "ASR-Two"


def test_from_repo_loads_every_real_runbook() -> None:
    import asr.documents

    registry = DocumentRegistry.from_repo()
    assert set(asr.documents.remediation_runbook_names()) <= set(registry.names())
    assert set(AWS_DOCUMENTS) <= set(registry.names())


@pytest.fixture
def aws_runner(aws, runner, registry):
    registry.load_aws_documents()
    return runner


def test_configure_s3_bucket_logging(aws_runner) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="source-bucket")
    s3.create_bucket(Bucket="access-logs-bucket", ACL="log-delivery-write")
    execution = aws_runner.run(
        "AWS-ConfigureS3BucketLogging",
        {
            "BucketName": "source-bucket",
            "TargetBucket": "access-logs-bucket",
            "TargetPrefix": "source/",
            "GrantedPermission": "READ",
            "GranteeType": "Group",
            "GranteeUri": "http://acs.amazonaws.com/groups/s3/LogDelivery",
        },
    )
    assert execution.status == "Success", execution.failure_message
    assert execution.executed_steps() == ["ChooseGrantee", "ConfigureLoggingForGroup"]
    enabled = s3.get_bucket_logging(Bucket="source-bucket")["LoggingEnabled"]
    assert (enabled["TargetBucket"], enabled["TargetPrefix"]) == ("access-logs-bucket", "source/")
    assert enabled["TargetGrants"][0]["Permission"] == "READ"


def test_configure_s3_bucket_logging_validates_like_the_aws_document(aws_runner) -> None:
    with pytest.raises(ParameterValidationError, match="'GranteeType' value 'Robot' is not one of"):
        aws_runner.run(
            "AWS-ConfigureS3BucketLogging",
            {"BucketName": "b", "TargetBucket": "t", "GrantedPermission": "READ", "GranteeType": "Robot"},
        )


def _open_group(ec2) -> str:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="open", Description="open", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": port,
                "ToPort": port,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}, {"CidrIp": "10.1.2.3/32"}],
                "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
            }
            for port in (22, 3389)
        ],
    )
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    return group


def _rules(ec2, group: str) -> set[tuple[int, str]]:
    permissions = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
    return {
        (p["FromPort"], r.get("CidrIp") or r.get("CidrIpv6"))
        for p in permissions
        for r in p.get("IpRanges", []) + p.get("Ipv6Ranges", [])
    }


def test_disable_public_access_for_security_group_in_another_account(aws_runner) -> None:
    ec2 = session_in(OTHER_ACCOUNT, REGION).client("ec2")
    group = _open_group(ec2)
    execution = aws_runner.run(
        "AWS-DisablePublicAccessForSecurityGroup",
        {"GroupId": group, "IpAddressToBlock": "10.1.2.3/32", "AutomationAssumeRole": role_arn(OTHER_ACCOUNT)},
        account_id=OTHER_ACCOUNT,
    )
    assert execution.status == "Success", execution.failure_message
    assert _rules(ec2, group) == {(443, "0.0.0.0/0")}


def test_disable_public_access_fails_as_documented_without_all_four_patterns(aws_runner) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="ssh", Description="ssh", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    execution = aws_runner.run("AWS-DisablePublicAccessForSecurityGroup", {"GroupId": group})
    assert execution.status == "Failed"
    assert "InvalidPermission.NotFound" in execution.failure_message


def test_terminate_ec2_instance(aws_runner) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId="ami-12c6146b", MinCount=2, MaxCount=2)["Instances"]]
    keep = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    execution = aws_runner.run("AWS-TerminateEC2Instance", {"InstanceId": ids}, account_id=ACCOUNT)
    assert execution.status == "Success", execution.failure_message
    states = {
        i["InstanceId"]: i["State"]["Name"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
    }
    assert states == {ids[0]: "terminated", ids[1]: "terminated", keep: "running"}
