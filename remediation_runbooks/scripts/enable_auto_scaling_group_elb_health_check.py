"""ASR-EnableAutoScalingGroupELBHealthCheck: make one Auto Scaling group use its load balancer's health checks."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
ELB = "ELB"


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _group(autoscaling: Any, name: str) -> dict[str, Any]:
    groups = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    if not groups:
        raise RemediationError(f"AutoScalingGroupName {name}: no such Auto Scaling group in this account and Region")
    return groups[0]


def _has_load_balancer(group: dict[str, Any]) -> bool:
    sources = [s for s in group.get("TrafficSources") or () if s.get("Type", "elbv2") in ("elb", "elbv2")]
    return bool(group.get("LoadBalancerNames") or group.get("TargetGroupARNs") or sources)


def _check_types(group: dict[str, Any]) -> list[str]:
    return [t for t in str(group.get("HealthCheckType") or "EC2").split(",") if t]


def _with_elb(types: list[str]) -> str:
    """ELB plus any other non-EC2 check already configured (EC2 checks always run)."""
    return ",".join([ELB, *[t for t in types if t not in ("EC2", ELB)]])


def enable_elb_health_check(event: dict[str, Any], _context: Any) -> dict[str, str]:
    name = event["AutoScalingGroupName"]
    grace = int(event["HealthCheckGracePeriod"])
    autoscaling = boto3.client("autoscaling", config=BOTO_CONFIG)
    group = _group(autoscaling, name)
    if not _has_load_balancer(group):
        raise RemediationError(
            f"AutoScalingGroupName {name}: the group has no load balancer or target group, so ELB health "
            "checks would never run; AutoScaling.1 does not apply. Nothing changed."
        )
    before_type, before_grace = group.get("HealthCheckType", "EC2"), int(group.get("HealthCheckGracePeriod") or 0)
    changed = ELB not in _check_types(group)
    if changed:
        autoscaling.update_auto_scaling_group(
            AutoScalingGroupName=name,
            HealthCheckType=_with_elb(_check_types(group)),
            HealthCheckGracePeriod=max(grace, before_grace),
        )
    after = _group(autoscaling, name)
    if ELB not in _check_types(after):
        raise RemediationError(f"AutoScalingGroupName {name}: HealthCheckType is still {after.get('HealthCheckType')}")
    return {
        "AutoScalingGroupARN": group["AutoScalingGroupARN"],
        "HealthCheckTypeBefore": before_type,
        "HealthCheckTypeAfter": after["HealthCheckType"],
        "HealthCheckGracePeriodBefore": str(before_grace),
        "HealthCheckGracePeriodAfter": str(after.get("HealthCheckGracePeriod", 0)),
        "Message": "ELB health checks enabled."
        if changed
        else "ELB health checks were already enabled; nothing changed.",
    }
