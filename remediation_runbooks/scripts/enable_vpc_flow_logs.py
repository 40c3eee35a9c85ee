"""ASR-EnableVPCFlowLogs: log a VPC's rejected traffic to CloudWatch Logs group VPCFlowLogs/<vpc-id>."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError

from remediation_runbooks.scripts._member_key import (  # %%INLINE%%
    BOTO_CONFIG,
    KEY_PARAMETER,  # noqa: F401 -- the tests read it
    RemediationError,
    configured_key,
)

TRAFFIC_TYPE = "REJECT"
LIVE_STATES = ("ACTIVE",)


def log_group_name(vpc_id: str) -> str:
    return f"VPCFlowLogs/{vpc_id}"


def _check_vpc(ec2: Any, vpc_id: str) -> None:
    try:
        ec2.describe_vpcs(VpcIds=[vpc_id])
    except ClientError as err:
        if err.response["Error"]["Code"] in ("InvalidVpcID.NotFound", "InvalidVpcID.Malformed"):
            raise RemediationError(f"VPC {vpc_id}: no such VPC in this account and Region") from None
        raise


def _existing_flow_log(ec2: Any, vpc_id: str, group: str) -> str | None:
    """Id of a live flow log of this VPC that already sends REJECT traffic to ``group``."""
    flow_logs = ec2.describe_flow_logs(
        Filters=[
            {"Name": "resource-id", "Values": [vpc_id]},
            {"Name": "log-group-name", "Values": [group]},
        ]
    )["FlowLogs"]
    for flow_log in flow_logs:
        if flow_log.get("TrafficType") == TRAFFIC_TYPE and flow_log.get("FlowLogStatus") in LIVE_STATES:
            return flow_log["FlowLogId"]
    return None


def _find_log_group(logs: Any, group: str) -> dict[str, Any] | None:
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=group):
        for found in page["logGroups"]:
            if found["logGroupName"] == group:
                return found
    return None


#: Days a log group this remediation creates keeps its events. CloudWatch Logs keeps events forever by
#: default, which CloudWatch.16 reports (its Config rule cw-loggroup-retention-period-check wants at least
#: 365 days: https://docs.aws.amazon.com/config/latest/developerguide/cw-loggroup-retention-period-check.html).
RETENTION_DAYS = 365


def _keep_for_a_year(logs: Any, group: str) -> None:
    """Give a log group we created a retention CloudWatch.16 accepts (issue 13, defect 21)."""
    logs.put_retention_policy(logGroupName=group, retentionInDays=RETENTION_DAYS)
    found = _find_log_group(logs, group) or {}
    if found.get("retentionInDays") != RETENTION_DAYS:
        raise RemediationError(
            f"LogGroupName {group}: retention reads {found.get('retentionInDays')} after PutRetentionPolicy, "
            f"expected {RETENTION_DAYS}"
        )


def _ensure_log_group(logs: Any, group: str, kms_key_arn: str) -> tuple[bool, str]:
    """(created?, KMS key of the group). An existing group is left exactly as it is."""
    existing = _find_log_group(logs, group)
    if existing:
        return False, existing.get("kmsKeyId", "none")
    if not kms_key_arn:
        # RemediationKeyMode None: CloudWatch Logs encrypts log data at rest anyway, with a key it owns
        # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html); EC2.6 asks only
        # for the flow log.
        logs.create_log_group(logGroupName=group)
        _keep_for_a_year(logs, group)
        return True, "none (CloudWatch Logs default encryption)"
    if ":alias/" in kms_key_arn:
        # CloudWatch Logs takes a key ARN, not an alias: resolve it.
        kms = boto3.client("kms", config=BOTO_CONFIG)
        try:
            kms_key_arn = kms.describe_key(KeyId=kms_key_arn)["KeyMetadata"]["Arn"]
        except kms.exceptions.NotFoundException:
            raise RemediationError(f"KMSKeyArn {kms_key_arn}: no such KMS key") from None
    try:
        logs.create_log_group(logGroupName=group, kmsKeyId=kms_key_arn)
    except ClientError as err:
        code = err.response["Error"]["Code"]
        if code == "ResourceAlreadyExistsException":
            return False, (_find_log_group(logs, group) or {}).get("kmsKeyId", "none")
        if code in ("InvalidParameterException", "AccessDeniedException"):
            raise RemediationError(
                f"KMSKeyArn {kms_key_arn}: CloudWatch Logs cannot encrypt log group {group} with this key "
                f"({err.response['Error'].get('Message', code)})"
            ) from None
        raise
    _keep_for_a_year(logs, group)
    return True, kms_key_arn


def enable_vpc_flow_logs(event: dict[str, Any], _context: Any) -> dict[str, str]:
    vpc_id = event["VPC"]
    role_arn = event["RemediationRole"]
    kms_key_arn = configured_key(event.get("KMSKeyArn", ""))
    group = log_group_name(vpc_id)
    ec2 = boto3.client("ec2", config=BOTO_CONFIG)
    logs = boto3.client("logs", config=BOTO_CONFIG)
    _check_vpc(ec2, vpc_id)
    created, group_key = _ensure_log_group(logs, group, kms_key_arn)
    flow_log_id = _existing_flow_log(ec2, vpc_id, group)
    if flow_log_id is None:
        response = ec2.create_flow_logs(
            ResourceIds=[vpc_id],
            ResourceType="VPC",
            TrafficType=TRAFFIC_TYPE,
            LogDestinationType="cloud-watch-logs",
            LogGroupName=group,
            DeliverLogsPermissionArn=role_arn,
        )
        if response.get("Unsuccessful") or not response.get("FlowLogIds"):
            errors = "; ".join(u["Error"]["Message"] for u in response.get("Unsuccessful", [])) or "no flow log id"
            raise RemediationError(f"VPC {vpc_id}: CreateFlowLogs failed ({errors})")
        new = True
        flow_log_id = response["FlowLogIds"][0]
    else:
        new = False
    return {
        "VpcId": vpc_id,
        "FlowLogId": flow_log_id,
        "LogGroupName": group,
        "LogGroupCreated": str(created).lower(),
        "LogGroupKmsKeyId": group_key,
        "FlowLogCreated": str(new).lower(),
        "Message": (
            f"Flow log {flow_log_id} now sends rejected traffic of {vpc_id} to {group}."
            if new
            else f"Flow log {flow_log_id} already sends rejected traffic of {vpc_id} to {group}; nothing changed."
        ),
    }
