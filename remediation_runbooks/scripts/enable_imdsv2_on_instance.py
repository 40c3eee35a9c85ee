"""ASR-EnableIMDSV2OnInstance: require IMDSv2 session tokens on one EC2 instance."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
UNCHANGEABLE_STATES = ("shutting-down", "terminated")


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _describe_instance(ec2: Any, instance_arn: str, instance_id: str) -> dict[str, Any]:
    try:
        reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    except ClientError as err:
        if err.response["Error"]["Code"] in ("InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"):
            reservations = []
        else:
            raise
    if not reservations or not reservations[0]["Instances"]:
        raise RemediationError(f"InstanceARN {instance_arn}: no such instance in this account and Region")
    return reservations[0]["Instances"][0]


def enable_imdsv2_on_instance(event: dict[str, Any], _context: Any) -> dict[str, str]:
    instance_arn = event["InstanceARN"]
    region, instance_id = instance_arn.split(":")[3], instance_arn.rsplit("/", 1)[1]
    ec2 = boto3.client("ec2", config=BOTO_CONFIG)
    if region != ec2.meta.region_name:
        raise RemediationError(
            f"InstanceARN {instance_arn} is in Region {region}, but this runs in "
            f"{ec2.meta.region_name}; nothing changed"
        )
    instance = _describe_instance(ec2, instance_arn, instance_id)
    state = instance["State"]["Name"]
    if state in UNCHANGEABLE_STATES:
        raise RemediationError(f"InstanceARN {instance_arn} is {state}; its metadata options cannot be changed")
    before = instance.get("MetadataOptions", {}).get("HttpTokens", "optional")
    if before != "required":
        ec2.modify_instance_metadata_options(InstanceId=instance_id, HttpTokens="required")
    after = _describe_instance(ec2, instance_arn, instance_id).get("MetadataOptions", {}).get("HttpTokens")
    if after != "required":
        raise RemediationError(f"InstanceARN {instance_arn}: HttpTokens is {after} after requiring IMDSv2")
    return {
        "InstanceId": instance_id,
        "HttpTokensBefore": before,
        "HttpTokensAfter": after,
        "Message": (
            "IMDSv2 is now required: metadata requests without a session token are refused."
            if before != "required"
            else "IMDSv2 was already required; nothing changed."
        ),
    }
