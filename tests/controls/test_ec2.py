"""EC2 control evaluators on moto: the shapes each control's documentation names."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

import asr.controls.ec2 as ec2_controls
from asr.controls import EvaluationError, Resource, Status, evaluate

ACCOUNT, REGION = "111111111111", "us-east-1"


class _Session(boto3.Session):
    """A session that hands out a given (stubbed) client for some services."""

    def __init__(self, clients: dict[str, Any]) -> None:
        super().__init__(region_name=REGION)
        self._clients = clients

    def client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return self._clients.get(service_name) or super().client(service_name, *args, **kwargs)


@pytest.fixture(scope="module")
def _moto():
    # One moto for the module: EC2's backend is slow to build, and every test makes its own VPC,
    # group, instance ... so tests do not see each other's resources.
    with mock_aws():
        yield


@pytest.fixture
def ec2(_moto):
    return boto3.client("ec2", region_name=REGION)


@functools.cache
def _session() -> boto3.Session:
    """One session for the module: it caches service models, which keeps evaluations fast."""
    return boto3.Session(region_name=REGION)


def _arn(kind: str, ident: str) -> str:
    return f"arn:aws:ec2:{REGION}:{ACCOUNT}:{kind}/{ident}"


def _status(control_id: str, resource: Resource, parameters: dict[str, Any] | None = None) -> Status:
    return evaluate(control_id, _session(), resource, parameters).status


def _vpc(ec2) -> str:
    return ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]


def _group(ec2, *permissions: dict[str, Any]) -> Resource:
    group_id = ec2.create_security_group(GroupName="g", Description="d", VpcId=_vpc(ec2))["GroupId"]
    if permissions:
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=list(permissions))
    return Resource.of_arn(_arn("security-group", group_id), "AwsEc2SecurityGroup")


def _rule(protocol: str, low: int | None, high: int | None, cidr: str = "0.0.0.0/0") -> dict[str, Any]:
    rule: dict[str, Any] = {"IpProtocol": protocol}
    if low is not None:
        rule.update(FromPort=low, ToPort=high)
    if ":" in cidr:
        rule["Ipv6Ranges"] = [{"CidrIpv6": cidr}]
    else:
        rule["IpRanges"] = [{"CidrIp": cidr}]
    return rule


def _instance(ec2, **kwargs: Any) -> Resource:
    instance_id = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, **kwargs)["Instances"][0][
        "InstanceId"
    ]
    return Resource.of_arn(_arn("instance", instance_id), "AwsEc2Instance")


# ----------------------------------------------------------------------------------------- EC2.1


def test_ec2_1_public_snapshot_fails_until_made_private(ec2):
    account = Resource.account_level(ACCOUNT, REGION)
    assert _status("EC2.1", account) is Status.PASSED  # moto's AMI snapshots belong to other owners
    volume = ec2.create_volume(Size=1, AvailabilityZone=f"{REGION}a")["VolumeId"]
    snapshot = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
    ec2.modify_snapshot_attribute(
        SnapshotId=snapshot, Attribute="createVolumePermission", OperationType="add", UserIds=["222222222222"]
    )
    assert _status("EC2.1", account) is Status.PASSED  # shared with one account is not public
    ec2.modify_snapshot_attribute(
        SnapshotId=snapshot, Attribute="createVolumePermission", OperationType="add", GroupNames=["all"]
    )
    verdict = evaluate("EC2.1", _session(), account)
    assert verdict.status is Status.FAILED
    assert snapshot in verdict.reason
    ec2.modify_snapshot_attribute(
        SnapshotId=snapshot, Attribute="createVolumePermission", OperationType="remove", GroupNames=["all"]
    )
    assert _status("EC2.1", account) is Status.PASSED


# ----------------------------------------------------------------------------------------- EC2.2


def test_ec2_2_default_group_needs_no_inbound_and_no_outbound_rules(ec2):
    vpc = _vpc(ec2)
    group = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]
    resource = Resource.of_arn(_arn("security-group", group["GroupId"]), "AwsEc2SecurityGroup")
    verdict = evaluate("EC2.2", _session(), resource)
    assert verdict.status is Status.FAILED
    assert "1 outbound" in verdict.reason
    ec2.revoke_security_group_egress(GroupId=group["GroupId"], IpPermissions=group["IpPermissionsEgress"])
    assert _status("EC2.2", resource) is Status.PASSED
    ec2.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[_rule("tcp", 443, 443, "10.0.0.0/8")])
    assert _status("EC2.2", resource) is Status.FAILED


def test_ec2_2_non_default_group_is_not_applicable_and_missing_group_is_an_error(ec2):
    assert _status("EC2.2", _group(ec2)) is Status.NOT_APPLICABLE
    missing = Resource.of_arn(_arn("security-group", "sg-0123456789abcdef0"), "AwsEc2SecurityGroup")
    with pytest.raises(EvaluationError, match="sg-0123456789abcdef0"):
        evaluate("EC2.2", _session(), missing)


# ----------------------------------------------------------------------------------------- EC2.4


def test_ec2_4_stopped_longer_than_allowed_days_fails(ec2, monkeypatch):
    instance = _instance(ec2)
    assert _status("EC2.4", instance) is Status.PASSED  # running
    ec2.stop_instances(InstanceIds=[instance.name])
    assert _status("EC2.4", instance) is Status.PASSED  # stopped just now
    monkeypatch.setattr(ec2_controls, "_now", lambda: datetime.now(UTC) + timedelta(days=31))
    verdict = evaluate("EC2.4", _session(), instance)
    assert verdict.status is Status.FAILED
    assert "allowedDays=30" in verdict.reason
    assert _status("EC2.4", instance, {"allowedDays": 60}) is Status.PASSED


def test_ec2_4_allowed_days_must_be_a_number(ec2):
    with pytest.raises(EvaluationError, match="allowedDays"):
        evaluate("EC2.4", _session(), _instance(ec2), {"allowedDays": "a month"})


def test_ec2_4_terminated_instance_is_not_applicable(ec2):
    instance = _instance(ec2)
    ec2.terminate_instances(InstanceIds=[instance.name])
    assert _status("EC2.4", instance) is Status.NOT_APPLICABLE


def test_ec2_4_unknown_stop_time_is_an_error_not_a_pass(ec2):
    # A stop reason without a timestamp (moto always writes one, so the response is stubbed).
    client = boto3.client("ec2", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response(
        "describe_instances",
        {
            "Reservations": [
                {
                    "Instances": [
                        {
                            "InstanceId": "i-0123456789abcdef0",
                            "State": {"Code": 80, "Name": "stopped"},
                            "StateTransitionReason": "Server.InternalError",
                        }
                    ]
                }
            ]
        },
    )
    resource = Resource.of_arn(_arn("instance", "i-0123456789abcdef0"), "AwsEc2Instance")
    with stubber, pytest.raises(EvaluationError, match="StateTransitionReason"):
        evaluate("EC2.4", _Session({"ec2": client}), resource)


# ----------------------------------------------------------------------------------------- EC2.6


def test_ec2_6_vpc_needs_an_active_reject_or_all_flow_log(ec2):
    s3 = boto3.client("s3", region_name=REGION)
    for kind in ("accept", "reject", "all"):
        s3.create_bucket(Bucket=f"flow-logs-{kind}")
    vpc = _vpc(ec2)
    resource = Resource.of_arn(_arn("vpc", vpc), "AwsEc2Vpc")
    verdict = evaluate("EC2.6", _session(), resource)
    assert verdict.status is Status.FAILED
    assert "no flow log" in verdict.reason

    def flow_log(traffic: str) -> str:
        return ec2.create_flow_logs(
            ResourceIds=[vpc],
            ResourceType="VPC",
            TrafficType=traffic,
            LogDestinationType="s3",
            LogDestination=f"arn:aws:s3:::flow-logs-{traffic.lower()}",
        )["FlowLogIds"][0]

    accept = flow_log("ACCEPT")
    assert _status("EC2.6", resource) is Status.FAILED
    assert _status("EC2.6", resource, {"trafficType": "ACCEPT"}) is Status.PASSED
    reject = flow_log("REJECT")
    assert _status("EC2.6", resource) is Status.PASSED
    ec2.delete_flow_logs(FlowLogIds=[accept, reject])
    flow_log("ALL")
    assert _status("EC2.6", resource) is Status.PASSED


def test_ec2_6_missing_vpc_is_an_error(ec2):
    with pytest.raises(EvaluationError, match="vpc-0123456789abcdef0"):
        evaluate("EC2.6", _session(), Resource.of_arn(_arn("vpc", "vpc-0123456789abcdef0"), "AwsEc2Vpc"))


# ----------------------------------------------------------------------------------------- EC2.7


def test_ec2_7_ebs_encryption_by_default(ec2):
    account = Resource.account_level(ACCOUNT, REGION)
    verdict = evaluate("EC2.7", _session(), account)
    assert verdict.status is Status.FAILED
    assert "EbsEncryptionByDefault is false" in verdict.reason
    ec2.enable_ebs_encryption_by_default()
    assert _status("EC2.7", account) is Status.PASSED


# ----------------------------------------------------------------------------------------- EC2.8


def test_ec2_8_http_tokens_must_be_required(ec2):
    instance = _instance(ec2)
    verdict = evaluate("EC2.8", _session(), instance)
    assert verdict.status is Status.FAILED
    assert "'optional'" in verdict.reason
    ec2.modify_instance_metadata_options(InstanceId=instance.name, HttpTokens="required")
    assert _status("EC2.8", instance) is Status.PASSED
    launched_v2 = _instance(ec2, MetadataOptions={"HttpTokens": "required"})
    assert _status("EC2.8", launched_v2) is Status.PASSED


# ---------------------------------------------------------------------------------------- EC2.10


def test_ec2_10_vpc_needs_an_endpoint_for_the_service(ec2):
    vpc = _vpc(ec2)
    resource = Resource.of_arn(_arn("vpc", vpc), "AwsEc2Vpc")
    assert _status("EC2.10", resource) is Status.FAILED
    ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.ec2messages", VpcEndpointType="Interface")
    assert _status("EC2.10", resource) is Status.FAILED  # ec2messages is not ec2
    ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.ec2", VpcEndpointType="Interface")
    verdict = evaluate("EC2.10", _session(), resource)
    assert verdict.status is Status.PASSED
    assert "Interface" in verdict.reason


def test_ec2_10_service_name_parameter(ec2):
    vpc = _vpc(ec2)
    resource = Resource.of_arn(_arn("vpc", vpc), "AwsEc2Vpc")
    ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.ec2", VpcEndpointType="Interface")
    assert _status("EC2.10", resource, {"serviceName": "ssm"}) is Status.FAILED
    ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.ssm", VpcEndpointType="Interface")
    assert _status("EC2.10", resource, {"serviceName": "ssm"}) is Status.PASSED
    assert _status("EC2.10", resource, {"serviceName": f"com.amazonaws.{REGION}.ssm"}) is Status.PASSED


# ----------------------------------------------------------------------------------- EC2.13 / 14


@pytest.mark.parametrize(
    "rule",
    [
        _rule("tcp", 22, 22),
        _rule("tcp", 0, 1024),
        _rule("-1", None, None),
        _rule("tcp", 22, 22, "::/0"),
        _rule("udp", 20, 30),
    ],
    ids=["port-22", "range-containing-22", "all-traffic", "ipv6-any", "udp-range"],
)
def test_ec2_13_port_22_reachable_from_anywhere_fails(ec2, rule):
    verdict = evaluate("EC2.13", _session(), _group(ec2, rule))
    assert verdict.status is Status.FAILED
    assert "port 22" in verdict.reason


@pytest.mark.parametrize(
    "rules",
    [[], [_rule("tcp", 22, 22, "10.0.0.0/8")], [_rule("tcp", 80, 443)], [_rule("tcp", 23, 1024)]],
    ids=["no-rules", "restricted-source", "other-ports", "range-above-22"],
)
def test_ec2_13_passes_when_port_22_is_not_open_to_the_world(ec2, rules):
    assert _status("EC2.13", _group(ec2, *rules)) is Status.PASSED


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (_rule("tcp", 3389, 3389), Status.FAILED),
        (_rule("tcp", 3000, 4000), Status.FAILED),
        (_rule("-1", None, None, "::/0"), Status.FAILED),
        (_rule("tcp", 3389, 3389, "192.0.2.0/24"), Status.PASSED),
        (_rule("udp", 3389, 3389), Status.PASSED),  # restricted-common-ports judges TCP
        (_rule("tcp", 22, 22), Status.PASSED),
    ],
    ids=["3389", "range", "all-traffic-ipv6", "restricted-source", "udp", "other-port"],
)
def test_ec2_14_rdp(ec2, rule, expected):
    assert _status("EC2.14", _group(ec2, rule)) is expected


# ---------------------------------------------------------------------------------------- EC2.15


def test_ec2_15_subnet_must_not_map_public_ip_on_launch(ec2):
    subnet = ec2.create_subnet(VpcId=_vpc(ec2), CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    resource = Resource.of_arn(_arn("subnet", subnet), "AwsEc2Subnet")
    assert _status("EC2.15", resource) is Status.PASSED
    ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
    verdict = evaluate("EC2.15", _session(), resource)
    assert verdict.status is Status.FAILED
    assert verdict.reason == "MapPublicIpOnLaunch is true"


# ---------------------------------------------------------------------------------------- EC2.18


@pytest.mark.parametrize(
    ("rules", "parameters", "expected"),
    [
        ([_rule("tcp", 22, 22, "10.0.0.0/8")], None, Status.NOT_APPLICABLE),
        ([_rule("tcp", 443, 443), _rule("tcp", 80, 80, "::/0")], None, Status.PASSED),
        ([_rule("tcp", 22, 22)], None, Status.FAILED),
        ([_rule("tcp", 80, 443)], None, Status.FAILED),  # the range holds unauthorized ports
        ([_rule("-1", None, None)], None, Status.FAILED),
        ([_rule("udp", 53, 53)], None, Status.FAILED),  # no UDP port is authorized by default
        ([_rule("udp", 53, 53)], {"authorizedUdpPorts": "53"}, Status.PASSED),
        ([_rule("tcp", 1020, 1025)], {"authorizedTcpPorts": "443,1020-1025"}, Status.PASSED),
        ([_rule("tcp", 443, 443)], {"authorizedTcpPorts": [8443]}, Status.FAILED),
        ([_rule("tcp", 443, 443)], {"authorizedTcpPorts": None}, Status.FAILED),
        ([_rule("icmp", -1, -1)], None, Status.PASSED),
    ],
    ids=[
        "no-open-rule",
        "http-https",
        "ssh",
        "range-80-443",
        "all-traffic",
        "udp-default",
        "udp-authorized",
        "tcp-range-authorized",
        "tcp-override",
        "no-authorized-ports",
        "icmp-has-no-ports",
    ],
)
def test_ec2_18_authorized_ports(ec2, rules, parameters, expected):
    verdict = evaluate("EC2.18", _session(), _group(ec2, *rules), parameters)
    assert verdict.status is expected, verdict.reason


# ---------------------------------------------------------------------------------------- EC2.19


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (_rule("tcp", 3306, 3306), Status.FAILED),
        (_rule("tcp", 8000, 8100), Status.FAILED),
        (_rule("udp", 3389, 3389, "::/0"), Status.FAILED),
        (_rule("-1", None, None), Status.FAILED),
        (_rule("tcp", 443, 443), Status.PASSED),
        (_rule("tcp", 5432, 5432, "10.1.0.0/16"), Status.PASSED),
    ],
    ids=["mysql", "range-with-8080", "udp-ipv6", "all-traffic", "https", "restricted-source"],
)
def test_ec2_19_high_risk_ports(ec2, rule, expected):
    assert _status("EC2.19", _group(ec2, rule)) is expected


def test_ec2_19_reason_names_the_ports_and_the_list_can_be_overridden(ec2):
    group = _group(ec2, _rule("tcp", 8000, 8100))
    verdict = evaluate("EC2.19", _session(), group)
    assert "8080, 8088" in verdict.reason
    assert _status("EC2.19", group, {"blockedPorts": [22]}) is Status.PASSED
    assert _status("EC2.19", _group(ec2, _rule("tcp", 443, 443)), {"blockedPorts": "443"}) is Status.FAILED


# ---------------------------------------------------------------------------------------- EC2.23


def test_ec2_23_transit_gateway_auto_accept(ec2):
    def gateway(**kwargs: Any) -> Resource:
        tgw = ec2.create_transit_gateway(**kwargs)["TransitGateway"]["TransitGatewayId"]
        return Resource.of_arn(_arn("transit-gateway", tgw), "AwsEc2TransitGateway")

    assert _status("EC2.23", gateway()) is Status.PASSED
    verdict = evaluate("EC2.23", _session(), gateway(Options={"AutoAcceptSharedAttachments": "enable"}))
    assert verdict.status is Status.FAILED
    assert verdict.reason == "AutoAcceptSharedAttachments is 'enable'"


def test_unknown_parameter_is_refused(ec2):
    with pytest.raises(EvaluationError, match="unknown parameter"):
        evaluate("EC2.13", _session(), _group(ec2), {"blockedPorts": [22]})
