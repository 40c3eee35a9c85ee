"""ASR-RemoveVPCDefaultSecurityGroupRules: close the default security group of a VPC.

The rules are read back after the revoke; the EC2 API is eventually consistent ("Eventual
consistency in the Amazon EC2 API", EC2 API Reference:
https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html), so rules still listed are
read again a bounded number of times before the run fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
VERIFY_ATTEMPTS, VERIFY_INTERVAL_SECONDS = 6, 5


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _describe_group(ec2: Any, group_id: str) -> dict[str, Any]:
    try:
        return ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    except ClientError as err:
        if err.response["Error"]["Code"] in ("InvalidGroup.NotFound", "InvalidGroupId.Malformed"):
            raise RemediationError(f"GroupId {group_id}: no such security group in this account and Region") from None
        raise


def _rule_ids(ec2: Any, group_id: str) -> tuple[list[str], list[str]]:
    """(ingress rule ids, egress rule ids) of the group."""
    ingress: list[str] = []
    egress: list[str] = []
    pages = ec2.get_paginator("describe_security_group_rules").paginate(
        Filters=[{"Name": "group-id", "Values": [group_id]}]
    )
    for page in pages:
        for rule in page["SecurityGroupRules"]:
            if rule["GroupId"] == group_id:
                (egress if rule["IsEgress"] else ingress).append(rule["SecurityGroupRuleId"])
    return ingress, egress


def _left_after_revoke(ec2: Any, group_id: str, sleep: Callable[[float], None]) -> list[str]:
    left: list[str] = []
    for attempt in range(VERIFY_ATTEMPTS):
        left_in, left_out = _rule_ids(ec2, group_id)
        left = left_in + left_out
        if not left:
            return left
        if attempt < VERIFY_ATTEMPTS - 1:
            sleep(VERIFY_INTERVAL_SECONDS)
    return left


def remove_vpc_default_security_group_rules(
    event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, str]:
    group_id = event["GroupId"]
    ec2 = boto3.client("ec2", config=BOTO_CONFIG)
    group = _describe_group(ec2, group_id)
    if group.get("GroupName") != "default" or not group.get("VpcId"):
        raise RemediationError(
            f"GroupId {group_id} is security group '{group.get('GroupName')}', not the default "
            "security group of a VPC; refusing to remove its rules, nothing changed"
        )
    ingress, egress = _rule_ids(ec2, group_id)
    if ingress:
        ec2.revoke_security_group_ingress(GroupId=group_id, SecurityGroupRuleIds=ingress)
    if egress:
        ec2.revoke_security_group_egress(GroupId=group_id, SecurityGroupRuleIds=egress)
    left = _left_after_revoke(ec2, group_id, sleep) if ingress or egress else []
    if left:
        raise RemediationError(
            f"GroupId {group_id}: rules {', '.join(left)} are still present "
            f"{VERIFY_ATTEMPTS * VERIFY_INTERVAL_SECONDS} s after revoking them"
        )
    changed = bool(ingress or egress)
    return {
        "GroupId": group_id,
        "VpcId": group["VpcId"],
        "RevokedIngressRules": ", ".join(ingress) or "none",
        "RevokedEgressRules": ", ".join(egress) or "none",
        "Message": (
            f"Revoked {len(ingress)} inbound and {len(egress)} outbound rule(s); the default security group is closed."
            if changed
            else "The default security group has no rules; nothing changed."
        ),
    }
