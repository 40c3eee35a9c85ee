"""ASR-DisableTGWAutoAcceptSharedAttachments: make a transit gateway stop auto-accepting shared attachments."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


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


def disable_tgw_auto_accept_shared_attachments(event: dict[str, Any], _context: Any) -> dict[str, str]:
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
    after = _describe_tgw(ec2, tgw_id)["Options"]["AutoAcceptSharedAttachments"]
    if after != "disable":
        raise RemediationError(f"TransitGatewayId {tgw_id}: AutoAcceptSharedAttachments is {after} after the change")
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
