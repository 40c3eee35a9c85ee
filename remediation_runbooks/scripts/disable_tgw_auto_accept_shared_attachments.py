"""ASR-DisableTGWAutoAcceptSharedAttachments: make a transit gateway stop auto-accepting shared attachments.

ModifyTransitGateway returns while the gateway is 'modifying', and DescribeTransitGateways is
eventually consistent ("Eventual consistency in the Amazon EC2 API", EC2 API Reference:
https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html): the setting is read back
a bounded number of times before the run fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
VERIFY_ATTEMPTS, VERIFY_INTERVAL_SECONDS = 12, 5


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _describe_tgw(ec2: Any, tgw_id: str) -> dict[str, Any]:
    try:
        gateways = ec2.describe_transit_gateways(TransitGatewayIds=[tgw_id])["TransitGateways"]
    except ClientError as err:
        if err.response["Error"]["Code"] in ("InvalidTransitGatewayID.NotFound", "InvalidTransitGatewayID.Malformed"):
            gateways = []
        else:
            raise
    gateways = [g for g in gateways if g["TransitGatewayId"] == tgw_id and g["State"] != "deleted"]
    if not gateways:
        raise RemediationError(f"TransitGatewayId {tgw_id}: no such transit gateway in this account and Region")
    return gateways[0]


def _after(ec2: Any, tgw_id: str, sleep: Callable[[float], None]) -> str:
    """AutoAcceptSharedAttachments once it reads 'disable' on an available gateway (or the last value read)."""
    value = ""
    for attempt in range(VERIFY_ATTEMPTS):
        tgw = _describe_tgw(ec2, tgw_id)
        value = tgw["Options"]["AutoAcceptSharedAttachments"]
        if value == "disable" and tgw["State"] == "available":
            return value
        if attempt < VERIFY_ATTEMPTS - 1:
            sleep(VERIFY_INTERVAL_SECONDS)
    return value if value != "disable" else f"disable (gateway still {tgw['State']})"


def disable_tgw_auto_accept_shared_attachments(
    event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, str]:
    tgw_id = event["TransitGatewayId"]
    ec2 = boto3.client("ec2", config=BOTO_CONFIG)
    tgw = _describe_tgw(ec2, tgw_id)
    before = tgw["Options"]["AutoAcceptSharedAttachments"]
    if before != "disable":
        if tgw["State"] != "available":
            raise RemediationError(
                f"TransitGatewayId {tgw_id} is {tgw['State']}; it can only be changed when available"
            )
        ec2.modify_transit_gateway(TransitGatewayId=tgw_id, Options={"AutoAcceptSharedAttachments": "disable"})
    after = _after(ec2, tgw_id, sleep) if before != "disable" else before
    if after != "disable":
        raise RemediationError(
            f"TransitGatewayId {tgw_id}: AutoAcceptSharedAttachments is {after} "
            f"{VERIFY_ATTEMPTS * VERIFY_INTERVAL_SECONDS} s after the change"
        )
    return {
        "TransitGatewayId": tgw_id,
        "AutoAcceptSharedAttachmentsBefore": before,
        "AutoAcceptSharedAttachmentsAfter": after,
        "Message": (
            "Auto-accept of shared attachments turned off; existing attachments are unchanged."
            if before != "disable"
            else "Auto-accept of shared attachments was already off; nothing changed."
        ),
    }
