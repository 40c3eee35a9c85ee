"""ASR-EnableGuardDuty: create a GuardDuty detector, or turn the existing one back on."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
# Protection plans of a new detector (the reference's S3 logs and Kubernetes audit logs).
NEW_DETECTOR_FEATURES = [
    {"Name": "S3_DATA_EVENTS", "Status": "ENABLED"},
    {"Name": "EKS_AUDIT_LOGS", "Status": "ENABLED"},
]


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _detector_ids(guardduty: Any) -> list[str]:
    ids: list[str] = []
    for page in guardduty.get_paginator("list_detectors").paginate():
        ids.extend(page["DetectorIds"])
    return ids


def enable_guardduty(event: dict[str, Any], _context: Any) -> dict[str, str]:
    account, region, partition = event["AccountId"], event["Region"], event["Partition"]
    guardduty = boto3.client("guardduty", config=BOTO_CONFIG)
    ids = _detector_ids(guardduty)
    if not ids:
        detector_id = guardduty.create_detector(Enable=True, Features=NEW_DETECTOR_FEATURES)["DetectorId"]
        before, message = "NONE", f"Created detector {detector_id} with S3 and EKS audit log protection."
    else:
        detector_id = ids[0]  # GuardDuty allows one detector per account and Region
        before = guardduty.get_detector(DetectorId=detector_id)["Status"]
        if before == "ENABLED":
            message = f"Detector {detector_id} was already enabled; nothing changed."
        else:
            guardduty.update_detector(DetectorId=detector_id, Enable=True)
            message = f"Enabled detector {detector_id}; its protection plans and settings are unchanged."
    after = guardduty.get_detector(DetectorId=detector_id)["Status"]
    if after != "ENABLED":
        raise RemediationError(f"Detector {detector_id} is {after} after the change, expected ENABLED")
    return {
        "DetectorId": detector_id,
        "ResourceArn": f"arn:{partition}:guardduty:{region}:{account}:detector/{detector_id}",
        "StatusBefore": before,
        "StatusAfter": after,
        "Message": message,
    }
