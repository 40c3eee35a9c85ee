"""ASR-AttachServiceVPCEndpoint (EC2.10): an Interface endpoint for one service in one VPC."""

from __future__ import annotations

import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.attach_service_vpc_endpoint import RemediationError, attach_service_vpc_endpoint
from tests.conftest import REGION

NAME = "AttachServiceVPCEndpoint"
OUTPUT = f"{NAME}.Output"
EC2_SERVICE = f"com.amazonaws.{REGION}.ec2"
MISSING_VPC = "vpc-0123456789abcdef0"


pytestmark = pytest.mark.usefixtures("no_default_amis")


def _endpoints(ec2, vpc_id: str) -> list[dict]:
    return ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["VpcEndpoints"]


def _subnets(ec2, vpc_id: str) -> list[dict]:
    return ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]


@pytest.fixture
def vpcs(ec2):
    target = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=target, EnableDnsHostnames={"Value": True})
    subnets = {}
    for cidr, zone in (("10.0.1.0/24", "a"), ("10.0.2.0/24", "a"), ("10.0.3.0/24", "b")):
        subnets[cidr] = ec2.create_subnet(VpcId=target, CidrBlock=cidr, AvailabilityZone=f"{REGION}{zone}")["Subnet"][
            "SubnetId"
        ]
    no_dns = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    ec2.create_subnet(VpcId=no_dns, CidrBlock="10.2.1.0/24", AvailabilityZone=f"{REGION}a")
    empty = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    bystander = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    ec2.create_subnet(VpcId=bystander, CidrBlock="10.1.1.0/24", AvailabilityZone=f"{REGION}a")
    return {"target": target, "no_dns": no_dns, "empty": empty, "bystander": bystander, "subnets": subnets}


def test_script_creates_one_endpoint_with_one_subnet_per_zone(ec2, vpcs):
    out = attach_service_vpc_endpoint({"VPCId": vpcs["target"], "ServiceName": "ec2"}, None)
    [endpoint] = _endpoints(ec2, vpcs["target"])
    assert (endpoint["ServiceName"], endpoint["VpcEndpointType"]) == (EC2_SERVICE, "Interface")
    zones = {s["SubnetId"]: s["AvailabilityZone"] for s in _subnets(ec2, vpcs["target"])}
    assert sorted(zones[s] for s in endpoint["SubnetIds"]) == [f"{REGION}a", f"{REGION}b"]
    assert endpoint["PrivateDnsEnabled"] is True
    assert out["Created"] == "true" and out["VpcEndpointId"] == endpoint["VpcEndpointId"]


def test_script_turns_private_dns_off_when_the_vpc_has_no_dns_hostnames(ec2, vpcs):
    out = attach_service_vpc_endpoint({"VPCId": vpcs["no_dns"], "ServiceName": "ec2"}, None)
    assert out["PrivateDnsEnabled"] == "false"
    assert _endpoints(ec2, vpcs["no_dns"])[0]["PrivateDnsEnabled"] is False


def test_script_refuses_a_vpc_without_subnets(ec2, vpcs):
    with pytest.raises(RemediationError, match=f"VPCId {vpcs['empty']} has no subnet"):
        attach_service_vpc_endpoint({"VPCId": vpcs["empty"], "ServiceName": "ec2"}, None)
    assert _endpoints(ec2, vpcs["empty"]) == []


# --- the document, through the local runner ---------------------------------------


def test_document_creates_the_endpoint_in_the_vpc_only(ec2, vpcs, run_runbook):
    subnets_before = _subnets(ec2, vpcs["target"])

    execution = run_runbook(NAME, VPCId=vpcs["target"], ServiceName="ec2")

    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    [endpoint] = _endpoints(ec2, vpcs["target"])
    assert endpoint["ServiceName"] == EC2_SERVICE and endpoint["VpcEndpointType"] == "Interface"
    assert len(endpoint["SubnetIds"]) == 2
    assert _endpoints(ec2, vpcs["bystander"]) == []
    key = ("SubnetId", "CidrBlock", "MapPublicIpOnLaunch", "Tags")
    assert [{k: s.get(k) for k in key} for s in _subnets(ec2, vpcs["target"])] == [
        {k: s.get(k) for k in key} for s in subnets_before
    ]
    assert endpoint["VpcEndpointId"] in str(execution["Outputs"][OUTPUT])


def test_document_second_run_succeeds_and_creates_no_second_endpoint(ec2, vpcs, run_runbook):
    run_runbook(NAME, VPCId=vpcs["target"], ServiceName="ec2")
    before = _endpoints(ec2, vpcs["target"])
    execution = run_runbook(NAME, VPCId=vpcs["target"], ServiceName="ec2")
    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert "nothing changed" in str(execution["Outputs"][OUTPUT])
    assert _endpoints(ec2, vpcs["target"]) == before


def test_document_accepts_dotted_service_names(ec2, vpcs, run_runbook):
    execution = run_runbook(NAME, VPCId=vpcs["target"], ServiceName="ecr.api")
    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert _endpoints(ec2, vpcs["target"])[0]["ServiceName"] == f"com.amazonaws.{REGION}.ecr.api"


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("VPCId", "vpc-XYZ"),
        ("VPCId", "sg-0123456789abcdef0"),
        ("ServiceName", "com.amazonaws.us-east-1.ec2 "),
        ("ServiceName", "EC2;rm"),
        ("ServiceName", ""),
    ],
)
def test_document_rejects_malformed_input_naming_it(ec2, vpcs, run_runbook, param, value):
    params = {"VPCId": vpcs["target"], "ServiceName": "ec2", param: value}
    with pytest.raises(ParameterValidationError, match=param):
        run_runbook(NAME, **params)
    assert _endpoints(ec2, vpcs["target"]) == []


def test_document_fails_on_a_missing_vpc_naming_it(ec2, vpcs, run_runbook):
    execution = run_runbook(NAME, VPCId=MISSING_VPC, ServiceName="ec2")
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"VPCId {MISSING_VPC}: no such VPC" in execution["FailureMessage"]


def test_document_fails_on_an_unknown_service_naming_it(ec2, vpcs, run_runbook):
    execution = run_runbook(NAME, VPCId=vpcs["target"], ServiceName="nosuchservice")
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "ServiceName nosuchservice: no Interface endpoint service" in execution["FailureMessage"]
    assert _endpoints(ec2, vpcs["target"]) == []


# --- the endpoint's own security group (EC2.10 defect: the VPC default group cut every other group off) ---


def _ingress(ec2, group_id: str) -> set[tuple]:
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])
    return {
        (r["IpProtocol"], r.get("FromPort"), r.get("ToPort"), r.get("CidrIpv4") or r.get("CidrIpv6"))
        for r in rules["SecurityGroupRules"]
        if not r["IsEgress"] and r["GroupId"] == group_id
    }


def _default_group(ec2, vpc_id: str) -> str:
    return ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]["GroupId"]


def test_document_gives_the_endpoint_a_group_admitting_https_from_the_vpc(ec2, vpcs, run_runbook):
    """With private DNS on, every EC2 API call of the VPC goes to the endpoint: on the default security
    group only members of that group could reach it. Its own group admits 443 from all the VPC's CIDRs."""
    ec2.associate_vpc_cidr_block(VpcId=vpcs["target"], CidrBlock="10.9.0.0/16")
    default = _default_group(ec2, vpcs["target"])
    default_rules = _ingress(ec2, default)

    execution = run_runbook(NAME, VPCId=vpcs["target"], ServiceName="ec2")

    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    [endpoint] = _endpoints(ec2, vpcs["target"])
    [group] = [g["GroupId"] for g in endpoint["Groups"]]
    assert group != default
    assert _ingress(ec2, group) == {("tcp", 443, 443, "10.0.0.0/16"), ("tcp", 443, 443, "10.9.0.0/16")}
    described = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]
    assert described["VpcId"] == vpcs["target"]
    assert _ingress(ec2, default) == default_rules, "the default group is not changed"
    assert group in str(execution["Outputs"][OUTPUT])


def test_document_reuses_the_endpoint_group_of_an_earlier_run(ec2, vpcs, run_runbook):
    """An earlier run that created the group but not the endpoint: the group is reused, not duplicated."""
    first = attach_service_vpc_endpoint({"VPCId": vpcs["target"], "ServiceName": "ec2"}, None)
    ec2.delete_vpc_endpoints(VpcEndpointIds=[first["VpcEndpointId"]])
    execution = run_runbook(NAME, VPCId=vpcs["target"], ServiceName="ec2")
    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpcs["target"]]}])["SecurityGroups"]
    assert sorted(g["GroupName"] for g in groups) == ["SO0111-ASR-VpcEndpoint-ec2", "default"]
    live = [e for e in _endpoints(ec2, vpcs["target"]) if e["State"].lower() not in ("deleted", "deleting")]
    assert [g["GroupId"] for g in live[0]["Groups"]] == [first["SecurityGroupId"]]


def test_document_description_states_the_hourly_cost_per_availability_zone(registry):
    description = registry.get(f"ASR-{NAME}")["description"]
    assert "per Availability Zone per hour" in description
    assert "https://aws.amazon.com/privatelink/pricing/" in description


def test_script_retries_a_new_group_not_yet_visible(ec2, vpcs, monkeypatch):
    """Right after CreateSecurityGroup, AuthorizeSecurityGroupIngress may answer InvalidGroup.NotFound
    (eventual consistency): retried a bounded number of times, never with a real sleep."""
    from botocore.exceptions import ClientError

    from remediation_runbooks.scripts import attach_service_vpc_endpoint as script

    real = script.boto3.client
    failures = iter([True, True])

    def client(*args, **kwargs):
        made = real(*args, **kwargs)
        authorize = made.authorize_security_group_ingress

        def flaky(**call):
            if next(failures, False):
                raise ClientError({"Error": {"Code": "InvalidGroup.NotFound", "Message": "not yet"}}, "Authorize")
            return authorize(**call)

        made.authorize_security_group_ingress = flaky
        return made

    monkeypatch.setattr(script.boto3, "client", client)
    slept: list[float] = []
    out = attach_service_vpc_endpoint({"VPCId": vpcs["target"], "ServiceName": "ec2"}, None, sleep=slept.append)
    assert slept == [script.RETRY_INTERVAL_SECONDS] * 2
    assert _ingress(ec2, out["SecurityGroupId"]) == {("tcp", 443, 443, "10.0.0.0/16")}
