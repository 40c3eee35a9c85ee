"""ELB.1 evaluator on moto: HTTP listeners must redirect every request to HTTPS."""

from __future__ import annotations

import functools
import itertools
from typing import Any

import boto3
import pytest
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate

ACCOUNT, REGION = "111111111111", "us-east-1"
_names = itertools.count()
REDIRECT = {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}


@functools.cache
def _session() -> boto3.Session:
    return boto3.Session(region_name=REGION)


@pytest.fixture(scope="module")
def _moto():
    with mock_aws():  # one moto for the module: each test makes its own VPC and load balancer
        yield


@pytest.fixture
def elbv2(_moto):
    return boto3.client("elbv2", region_name=REGION)


@pytest.fixture
def network(_moto) -> tuple[str, list[str]]:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate("ab", start=1)
    ]
    return vpc, subnets


def _balancer(elbv2, network, kind: str = "application") -> str:
    return elbv2.create_load_balancer(Name=f"lb{next(_names)}", Subnets=network[1], Type=kind)["LoadBalancers"][0][
        "LoadBalancerArn"
    ]


def _target_group(elbv2, network) -> str:
    return elbv2.create_target_group(Name=f"tg{next(_names)}", Protocol="HTTP", Port=80, VpcId=network[0])[
        "TargetGroups"
    ][0]["TargetGroupArn"]


def _listener(elbv2, arn: str, action: dict[str, Any], port: int = 80) -> str:
    return elbv2.create_listener(LoadBalancerArn=arn, Protocol="HTTP", Port=port, DefaultActions=[action])["Listeners"][
        0
    ]["ListenerArn"]


def _verdict(arn: str):
    return evaluate("ELB.1", _session(), Resource.of_arn(arn, "AwsElbv2LoadBalancer"))


def test_http_listener_redirecting_to_https_passes(elbv2, network):
    arn = _balancer(elbv2, network)
    _listener(elbv2, arn, REDIRECT)
    verdict = _verdict(arn)
    assert verdict.status is Status.PASSED, verdict.reason


def test_http_listener_forwarding_fails(elbv2, network):
    arn = _balancer(elbv2, network)
    _listener(elbv2, arn, {"Type": "forward", "TargetGroupArn": _target_group(elbv2, network)})
    verdict = _verdict(arn)
    assert verdict.status is Status.FAILED
    assert "'forward'" in verdict.reason


def test_a_forwarding_rule_fails_even_when_the_default_action_redirects(elbv2, network):
    arn = _balancer(elbv2, network)
    listener = _listener(elbv2, arn, REDIRECT)
    elbv2.create_rule(
        ListenerArn=listener,
        Priority=10,
        Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": _target_group(elbv2, network)}],
    )
    verdict = _verdict(arn)
    assert verdict.status is Status.FAILED
    assert "priority 10" in verdict.reason


def test_fixed_response_and_http_redirect_rules_fail(elbv2, network):
    arn = _balancer(elbv2, network)
    listener = _listener(elbv2, arn, REDIRECT)
    elbv2.create_rule(
        ListenerArn=listener,
        Priority=5,
        Conditions=[{"Field": "path-pattern", "Values": ["/old"]}],
        Actions=[
            {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTP", "Path": "/new", "StatusCode": "HTTP_302"}}
        ],
    )
    assert "Protocol 'HTTP'" in _verdict(arn).reason
    other = _balancer(elbv2, network)
    _listener(
        elbv2,
        other,
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200", "ContentType": "text/plain"}},
    )
    assert _verdict(other).status is Status.FAILED


def test_every_http_listener_counts(elbv2, network):
    arn = _balancer(elbv2, network)
    _listener(elbv2, arn, REDIRECT, port=80)
    _listener(elbv2, arn, {"Type": "forward", "TargetGroupArn": _target_group(elbv2, network)}, port=8080)
    verdict = _verdict(arn)
    assert verdict.status is Status.FAILED
    assert "port 8080" in verdict.reason


def test_balancer_without_http_listener_passes(elbv2, network):
    assert _verdict(_balancer(elbv2, network)).status is Status.PASSED


def test_network_load_balancer_is_not_applicable(elbv2, network):
    verdict = _verdict(_balancer(elbv2, network, kind="network"))
    assert verdict.status is Status.NOT_APPLICABLE
    assert "'network'" in verdict.reason


def test_missing_load_balancer_is_an_error(elbv2):
    arn = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/gone/0123456789abcdef"
    with pytest.raises(EvaluationError, match="gone"):
        _verdict(arn)
