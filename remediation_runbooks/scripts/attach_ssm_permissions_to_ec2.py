"""ASR-AttachSSMPermissionsToEC2: give one EC2 instance the IAM permissions SSM needs to manage it."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
SSM_POLICY = "AmazonSSMManagedInstanceCore"
UNCHANGEABLE_STATES = ("shutting-down", "terminated")


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _last_segment(name_or_arn: str) -> str:
    """``role/path/name`` or ``instance-profile/name`` ARN, or a plain name -> the name."""
    return name_or_arn.rsplit("/", 1)[-1]


def _describe_instance(ec2: Any, instance_arn: str, instance_id: str) -> dict[str, Any]:
    try:
        reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    except ClientError as err:
        if err.response["Error"]["Code"] not in ("InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"):
            raise
        reservations = []
    if not reservations or not reservations[0]["Instances"]:
        raise RemediationError(f"InstanceArn {instance_arn}: no such instance in this account and Region")
    return reservations[0]["Instances"][0]


def _associated_profile(ec2: Any, instance_id: str) -> str | None:
    """Name of the instance profile associated (or being associated) with the instance."""
    associations = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [instance_id]}]
    )["IamInstanceProfileAssociations"]
    for association in associations:
        if association["InstanceId"] == instance_id and association["State"] in ("associating", "associated"):
            return _last_segment(association["IamInstanceProfile"]["Arn"])
    return None


def _profile_roles(iam: Any, profile: str, parameter: str) -> list[str]:
    try:
        return [
            r["RoleName"] for r in iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Roles"]
        ]
    except iam.exceptions.NoSuchEntityException:
        raise RemediationError(f"{parameter} {profile}: no such instance profile") from None


def _ensure_policy(iam: Any, role: str, policy_arn: str) -> bool:
    """Attach the SSM managed policy to ``role`` unless it is there. True if it attached it."""
    pages = iam.get_paginator("list_attached_role_policies").paginate(RoleName=role)
    if any(p["PolicyArn"] == policy_arn for page in pages for p in page["AttachedPolicies"]):
        return False
    iam.attach_role_policy(RoleName=role, PolicyArn=policy_arn)
    return True


def _use_existing_profile(iam: Any, profile: str, our_role: str, changes: list[str]) -> str:
    """The role that gets the policy when the instance already has ``profile``."""
    roles = _profile_roles(iam, profile, "associated instance profile")
    if roles:
        return roles[0]
    iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=our_role)
    changes.append(f"added role {our_role} to the instance's profile {profile}")
    return our_role


def _use_solution_profile(ec2: Any, iam: Any, instance_id: str, profile: str, our_role: str, changes: list[str]) -> str:
    """Associate the solution's profile (which must hold the solution's role) with the instance."""
    roles = _profile_roles(iam, profile, "InstanceProfile")
    if our_role not in roles:
        raise RemediationError(
            f"InstanceProfile {profile} does not contain RemediationRole {our_role} "
            f"(it holds {', '.join(roles) or 'no role'}); nothing changed"
        )
    ec2.associate_iam_instance_profile(IamInstanceProfile={"Name": profile}, InstanceId=instance_id)
    changes.append(f"associated instance profile {profile}")
    return our_role


def attach_ssm_permissions_to_ec2(event: dict[str, Any], _context: Any) -> dict[str, str]:
    instance_arn = event["InstanceArn"]
    _, partition, _, region, _, resource = instance_arn.split(":", 5)
    instance_id = _last_segment(resource)
    our_role = _last_segment(event["RemediationRole"])
    our_profile = _last_segment(event["InstanceProfile"])
    policy_arn = f"arn:{partition}:iam::aws:policy/{SSM_POLICY}"
    ec2 = boto3.client("ec2", config=BOTO_CONFIG)
    iam = boto3.client("iam", config=BOTO_CONFIG)
    if region != ec2.meta.region_name:
        raise RemediationError(
            f"InstanceArn {instance_arn} is in Region {region}, but this runs in "
            f"{ec2.meta.region_name}; nothing changed"
        )
    state = _describe_instance(ec2, instance_arn, instance_id)["State"]["Name"]
    if state in UNCHANGEABLE_STATES:
        raise RemediationError(f"InstanceArn {instance_arn} is {state}; nothing changed")
    changes: list[str] = []
    profile = _associated_profile(ec2, instance_id)
    if profile:
        role = _use_existing_profile(iam, profile, our_role, changes)
    else:
        profile = our_profile
        role = _use_solution_profile(ec2, iam, instance_id, our_profile, our_role, changes)
    if _ensure_policy(iam, role, policy_arn):
        changes.append(f"attached {SSM_POLICY} to role {role}")
    return {
        "InstanceId": instance_id,
        "InstanceProfile": profile,
        "Role": role,
        "Changes": "; ".join(changes) or "none",
        "Message": (
            f"Instance {instance_id} can now be managed by SSM: {'; '.join(changes)}."
            if changes
            else f"Instance {instance_id} already has {SSM_POLICY} through profile {profile}; nothing changed."
        ),
    }
