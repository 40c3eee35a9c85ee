"""asr/simulator/emulation/iam.py through boto3 under moto: AWS managed policies exist in every account
(https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#aws-managed-policies),
without MOTO_IAM_LOAD_MANAGED_POLICIES."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import REGION, multi_account_moto

CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


@pytest.fixture
def iam(monkeypatch):
    monkeypatch.delenv("MOTO_IAM_LOAD_MANAGED_POLICIES", raising=False)
    with multi_account_moto(monkeypatch):
        client = boto3.client("iam", region_name=REGION)
        client.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST)
        yield client


def test_an_aws_managed_policy_can_be_attached_and_read(iam):
    iam.attach_role_policy(RoleName="app", PolicyArn=CORE)
    attached = iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"]
    assert attached == [{"PolicyName": "AmazonSSMManagedInstanceCore", "PolicyArn": CORE}]
    policy = iam.get_policy(PolicyArn=CORE)["Policy"]
    assert policy["Arn"] == CORE and policy["AttachmentCount"] == 1
    document = iam.get_policy_version(PolicyArn=CORE, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    actions = {
        a
        for s in document["Document"]["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert "ssm:UpdateInstanceInformation" in actions


def test_a_managed_policy_with_a_path_needs_its_path(iam):
    iam.attach_role_policy(RoleName="app", PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM")
    with pytest.raises(ClientError) as caught:
        iam.attach_role_policy(RoleName="app", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2RoleforSSM")
    assert caught.value.response["Error"]["Code"] == "NoSuchEntity"


def test_users_and_groups_too(iam):
    iam.create_user(UserName="u")
    iam.create_group(GroupName="g")
    iam.attach_user_policy(UserName="u", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.attach_group_policy(GroupName="g", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert iam.list_attached_user_policies(UserName="u")["AttachedPolicies"][0]["PolicyName"] == "ReadOnlyAccess"
    assert iam.list_attached_group_policies(GroupName="g")["AttachedPolicies"][0]["PolicyName"] == "ReadOnlyAccess"


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::aws:policy/NoSuchPolicyOfAws",
        "arn:aws:iam::111111111111:policy/AmazonSSMManagedInstanceCore",  # a customer policy of that name
    ],
)
def test_a_policy_aws_does_not_define_stays_missing(iam, arn):
    with pytest.raises(ClientError) as caught:
        iam.attach_role_policy(RoleName="app", PolicyArn=arn)
    assert caught.value.response["Error"]["Code"] == "NoSuchEntity"
    with pytest.raises(ClientError) as caught:
        iam.get_policy(PolicyArn=arn)
    assert caught.value.response["Error"]["Code"] == "NoSuchEntity"


def test_customer_policies_are_untouched(iam):
    iam.get_policy(PolicyArn=CORE)
    assert iam.list_policies(Scope="Local")["Policies"] == []
