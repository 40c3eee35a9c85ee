"""ASR-DisablePublicIPAutoAssign: stop a subnet from giving public IPv4 addresses to new instances."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _describe_subnet(ec2: Any, subnet_arn: str, subnet_id: str) -> dict[str, Any]:
    try:
        return ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]
    except ClientError as err:
        if err.response["Error"]["Code"] in ("InvalidSubnetID.NotFound", "InvalidSubnetID.Malformed"):
            raise RemediationError(f"SubnetARN {subnet_arn}: no such subnet in this account and Region") from None
        raise


def disable_public_ip_auto_assign(event: dict[str, Any], _context: Any) -> dict[str, str]:
    subnet_arn = event["SubnetARN"]
    region, subnet_id = subnet_arn.split(":")[3], subnet_arn.rsplit("/", 1)[1]
    ec2 = boto3.client("ec2", config=BOTO_CONFIG)
    if region != ec2.meta.region_name:
        raise RemediationError(
            f"SubnetARN {subnet_arn} is in Region {region}, but this runs in {ec2.meta.region_name}; nothing changed"
        )
    before = _describe_subnet(ec2, subnet_arn, subnet_id)["MapPublicIpOnLaunch"]
    if before:
        ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": False})
    after = _describe_subnet(ec2, subnet_arn, subnet_id)["MapPublicIpOnLaunch"]
    if after:
        raise RemediationError(f"SubnetARN {subnet_arn}: MapPublicIpOnLaunch is still true after the change")
    return {
        "SubnetId": subnet_id,
        "MapPublicIpOnLaunchBefore": str(before).lower(),
        "MapPublicIpOnLaunchAfter": str(after).lower(),
        "Message": (
            "Auto-assign public IPv4 address turned off; existing instances keep their addresses."
            if before
            else "Auto-assign public IPv4 address was already off; nothing changed."
        ),
    }
