"""asr/simulator/emulation/ssm.py through boto3 under moto: DescribeInstanceInformation lists the EC2
instances SSM Agent registers, as the Systems Manager documentation describes (pages in the module)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from asr.simulator import emulation
from asr.simulator.emulation.ssm import agent_platform
from tests.conftest import REGION, multi_account_moto

CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def trust(service: str = "ec2.amazonaws.com") -> str:
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


class World:
    def __init__(self) -> None:
        self.ec2 = boto3.client("ec2", region_name=REGION)
        self.iam = boto3.client("iam", region_name=REGION)
        self.ssm = boto3.client("ssm", region_name=REGION)

    def image(self, pattern: str) -> str:
        images = self.ec2.describe_images(Filters=[{"Name": "name", "Values": [pattern]}])["Images"]
        return sorted(i["ImageId"] for i in images)[0]

    def profile(self, name: str, policies=(), inline=None, service="ec2.amazonaws.com", boundary=None) -> str:
        extra = {"PermissionsBoundary": boundary} if boundary else {}
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(service), **extra)
        for policy in policies:
            self.iam.attach_role_policy(RoleName=name, PolicyArn=policy)
        if inline:
            self.iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(inline))
        self.iam.create_instance_profile(InstanceProfileName=name)
        self.iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
        return name

    def launch(self, profile: str | None = None, image: str = "amzn2-ami-hvm-*", tags=None) -> str:
        extra = {"IamInstanceProfile": {"Name": profile}} if profile else {}
        if tags:
            extra["TagSpecifications"] = [
                {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
            ]
        return self.ec2.run_instances(ImageId=self.image(image), MinCount=1, MaxCount=1, **extra)["Instances"][0][
            "InstanceId"
        ]

    def nodes(self, **kwargs) -> list[dict]:
        return self.ssm.describe_instance_information(**kwargs)["InstanceInformationList"]

    def managed(self, **kwargs) -> set[str]:
        return {n["InstanceId"] for n in self.nodes(**kwargs)}


@pytest.fixture
def world(monkeypatch):
    with multi_account_moto(monkeypatch):
        yield World()


def allow(action: str, effect: str = "Allow") -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": action, "Resource": "*"}]}


def test_the_extension_is_installed():
    names = {(e.target.__name__, e.name) for e in emulation.install()}
    assert ("SimpleSystemManagerResponse", "describe_instance_information") in names


def test_an_instance_whose_profile_role_has_the_core_policy_is_a_managed_node(world):
    managed = world.launch(world.profile("core", [CORE]))
    bare = world.launch()
    [node] = world.nodes()
    assert node["InstanceId"] == managed and bare not in world.managed()
    assert node["PingStatus"] == "Online"
    assert (node["ResourceType"], node["SourceType"], node["SourceId"]) == (
        "EC2Instance",
        "AWS::EC2::Instance",
        managed,
    )
    assert (node["PlatformType"], node["PlatformName"]) == ("Linux", "Amazon Linux 2")
    assert node["AgentVersion"] and node["IPAddress"] and node["LastPingDateTime"]


def test_the_role_must_allow_update_instance_information(world):
    lacking = world.launch(world.profile("read-only", [READ_ONLY]))
    inline = world.launch(world.profile("inline", inline=allow("ssm:UpdateInstance*")))
    denied = world.launch(
        world.profile(
            "denied",
            [CORE],
            inline={"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "ssm:*", "Resource": "*"}]},
        )
    )
    assert world.managed() == {inline}
    world.iam.attach_role_policy(RoleName="read-only", PolicyArn=CORE)  # what ASR-AttachSSMPermissionsToEC2 does
    assert world.managed() == {inline, lacking}
    assert denied not in world.managed()


def test_the_role_must_trust_ec2_and_stay_within_its_boundary(world):
    world.launch(world.profile("lambda-role", [CORE], service="lambda.amazonaws.com"))
    world.launch(world.profile("bounded", [CORE], boundary=READ_ONLY))
    assert world.managed() == set()


def test_a_profile_without_a_role_gives_no_credentials_until_a_role_is_added(world):
    world.iam.create_instance_profile(InstanceProfileName="empty")
    instance = world.launch("empty")
    assert world.managed() == set()
    world.iam.create_role(RoleName="core", AssumeRolePolicyDocument=trust())
    world.iam.attach_role_policy(RoleName="core", PolicyArn=CORE)
    world.iam.add_role_to_instance_profile(InstanceProfileName="empty", RoleName="core")
    assert world.managed() == {instance}


def test_an_associated_profile_counts(world):
    profile = world.profile("core", [CORE])
    instance = world.launch()
    world.ec2.associate_iam_instance_profile(IamInstanceProfile={"Name": profile}, InstanceId=instance)
    assert world.managed() == {instance}


def test_only_running_instances_with_the_agent_are_listed(world):
    profile = world.profile("core", [CORE])
    stopped, terminated = world.launch(profile), world.launch(profile)
    no_agent = [
        world.launch(profile, image) for image in ("amzn-ami-minimal-hvm-*", "RHEL-7.4*", "*ubuntu-trusty-14.04*")
    ]
    windows = world.launch(profile, "Windows_Server-2016-English-Full-Base-*")
    world.ec2.stop_instances(InstanceIds=[stopped])
    world.ec2.terminate_instances(InstanceIds=[terminated])
    assert world.managed() == {windows}
    assert world.nodes()[0]["PlatformType"] == "Windows"
    assert not set(no_agent) & world.managed()


@pytest.mark.parametrize(
    ("name", "platform"),
    [
        ("amzn2-ami-hvm-2.0.20180810-x86_64-gp2", "Amazon Linux 2"),
        ("al2023-ami-2023.4.20240611.0-kernel-6.1-x86_64", "Amazon Linux 2023"),
        ("amzn-ami-hvm-2017.09.1.20171103-x86_64-gp2", "Amazon Linux"),
        ("amzn-ami-hvm-2017.03.1.20170623-x86_64-gp2", None),
        ("amzn2-ami-minimal-hvm-2.0.20180810-x86_64-ebs", None),
        ("ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240701", "Ubuntu"),
        ("ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-20170721", None),
        ("ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-20180814", "Ubuntu"),
        ("Windows_Server-2012-R2_RTM-English-64Bit-Base-2017.10.13", "Microsoft Windows Server"),
        ("Windows_Server-2012-R2_RTM-English-64Bit-Base-2016.10.13", None),
        ("RHEL-7.4_HVM_GA-20170808-x86_64-2-Hourly2-GP2", None),
        (None, None),
    ],
)
def test_which_amis_ship_the_agent(name, platform):
    assert agent_platform(name) == platform


def test_filters(world):
    profile = world.profile("core", [CORE])
    linux = world.launch(profile, tags={"team": "a"})
    windows = world.launch(profile, "Windows_Server-2019-English-Core-EKS_Optimized", tags={"team": "b"})
    assert world.managed(Filters=[{"Key": "InstanceIds", "Values": [linux, "i-0123456789abcdef0"]}]) == {linux}
    assert world.managed(Filters=[{"Key": "PlatformTypes", "Values": ["Windows"]}]) == {windows}
    assert world.managed(Filters=[{"Key": "tag:team", "Values": ["a"]}]) == {linux}
    assert world.managed(Filters=[{"Key": "tag-key", "Values": ["team"]}]) == {linux, windows}
    assert world.managed(Filters=[{"Key": "PingStatus", "Values": ["ConnectionLost"]}]) == set()
    legacy = [{"key": "InstanceIds", "valueSet": [windows]}]
    assert world.managed(InstanceInformationFilterList=legacy) == {windows}


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"Filters": [{"Key": "InstanceIds", "Values": ["not-an-instance"]}]}, "InvalidInstanceId"),
        ({"Filters": [{"Key": "Color", "Values": ["blue"]}]}, "InvalidFilterKey"),
        ({"Filters": [{"Key": "PingStatus", "Values": ["Asleep"]}]}, "InvalidInstanceInformationFilterValue"),
        (
            {
                "Filters": [{"Key": "PingStatus", "Values": ["Online"]}],
                "InstanceInformationFilterList": [{"key": "PingStatus", "valueSet": ["Online"]}],
            },
            "InvalidInstanceInformationFilterValue",
        ),
        ({"NextToken": "garbage"}, "InvalidNextToken"),
        ({"MaxResults": 51}, "ValidationException"),
    ],
)
def test_bad_requests_name_the_problem(world, kwargs, code):
    with pytest.raises(ClientError) as caught:
        world.ssm.describe_instance_information(**kwargs)
    assert caught.value.response["Error"]["Code"] == code


def test_pages(world):
    profile = world.profile("core", [CORE])
    launched = {world.launch(profile) for _ in range(7)}
    first = world.ssm.describe_instance_information(MaxResults=5)
    assert len(first["InstanceInformationList"]) == 5 and first["NextToken"]
    second = world.ssm.describe_instance_information(MaxResults=5, NextToken=first["NextToken"])
    assert "NextToken" not in second
    seen = {n["InstanceId"] for page in (first, second) for n in page["InstanceInformationList"]}
    assert seen == launched
    paginated = world.ssm.get_paginator("describe_instance_information").paginate(PaginationConfig={"PageSize": 5})
    assert {n["InstanceId"] for page in paginated for n in page["InstanceInformationList"]} == launched


def test_max_results_below_the_minimum_is_refused_by_the_server_too(world):
    unchecked = boto3.client("ssm", region_name=REGION, config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as caught:
        unchecked.describe_instance_information(MaxResults=4)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
