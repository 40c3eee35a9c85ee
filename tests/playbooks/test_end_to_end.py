"""Control runbooks all the way to a real remediation that changes a moto resource.

The control runbook runs in the member account (111111111111, us-east-1) as the
orchestrator's member role; regional entries reach the resource's account and
Region (222222222222, eu-west-1) through TargetLocations.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from asr.playbooks import data
from asr.simulator.execution import Status
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, REGION
from tests.playbooks.harness import (
    OTHER_REGION,
    client,
    finding_for,
    import_finding,
    real_registry,
    run_control,
    stored_finding,
)

#: (standard, control) pairs proven here end to end.
PROVEN = {
    ("SC", "Lambda.1"),
    ("SC", "S3.2"),
    ("SC", "KMS.4"),
    ("SC", "EC2.2"),
    ("CIS120", "1.5"),
    ("NIST80053", "S3.8"),
}


@pytest.fixture(autouse=True)
def _no_default_amis(monkeypatch):
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


def _remediate(key: str, control_id: str, resource_id: str, *, account: str, region: str, resource_type: str):
    std = data.load_standard(key)
    finding = finding_for(std, control_id, resource_id, account=account, region=region, resource_type=resource_type)
    import_finding(finding)
    target = std.control(control_id).remap or control_id
    _, execution = run_control(real_registry(), std, target, finding)
    assert execution.status is Status.SUCCESS, execution.failure_message
    stored = stored_finding(finding["Id"])
    assert stored["Workflow"]["Status"] == "RESOLVED"
    return execution, stored


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.py", "def handler(e, c):\n    return 1\n")
    return buf.getvalue()


def test_sc_lambda_1_removes_public_access_in_another_account_and_region(aws):
    iam = client("iam", OTHER_ACCOUNT, OTHER_REGION)
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = client("lambda", OTHER_ACCOUNT, OTHER_REGION)
    arn = lam.create_function(
        FunctionName="public-fn", Runtime="python3.11", Role=role, Handler="index.handler", Code={"ZipFile": _zip()}
    )["FunctionArn"]
    lam.add_permission(FunctionName="public-fn", StatementId="public", Action="lambda:InvokeFunction", Principal="*")
    lam.add_permission(
        FunctionName="public-fn", StatementId="partner", Action="lambda:InvokeFunction", Principal=ACCOUNT
    )
    _, stored = _remediate(
        "SC", "Lambda.1", arn, account=OTHER_ACCOUNT, region=OTHER_REGION, resource_type="AwsLambdaFunction"
    )
    sids = {s["Sid"] for s in json.loads(lam.get_policy(FunctionName="public-fn")["Policy"])["Statement"]}
    assert sids == {"partner"}
    assert stored["Note"]["Text"] == "Removed public access from the policy of Lambda function public-fn"


def test_sc_kms_4_enables_rotation_in_another_account_and_region(aws):
    kms = client("kms", OTHER_ACCOUNT, OTHER_REGION)
    key = kms.create_key()["KeyMetadata"]
    assert not kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
    _remediate("SC", "KMS.4", key["Arn"], account=OTHER_ACCOUNT, region=OTHER_REGION, resource_type="AwsKmsKey")
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
    other = client("kms", ACCOUNT, REGION).create_key()["KeyMetadata"]["KeyId"]
    assert not client("kms", ACCOUNT, REGION).get_key_rotation_status(KeyId=other)["KeyRotationEnabled"]


def test_sc_ec2_2_closes_the_default_security_group_in_another_account_and_region(aws):
    ec2 = client("ec2", OTHER_ACCOUNT, OTHER_REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    (group,) = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    ec2.authorize_security_group_ingress(
        GroupId=group["GroupId"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    arn = f"arn:aws:ec2:{OTHER_REGION}:{OTHER_ACCOUNT}:security-group/{group['GroupId']}"
    _remediate("SC", "EC2.2", arn, account=OTHER_ACCOUNT, region=OTHER_REGION, resource_type="AwsEc2SecurityGroup")
    (after,) = ec2.describe_security_groups(GroupIds=[group["GroupId"]])["SecurityGroups"]
    assert after["IpPermissions"] == [] and after["IpPermissionsEgress"] == []


@pytest.mark.parametrize(("key", "control_id"), [("SC", "S3.2"), ("NIST80053", "S3.8")])
def test_s3_bucket_public_access_block(aws, key, control_id):
    s3 = client("s3", ACCOUNT, REGION)
    s3.create_bucket(Bucket="open-bucket")
    _remediate(key, control_id, "arn:aws:s3:::open-bucket", account=ACCOUNT, region=REGION, resource_type="AwsS3Bucket")
    config = s3.get_public_access_block(Bucket="open-bucket")["PublicAccessBlockConfiguration"]
    assert all(config.values()) and len(config) == 4


def test_cis120_1_5_sets_the_cis_password_policy(aws):
    _remediate("CIS120", "1.5", f"AWS::::Account:{ACCOUNT}", account=ACCOUNT, region=REGION, resource_type="AwsAccount")
    policy = client("iam", ACCOUNT, REGION).get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 14 and policy["PasswordReusePrevention"] == 24
    assert policy["HardExpiry"] is False and policy["MaxPasswordAge"] == 90


def test_a_wrong_control_finding_changes_nothing_for_real(aws):
    kms = client("kms", OTHER_ACCOUNT, OTHER_REGION)
    key = kms.create_key()["KeyMetadata"]
    std = data.load_standard("SC")
    finding = finding_for(std, "KMS.3", key["Arn"], account=OTHER_ACCOUNT, region=OTHER_REGION)
    import_finding(finding)
    _, execution = run_control(real_registry(), std, "KMS.4", finding)
    assert execution.status is Status.FAILED
    assert "finding control id 'KMS.3' is not one this runbook remediates (expected KMS.4)" in execution.failure_message
    assert not kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
