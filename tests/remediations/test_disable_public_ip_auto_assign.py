"""ASR-DisablePublicIPAutoAssign (EC2.15): turn off MapPublicIpOnLaunch on one subnet."""

from __future__ import annotations

import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.disable_public_ip_auto_assign import RemediationError, disable_public_ip_auto_assign
from tests.conftest import ACCOUNT, REGION

NAME = "DisablePublicIPAutoAssign"
OUTPUT = f"{NAME}.Output"
MISSING = f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/subnet-0123456789abcdef0"


pytestmark = pytest.mark.usefixtures("no_default_amis")


def _arn(subnet_id: str, region: str = REGION) -> str:
    return f"arn:aws:ec2:{region}:{ACCOUNT}:subnet/{subnet_id}"


def _subnet(ec2, subnet_id: str) -> dict:
    return ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]


@pytest.fixture
def subnets(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ids = []
    for cidr in ("10.0.1.0/24", "10.0.2.0/24"):
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
        ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
        ids.append(subnet)
    ec2.create_tags(Resources=[ids[0]], Tags=[{"Key": "team", "Value": "web"}])
    return {"target": ids[0], "bystander": ids[1]}


def _without(subnet: dict, *keys: str) -> dict:
    return {k: v for k, v in subnet.items() if k not in keys}


def test_script_turns_the_setting_off(ec2, subnets):
    out = disable_public_ip_auto_assign({"SubnetARN": _arn(subnets["target"])}, None)
    assert _subnet(ec2, subnets["target"])["MapPublicIpOnLaunch"] is False
    assert _subnet(ec2, subnets["bystander"])["MapPublicIpOnLaunch"] is True
    assert out["MapPublicIpOnLaunchBefore"] == "true" and out["MapPublicIpOnLaunchAfter"] == "false"


def test_script_refuses_an_arn_of_another_region(ec2, subnets):
    with pytest.raises(RemediationError, match="is in Region eu-west-1, but this runs in us-east-1"):
        disable_public_ip_auto_assign({"SubnetARN": _arn(subnets["target"], "eu-west-1")}, None)
    assert _subnet(ec2, subnets["target"])["MapPublicIpOnLaunch"] is True


# --- the document, through the local runner ---------------------------------------


def test_document_turns_off_public_ip_on_the_subnet_only(ec2, subnets, run_runbook):
    target_before = _subnet(ec2, subnets["target"])
    bystander_before = _subnet(ec2, subnets["bystander"])

    execution = run_runbook(NAME, SubnetARN=_arn(subnets["target"]))

    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    target_after = _subnet(ec2, subnets["target"])
    assert target_after["MapPublicIpOnLaunch"] is False
    changing = ("MapPublicIpOnLaunch", "AvailableIpAddressCount")
    assert _without(target_after, *changing) == _without(target_before, *changing), "other attributes and tags kept"
    assert _subnet(ec2, subnets["bystander"]) == bystander_before
    assert "turned off" in str(execution["Outputs"][OUTPUT])


def test_document_second_run_succeeds_and_changes_nothing(ec2, subnets, run_runbook):
    run_runbook(NAME, SubnetARN=_arn(subnets["target"]))
    before = _subnet(ec2, subnets["target"])
    execution = run_runbook(NAME, SubnetARN=_arn(subnets["target"]))
    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert "nothing changed" in str(execution["Outputs"][OUTPUT])
    assert _subnet(ec2, subnets["target"]) == before


@pytest.mark.parametrize(
    "bad",
    [
        "subnet-0123456789abcdef0",  # an id, not an ARN
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-0123456789abcdef0",  # wrong resource type
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/subnet-XYZ",
        f"arn:aws:ec2:{REGION}:12345:subnet/subnet-0123456789abcdef0",
    ],
)
def test_document_rejects_a_malformed_subnet_arn(ec2, subnets, run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="SubnetARN"):
        run_runbook(NAME, SubnetARN=bad)
    assert _subnet(ec2, subnets["target"])["MapPublicIpOnLaunch"] is True


def test_document_fails_on_a_missing_subnet_naming_it(ec2, subnets, run_runbook):
    execution = run_runbook(NAME, SubnetARN=MISSING)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"SubnetARN {MISSING}: no such subnet" in execution["FailureMessage"]
    assert _subnet(ec2, subnets["target"])["MapPublicIpOnLaunch"] is True
