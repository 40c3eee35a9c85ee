"""ASR-EnableAthenaWorkGroupLogging: publish an Athena workgroup's query metrics to CloudWatch."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _publishing(athena: Any, name: str) -> bool:
    try:
        group = athena.get_work_group(WorkGroup=name)["WorkGroup"]
    except athena.exceptions.InvalidRequestException:
        raise RemediationError(f"WorkGroupName {name}: no such Athena workgroup in this account and Region") from None
    return bool(group.get("Configuration", {}).get("PublishCloudWatchMetricsEnabled", False))


def enable_workgroup_logging(event: dict[str, Any], _context: Any) -> dict[str, str]:
    name = event["WorkGroupName"]
    athena = boto3.client("athena", config=BOTO_CONFIG)
    before = _publishing(athena, name)
    if not before:
        athena.update_work_group(WorkGroup=name, ConfigurationUpdates={"PublishCloudWatchMetricsEnabled": True})
    after = _publishing(athena, name)
    if not after:
        raise RemediationError(f"WorkGroupName {name}: CloudWatch metrics are still off after UpdateWorkGroup")
    return {
        "WorkGroupName": name,
        "PublishCloudWatchMetricsBefore": str(before).lower(),
        "PublishCloudWatchMetricsAfter": str(after).lower(),
        "Message": "CloudWatch metrics publishing enabled."
        if not before
        else "CloudWatch metrics publishing was already enabled; nothing changed.",
    }
