"""ASR-EnableMacie: enable Amazon Macie in the account and Region, or resume it if paused."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
PUBLISHING_FREQUENCY = "SIX_HOURS"


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _status(macie: Any) -> str:
    """ENABLED, PAUSED or NOT_ENABLED."""
    try:
        return macie.get_macie_session()["status"]
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        message = err.response.get("Error", {}).get("Message", "")
        # Real Macie answers AccessDeniedException "Macie is not enabled"; moto ResourceNotFound.
        if code == "ResourceNotFoundException" or (
            code == "AccessDeniedException" and "not enabled" in message.lower()
        ):
            return "NOT_ENABLED"
        raise


def enable_macie(_event: dict[str, Any], _context: Any) -> dict[str, str]:
    macie = boto3.client("macie2", config=BOTO_CONFIG)
    before = _status(macie)
    if before == "NOT_ENABLED":
        try:
            macie.enable_macie(findingPublishingFrequency=PUBLISHING_FREQUENCY, status="ENABLED")
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "ConflictException":  # enabled meanwhile
                raise
    elif before == "PAUSED":
        macie.update_macie_session(status="ENABLED")
    after = _status(macie)
    if after != "ENABLED":
        raise RemediationError(f"Macie status is {after} after the change, expected ENABLED")
    messages = {
        "NOT_ENABLED": "Macie enabled (findings published every six hours); no discovery job was created.",
        "PAUSED": "Macie was paused; it is resumed with its existing settings.",
    }
    return {
        "StatusBefore": before,
        "StatusAfter": after,
        "Message": messages.get(before, "Macie was already enabled; nothing changed."),
    }
