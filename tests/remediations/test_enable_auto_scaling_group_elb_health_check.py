"""ASR-EnableAutoScalingGroupELBHealthCheck: the script against moto, then the document through the runner."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_auto_scaling_group_elb_health_check import (
    RemediationError,
    enable_elb_health_check,
)
from tests.remediations.helpers import step_output

DOC = "EnableAutoScalingGroupELBHealthCheck"


def _setup(autoscaling, elb) -> None:
    autoscaling.create_launch_configuration(
        LaunchConfigurationName="lc", ImageId="ami-12c6146b", InstanceType="t3.micro"
    )
    elb.create_load_balancer(
        LoadBalancerName="web-lb",
        AvailabilityZones=["us-east-1a"],
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}],
    )
    for name, lbs in (("web", ["web-lb"]), ("bystander", ["web-lb"]), ("no-lb", [])):
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=name,
            LaunchConfigurationName="lc",
            MinSize=0,
            MaxSize=3,
            DesiredCapacity=0,
            AvailabilityZones=["us-east-1a"],
            LoadBalancerNames=lbs,
            HealthCheckType="EC2",
            HealthCheckGracePeriod=60,
            DefaultCooldown=120,
        )


def _group(autoscaling, name: str) -> dict:
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
    return {
        k: group.get(k)
        for k in (
            "HealthCheckType",
            "HealthCheckGracePeriod",
            "MinSize",
            "MaxSize",
            "DefaultCooldown",
            "LoadBalancerNames",
            "LaunchConfigurationName",
        )
    }


@pytest.fixture
def clients():
    with mock_aws():
        autoscaling = boto3.client("autoscaling", region_name="us-east-1")
        _setup(autoscaling, boto3.client("elb", region_name="us-east-1"))
        yield autoscaling


def test_script_enables_elb_checks_and_raises_a_short_grace_period(clients):
    out = enable_elb_health_check({"AutoScalingGroupName": "web", "HealthCheckGracePeriod": 300}, None)
    group = _group(clients, "web")
    assert group["HealthCheckType"] == "ELB" and group["HealthCheckGracePeriod"] == 300
    assert out["HealthCheckTypeBefore"] == "EC2" and out["HealthCheckGracePeriodBefore"] == "60"
    assert _group(clients, "bystander")["HealthCheckType"] == "EC2"


def test_script_keeps_a_longer_grace_period(clients):
    clients.update_auto_scaling_group(AutoScalingGroupName="web", HealthCheckGracePeriod=900)
    enable_elb_health_check({"AutoScalingGroupName": "web", "HealthCheckGracePeriod": 300}, None)
    assert _group(clients, "web")["HealthCheckGracePeriod"] == 900


def test_script_refuses_a_group_without_load_balancer(clients):
    with pytest.raises(RemediationError, match="AutoScalingGroupName no-lb: the group has no load balancer"):
        enable_elb_health_check({"AutoScalingGroupName": "no-lb", "HealthCheckGracePeriod": 300}, None)
    assert _group(clients, "no-lb")["HealthCheckType"] == "EC2"


# --- the document, through the runner ------------------------------------------------


def test_document_remediates_then_changes_nothing(run_runbook):
    autoscaling = boto3.client("autoscaling")
    _setup(autoscaling, boto3.client("elb"))
    before, bystander = _group(autoscaling, "web"), _group(autoscaling, "bystander")

    first = run_runbook(DOC, AutoScalingGroupName="web")
    assert first["AutomationExecutionStatus"] == "Success", first.get("FailureMessage")
    after = _group(autoscaling, "web")
    assert after == {**before, "HealthCheckType": "ELB", "HealthCheckGracePeriod": 300}
    assert _group(autoscaling, "bystander") == bystander
    assert step_output(first, "EnableELBHealthCheck.Output")["HealthCheckTypeAfter"] == "ELB"

    second = run_runbook(DOC, AutoScalingGroupName="web", HealthCheckGracePeriod=600)
    assert second["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in step_output(second, "EnableELBHealthCheck.Output")["Message"]
    assert _group(autoscaling, "web") == after


@pytest.mark.parametrize(
    "params",
    [
        {
            "AutoScalingGroupName": "arn:aws:autoscaling:us-east-1:111111111111:"
            "autoScalingGroup:u:autoScalingGroupName/web"
        },
        {"AutoScalingGroupName": ""},
        {"AutoScalingGroupName": "web", "HealthCheckGracePeriod": -5},
    ],
)
def test_document_rejects_malformed_input(run_runbook, params):
    with pytest.raises(ParameterValidationError, match=next(k for k in reversed(params))):
        run_runbook(DOC, **params)


def test_document_fails_on_missing_or_unsuitable_groups(run_runbook):
    autoscaling = boto3.client("autoscaling")
    _setup(autoscaling, boto3.client("elb"))
    missing = run_runbook(DOC, AutoScalingGroupName="missing")
    assert missing["AutomationExecutionStatus"] == "Failed"
    assert "AutoScalingGroupName missing: no such Auto Scaling group" in missing["FailureMessage"]
    no_lb = run_runbook(DOC, AutoScalingGroupName="no-lb")
    assert no_lb["AutomationExecutionStatus"] == "Failed"
    assert "AutoScalingGroupName no-lb: the group has no load balancer" in no_lb["FailureMessage"]
    assert _group(autoscaling, "no-lb")["HealthCheckType"] == "EC2"
