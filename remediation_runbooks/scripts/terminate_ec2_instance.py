"""ASR-TerminateEC2Instance: terminate one EC2 instance that has been stopped for more than AllowedDays.

Two handlers, one per document step:

1. ``check_and_preserve``: the instance must still be stopped, for more than ``AllowedDays`` days
   (Security Hub EC2.4, Config rule ec2-stopped-instance, parameter AllowedDays, default 30),
   and not protected from termination; when ``CreateRecoveryImage`` is true, an AMI of it (its
   EBS snapshots) is created first, so it can be launched again.
2. ``terminate``: checks the same again, immediately before TerminateInstances.

The stop time is read from ``StateTransitionReason`` ("User initiated (YYYY-MM-DD HH:MM:SS GMT)",
DescribeInstances in the EC2 API Reference); an instance whose stop time cannot be read is
refused, never terminated on a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
STOPPED_AT = re.compile(r"\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?:GMT|UTC)\)")
RECOVERY_PREFIX = "ASR-EC2.4-"  # recovery images are named ASR-EC2.4-<instance id>-<UTC time>
GONE = ("terminated", "shutting-down")


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _now() -> datetime:
    return datetime.now(UTC)


def _instance(ec2: Any, instance_id: str) -> dict[str, Any]:
    try:
        reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    except ClientError as err:
        if err.response["Error"]["Code"] in ("InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"):
            reservations = []
        else:
            raise
    instances = [i for r in reservations for i in r["Instances"] if i["InstanceId"] == instance_id]
    if not instances:
        raise RemediationError(f"InstanceId {instance_id}: no such instance in this account and Region")
    return instances[0]


def _allowed_days(event: dict[str, Any]) -> int:
    value = event.get("AllowedDays")
    try:
        days = int(str(value).strip())
    except ValueError:
        raise RemediationError(f"AllowedDays {value!r} is not a whole number of days; nothing changed") from None
    if days < 1:
        raise RemediationError(f"AllowedDays {value!r} must be at least 1; nothing changed")
    return days


def stopped_days(instance: dict[str, Any], now: Callable[[], datetime] = _now) -> float:
    """Days since the instance stopped, from its StateTransitionReason."""
    reason = instance.get("StateTransitionReason") or ""
    match = STOPPED_AT.search(reason)
    if not match:
        raise RemediationError(
            f"InstanceId {instance['InstanceId']}: cannot tell when it stopped (StateTransitionReason {reason!r}); "
            "nothing changed"
        )
    stopped_at = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    return (now() - stopped_at).total_seconds() / 86400


def _guard(ec2: Any, instance_id: str, allowed: int) -> tuple[dict[str, Any], float]:
    """The instance, if it may be terminated now: stopped for more than ``allowed`` days, not protected."""
    instance = _instance(ec2, instance_id)
    state = instance["State"]["Name"]
    if state != "stopped":
        raise RemediationError(
            f"InstanceId {instance_id} is {state}, not stopped; it is not terminated (nothing changed)"
        )
    days = stopped_days(instance)
    if days <= allowed:
        raise RemediationError(
            f"InstanceId {instance_id} has been stopped for {days:.1f} days, not more than AllowedDays {allowed}; "
            "it is not terminated (nothing changed)"
        )
    protected = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="disableApiTermination")
    if (protected.get("DisableApiTermination") or {}).get("Value"):
        raise RemediationError(
            f"InstanceId {instance_id} has termination protection (DisableApiTermination) on; turn it off to "
            "let it be terminated. Nothing changed."
        )
    return instance, days


def _recovery_image(ec2: Any, instance_id: str) -> str:
    """An image this runbook made of the instance earlier (a run that stopped before terminating)."""
    images = ec2.describe_images(
        Owners=["self"], Filters=[{"Name": "name", "Values": [f"{RECOVERY_PREFIX}{instance_id}-*"]}]
    )["Images"]
    usable = sorted(
        (i for i in images if i.get("State") not in ("failed", "deregistered", "error", "invalid")),
        key=lambda i: i.get("CreationDate", ""),
    )
    return usable[-1]["ImageId"] if usable else ""


def check_and_preserve(event: dict[str, Any], _context: Any) -> dict[str, str]:
    instance_id = event["InstanceId"]
    allowed = _allowed_days(event)
    keep = str(event.get("CreateRecoveryImage", True)).lower() == "true"
    ec2 = boto3.client("ec2", config=BOTO_CONFIG)
    if _instance(ec2, instance_id)["State"]["Name"] in GONE:
        return {"InstanceId": instance_id, "Status": "terminated", "ImageId": "",
                "Message": "The instance is already terminated; nothing changed."}  # fmt: skip
    _, days = _guard(ec2, instance_id, allowed)
    image = ""
    if keep:
        image = _recovery_image(ec2, instance_id)
        if not image:
            stamp = _now().strftime("%Y%m%dT%H%M%SZ")
            image = ec2.create_image(
                InstanceId=instance_id,
                Name=f"{RECOVERY_PREFIX}{instance_id}-{stamp}",
                Description=f"Recovery image of {instance_id}, stopped {days:.0f} days, made before ASR terminated it",
                NoReboot=True,
            )["ImageId"]
    return {
        "InstanceId": instance_id,
        "Status": "stopped",
        "StoppedDays": f"{days:.1f}",
        "ImageId": image,
        "Message": (
            f"Stopped for {days:.1f} days (more than {allowed}); "
            + (f"recovery image {image} kept." if image else "no recovery image (CreateRecoveryImage is false).")
        ),
    }


def terminate(event: dict[str, Any], _context: Any) -> dict[str, str]:
    instance_id = event["InstanceId"]
    allowed = _allowed_days(event)
    ec2 = boto3.client("ec2", config=BOTO_CONFIG)
    if _instance(ec2, instance_id)["State"]["Name"] in GONE:
        return {"InstanceId": instance_id, "Message": "The instance is already terminated; nothing changed."}
    _guard(ec2, instance_id, allowed)  # again: it may have been started since the first step
    ec2.terminate_instances(InstanceIds=[instance_id])
    image = event.get("ImageId") or ""
    return {
        "InstanceId": instance_id,
        "ImageId": image,
        "Message": f"Terminated {instance_id}"
        + (f"; launch recovery image {image} to bring it back." if image else "; no recovery image was kept."),
    }
