"""ASR-BlockSSMDocumentPublicAccess: stop sharing one SSM document with everyone."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
PUBLIC = "all"


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def parse_document_arn(arn: str, account: str, region: str) -> str:
    """Document name from its ARN, which must be in this account and Region."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("document/"):
        raise RemediationError(f"DocumentArn {arn}: not an SSM document ARN")
    if (parts[3], parts[4]) != (region, account):
        raise RemediationError(
            f"DocumentArn {arn}: the document is in {parts[4]}/{parts[3]}, this runs in {account}/{region}; "
            "it only changes documents of its own account and Region"
        )
    return parts[5].removeprefix("document/")


def _shared_with(ssm: Any, arn: str, name: str) -> list[str]:
    try:
        return ssm.describe_document_permission(Name=name, PermissionType="Share").get("AccountIds", [])
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("InvalidDocument", "InvalidDocumentOperation"):
            raise RemediationError(f"DocumentArn {arn}: no such document owned by this account") from None
        raise


def block_public_access(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    arn = event["DocumentArn"]
    name = parse_document_arn(arn, event["AccountId"], event["Region"])
    ssm = boto3.client("ssm", config=BOTO_CONFIG)
    before = _shared_with(ssm, arn, name)
    if PUBLIC in before:
        ssm.modify_document_permission(Name=name, PermissionType="Share", AccountIdsToRemove=[PUBLIC])
    after = _shared_with(ssm, arn, name)
    if PUBLIC in after:
        raise RemediationError(f"DocumentArn {arn}: the document is still shared with everyone after the change")
    accounts = ", ".join(after) or "no account"
    return {
        "DocumentArn": arn,
        "SharedWithBefore": before,
        "SharedWithAfter": after,
        "Message": (
            f"Document {name} is no longer public; still shared with {accounts}."
            if PUBLIC in before
            else f"Document {name} was not public; nothing changed."
        ),
    }
