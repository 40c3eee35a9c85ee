"""Clone-and-swap of an Auto Scaling launch configuration (launch configurations are immutable).

Shared by ASR-ConfigureAutoScalingLaunchConfigToRequireIMDSv2 and
ASR-ConfigureAutoScalingLaunchConfigNoPublicIP. Three handlers, one per document step,
each safe to run again:

1. ``clone_launch_configuration``: create ``<name><suffix>``, a copy with the one fix.
2. ``move_auto_scaling_groups``: point every group that uses the old one at the clone.
3. ``delete_old_launch_configuration``: delete the old one, only once no group uses it.

"Accounts created on or after October 1, 2024 cannot create new launch configurations using any
method" (Amazon EC2 Auto Scaling User Guide, Auto Scaling launch configurations:
https://docs.aws.amazon.com/autoscaling/ec2/userguide/launch-configurations.html). There,
CreateLaunchConfiguration answers UnsupportedOperation: the run stops before anything changed and
says to move the groups to a launch template instead.
"""

from __future__ import annotations

import base64
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
MAX_NAME = 255
SUFFIXES = {"RequireIMDSv2": "-IMDSv2", "NoPublicIP": "-NoPublicIP"}
MIGRATE = "https://docs.aws.amazon.com/autoscaling/ec2/userguide/migrate-to-launch-templates.html"
LAUNCH_TEMPLATE_FIX = {
    "RequireIMDSv2": "with MetadataOptions HttpTokens=required",
    "NoPublicIP": "whose network interface has AssociatePublicIpAddress=false",
}


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _client() -> Any:
    return boto3.client("autoscaling", config=BOTO_CONFIG)


def _suffix(change: str) -> str:
    if change not in SUFFIXES:
        raise RemediationError(f"Change {change}: must be one of {sorted(SUFFIXES)}")
    return SUFFIXES[change]


def clone_name(name: str, change: str) -> str:
    suffix = _suffix(change)
    return name[: MAX_NAME - len(suffix)] + suffix


def _describe(autoscaling: Any, name: str) -> dict[str, Any] | None:
    found = autoscaling.describe_launch_configurations(LaunchConfigurationNames=[name])["LaunchConfigurations"]
    return found[0] if found else None


def is_compliant(config: dict[str, Any], change: str) -> bool:
    if change == "RequireIMDSv2":
        return (config.get("MetadataOptions") or {}).get("HttpTokens") == "required"
    return config.get("AssociatePublicIpAddress") is not True


def _create_arguments(autoscaling: Any, config: dict[str, Any]) -> dict[str, Any]:
    """Every setting CreateLaunchConfiguration accepts, copied; empty values dropped.

    Describe returns UserData base64-encoded and boto3 encodes it again on create, so it
    is decoded here (copying it as returned would hand the instances garbage user data).
    """
    accepted = autoscaling.meta.service_model.operation_model("CreateLaunchConfiguration").input_shape.members
    args = {
        key: value
        for key, value in config.items()
        if key in accepted and key != "LaunchConfigurationName" and value not in ("", None, [], {})
    }
    if "UserData" in args:
        args["UserData"] = base64.b64decode(args["UserData"])
    return args


def fixed_arguments(autoscaling: Any, config: dict[str, Any], change: str) -> dict[str, Any]:
    args = _create_arguments(autoscaling, config)
    if change == "RequireIMDSv2":
        args["MetadataOptions"] = {**(config.get("MetadataOptions") or {}), "HttpTokens": "required"}
    else:
        args["AssociatePublicIpAddress"] = False
    return args


def clone_launch_configuration(event: dict[str, Any], _context: Any) -> dict[str, str]:
    name, change = event["LaunchConfigurationName"], event["Change"]
    new_name = clone_name(name, change)
    autoscaling = _client()
    old, clone = _describe(autoscaling, name), _describe(autoscaling, new_name)
    if old is None:
        if clone is not None and is_compliant(clone, change):
            return _result(
                name, new_name, "already-swapped", "The clone exists and the original is gone; nothing changed."
            )
        raise RemediationError(
            f"LaunchConfigurationName {name}: no such launch configuration in this account and Region"
        )
    if is_compliant(old, change):
        return _result(name, "", "compliant", "The launch configuration is already compliant; nothing changed.")
    wanted = fixed_arguments(autoscaling, old, change)
    if clone is not None:
        if _create_arguments(autoscaling, clone) != wanted:
            raise RemediationError(
                f"LaunchConfigurationName {name}: a different launch configuration named {new_name} already exists; "
                "rename or delete it, then run again. Nothing changed."
            )
        return _result(name, new_name, "reused", f"Reusing {new_name} from an earlier run.")
    try:
        autoscaling.create_launch_configuration(LaunchConfigurationName=new_name, **wanted)
    except ClientError as err:
        if err.response["Error"]["Code"] != "UnsupportedOperation":
            raise
        groups = groups_using(autoscaling, name)
        raise RemediationError(
            f"LaunchConfigurationName {name}: this account cannot create launch configurations (AWS refuses "
            "them in accounts created on or after 1 October 2024: UnsupportedOperation), so no fixed copy can "
            f"replace it; nothing changed. Move the Auto Scaling group(s) that use it "
            f"({', '.join(groups) or 'none'}) to a launch template {LAUNCH_TEMPLATE_FIX[change]} "
            f"({MIGRATE}), then delete the launch configuration."
        ) from None
    return _result(name, new_name, "created", f"Created {new_name}, a copy of {name} with the fix.")


def _result(name: str, new_name: str, status: str, message: str) -> dict[str, str]:
    return {
        "OldLaunchConfigurationName": name,
        "NewLaunchConfigurationName": new_name,
        "Status": status,
        "Message": message,
    }


def groups_using(autoscaling: Any, name: str) -> list[str]:
    paginator = autoscaling.get_paginator("describe_auto_scaling_groups")
    return [
        group["AutoScalingGroupName"]
        for page in paginator.paginate()
        for group in page["AutoScalingGroups"]
        if group.get("LaunchConfigurationName") == name
    ]


def move_auto_scaling_groups(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    old, new = event["OldLaunchConfigurationName"], event["NewLaunchConfigurationName"]
    if not new:
        return {"MovedGroups": [], "Message": "Nothing to move."}
    autoscaling = _client()
    moved = groups_using(autoscaling, old)
    for group in moved:
        autoscaling.update_auto_scaling_group(AutoScalingGroupName=group, LaunchConfigurationName=new)
    left = groups_using(autoscaling, old)
    if left:
        raise RemediationError(f"LaunchConfigurationName {old}: groups {left} still use it after the update")
    return {"MovedGroups": moved, "Message": f"Moved {len(moved)} Auto Scaling group(s) to {new}."}


def delete_old_launch_configuration(event: dict[str, Any], _context: Any) -> dict[str, str]:
    old, new = event["OldLaunchConfigurationName"], event["NewLaunchConfigurationName"]
    autoscaling = _client()
    if not new or _describe(autoscaling, old) is None:
        return {"Deleted": "", "Message": "Nothing to delete."}
    if _describe(autoscaling, new) is None:
        raise RemediationError(f"LaunchConfigurationName {old}: not deleted, its replacement {new} does not exist")
    still = groups_using(autoscaling, old)
    if still:
        raise RemediationError(f"LaunchConfigurationName {old}: not deleted, groups {still} still use it")
    autoscaling.delete_launch_configuration(LaunchConfigurationName=old)
    return {"Deleted": old, "Message": f"Deleted {old}; {new} replaces it."}
