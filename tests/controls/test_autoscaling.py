"""AutoScaling.1, AutoScaling.3 and Autoscaling.5 evaluators on moto."""

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


@functools.cache
def _session() -> boto3.Session:
    return boto3.Session(region_name=REGION)


@pytest.fixture(scope="module")
def _moto():
    with mock_aws():  # one moto for the module (EC2 is slow to build); every test names its own resources
        yield


@pytest.fixture
def autoscaling(_moto):
    return boto3.client("autoscaling", region_name=REGION)


def _launch_configuration(autoscaling, **kwargs: Any) -> Resource:
    name = f"lc{next(_names)}"
    autoscaling.create_launch_configuration(
        LaunchConfigurationName=name, ImageId="ami-12c6146b", InstanceType="t3.micro", **kwargs
    )
    arn = autoscaling.describe_launch_configurations(LaunchConfigurationNames=[name])["LaunchConfigurations"][0][
        "LaunchConfigurationARN"
    ]
    return Resource.of_arn(arn, "AwsAutoScalingLaunchConfiguration")


def _group(autoscaling, **kwargs: Any) -> Resource:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    config = _launch_configuration(autoscaling).id.rsplit("/", 1)[1]
    name = f"asg{next(_names)}"
    if kwargs.pop("target_group", False):
        elbv2 = boto3.client("elbv2", region_name=REGION)
        target_group = elbv2.create_target_group(Name=f"tg{next(_names)}", Protocol="HTTP", Port=80, VpcId=vpc)
        kwargs["TargetGroupARNs"] = [target_group["TargetGroups"][0]["TargetGroupArn"]]
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchConfigurationName=config,
        MinSize=0,
        MaxSize=1,
        VPCZoneIdentifier=subnet,
        **kwargs,
    )
    arn = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0][
        "AutoScalingGroupARN"
    ]
    return Resource.of_arn(arn, "AwsAutoScalingAutoScalingGroup")


# ---------------------------------------------------------------------------------- AutoScaling.1


def test_group_behind_target_group_needs_elb_health_checks(autoscaling):
    group = _group(autoscaling, target_group=True)
    verdict = evaluate("AutoScaling.1", _session(), group)
    assert verdict.status is Status.FAILED
    assert "'EC2'" in verdict.reason
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=group.name, HealthCheckType="ELB")
    assert evaluate("AutoScaling.1", _session(), group).status is Status.PASSED


def test_group_with_classic_load_balancer_needs_elb_health_checks(autoscaling):
    elb = boto3.client("elb", region_name=REGION)
    elb.create_load_balancer(
        LoadBalancerName="classic",
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}],
        AvailabilityZones=[f"{REGION}a"],
    )
    group = _group(autoscaling, LoadBalancerNames=["classic"], HealthCheckType="ELB", HealthCheckGracePeriod=300)
    assert evaluate("AutoScaling.1", _session(), group).status is Status.PASSED


def test_group_without_load_balancer_is_not_applicable(autoscaling):
    assert evaluate("AutoScaling.1", _session(), _group(autoscaling)).status is Status.NOT_APPLICABLE


def test_missing_group_is_an_error(autoscaling):
    arn = f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:0000:autoScalingGroupName/none"
    with pytest.raises(EvaluationError, match="none"):
        evaluate("AutoScaling.1", _session(), Resource.of_arn(arn, "AwsAutoScalingAutoScalingGroup"))


# ---------------------------------------------------------------------------------- AutoScaling.3


@pytest.mark.parametrize(
    ("options", "expected", "reason"),
    [
        (None, Status.FAILED, "not set"),
        ({"HttpTokens": "optional"}, Status.FAILED, "'optional'"),
        ({"HttpTokens": "required"}, Status.PASSED, "'required'"),
    ],
    ids=["no-metadata-options", "optional", "required"],
)
def test_launch_configuration_imdsv2(autoscaling, options, expected, reason):
    config = _launch_configuration(autoscaling, **({"MetadataOptions": options} if options else {}))
    verdict = evaluate("AutoScaling.3", _session(), config)
    assert verdict.status is expected
    assert reason in verdict.reason


def test_missing_launch_configuration_is_an_error(autoscaling):
    arn = f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:launchConfiguration:0000:launchConfigurationName/none"
    with pytest.raises(EvaluationError, match="none"):
        evaluate("AutoScaling.3", _session(), Resource.of_arn(arn, "AwsAutoScalingLaunchConfiguration"))


# ---------------------------------------------------------------------------------- Autoscaling.5


def test_launch_configuration_public_ip(autoscaling):
    public = _launch_configuration(autoscaling, AssociatePublicIpAddress=True)
    verdict = evaluate("Autoscaling.5", _session(), public)
    assert verdict.status is Status.FAILED
    assert verdict.reason == "AssociatePublicIpAddress is true"
    private = _launch_configuration(autoscaling, AssociatePublicIpAddress=False)
    assert evaluate("Autoscaling.5", _session(), private).status is Status.PASSED
    assert evaluate("Autoscaling.5", _session(), _launch_configuration(autoscaling)).status is Status.PASSED
