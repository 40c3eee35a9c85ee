"""Amazon EC2 Auto Scaling controls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from asr.controls.base import Context, EvaluationError, Resource, Verdict, control, failed, not_applicable, passed

_DOC = "https://docs.aws.amazon.com/securityhub/latest/userguide/autoscaling-controls.html"


def _call(control_id: str, resource_id: str, what: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except (ClientError, BotoCoreError) as err:
        raise EvaluationError(f"{control_id}: cannot {what} for {resource_id!r}: {err}") from None


def _name(resource: Resource, marker: str) -> str:
    """The group or launch configuration name of an Auto Scaling ARN (``...:<marker>/<name>``) or a bare name."""
    if f":{marker}/" in resource.id:
        return resource.id.split(f":{marker}/", 1)[1]
    if resource.id.startswith("arn:"):
        raise EvaluationError(f"{resource.id!r} is not an Auto Scaling ARN with {marker!r}")
    return resource.id


def _launch_configuration(ctx: Context, control_id: str, resource: Resource) -> dict[str, Any]:
    name = _name(resource, "launchConfigurationName")
    autoscaling = ctx.client("autoscaling")
    found = _call(
        control_id,
        resource.id,
        "describe the launch configuration",
        lambda: autoscaling.describe_launch_configurations(LaunchConfigurationNames=[name])["LaunchConfigurations"],
    )
    if not found:
        raise EvaluationError(f"{control_id}: launch configuration {name!r} not found")
    return found[0]


@control("AutoScaling.1", doc=f"{_DOC}#autoscaling-1", resource_types=("AwsAutoScalingAutoScalingGroup",))
def group_uses_elb_health_checks(ctx: Context, resource: Resource) -> Verdict:
    """AutoScaling.1 (Config rule autoscaling-group-elb-healthcheck-required): an Auto Scaling group
    associated with a load balancer (Classic Load Balancer names or target groups) must use Elastic
    Load Balancing health checks (``HealthCheckType`` includes ELB). Groups with no load balancer
    are out of scope."""
    name = _name(resource, "autoScalingGroupName")
    autoscaling = ctx.client("autoscaling")
    groups = _call(
        "AutoScaling.1",
        resource.id,
        "describe the Auto Scaling group",
        lambda: autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"],
    )
    if not groups:
        raise EvaluationError(f"AutoScaling.1: Auto Scaling group {name!r} not found")
    group = groups[0]
    if not group.get("LoadBalancerNames") and not group.get("TargetGroupARNs"):
        return not_applicable("the group has no LoadBalancerNames or TargetGroupARNs")
    health = group.get("HealthCheckType", "EC2")
    if "ELB" in [h.strip().upper() for h in health.split(",")]:
        return passed(f"HealthCheckType is {health!r}")
    return failed(f"HealthCheckType is {health!r} for a group behind a load balancer")


@control("AutoScaling.3", doc=f"{_DOC}#autoscaling-3", resource_types=("AwsAutoScalingLaunchConfiguration",))
def launch_configuration_requires_imdsv2(ctx: Context, resource: Resource) -> Verdict:
    """AutoScaling.3 (Config rule autoscaling-launchconfig-requires-imdsv2): the launch configuration
    must require IMDSv2 (``MetadataOptions.HttpTokens`` is ``required``); it fails when the metadata
    options are left out or allow both IMDSv1 and IMDSv2 (``optional``)."""
    config = _launch_configuration(ctx, "AutoScaling.3", resource)
    tokens = (config.get("MetadataOptions") or {}).get("HttpTokens")
    if tokens == "required":
        return passed("MetadataOptions.HttpTokens is 'required'")
    if tokens is None:
        return failed("MetadataOptions.HttpTokens is not set (IMDSv1 and IMDSv2 both allowed)")
    return failed(f"MetadataOptions.HttpTokens is {tokens!r}")


@control("Autoscaling.5", doc=f"{_DOC}#autoscaling-5", resource_types=("AwsAutoScalingLaunchConfiguration",))
def launch_configuration_no_public_ip(ctx: Context, resource: Resource) -> Verdict:
    """Autoscaling.5 (Config rule autoscaling-launch-config-public-ip-disabled): the launch
    configuration must not assign public IP addresses: ``AssociatePublicIpAddress`` true fails."""
    config = _launch_configuration(ctx, "Autoscaling.5", resource)
    value = config.get("AssociatePublicIpAddress")
    if value is True:
        return failed("AssociatePublicIpAddress is true")
    return passed(f"AssociatePublicIpAddress is {'false' if value is False else 'not set'}")
