"""ASR-EnableDynamoDBDeletionProtection: turn on deletion protection of one DynamoDB table."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def describe_table(dynamodb: Any, table_arn: str) -> dict[str, Any]:
    """The table named by ``table_arn``, refusing a table of another account or Region."""
    name = table_arn.split(":table/", 1)[-1]
    try:
        table = dynamodb.describe_table(TableName=name)["Table"]
    except dynamodb.exceptions.ResourceNotFoundException:
        raise RemediationError(f"ResourceArn {table_arn}: no such DynamoDB table in this account and Region") from None
    if table["TableArn"] != table_arn:
        raise RemediationError(
            f"ResourceArn {table_arn}: not in this account and Region (the table here is {table['TableArn']})"
        )
    if table["TableStatus"] != "ACTIVE":
        raise RemediationError(f"ResourceArn {table_arn}: table is {table['TableStatus']}; retry when it is ACTIVE")
    return table


def enable_deletion_protection(event: dict[str, Any], _context: Any) -> dict[str, str]:
    table_arn = event["ResourceArn"]
    dynamodb = boto3.client("dynamodb", config=BOTO_CONFIG)
    table = describe_table(dynamodb, table_arn)
    before = bool(table.get("DeletionProtectionEnabled", False))
    if not before:
        dynamodb.update_table(TableName=table["TableName"], DeletionProtectionEnabled=True)
    after = bool(dynamodb.describe_table(TableName=table["TableName"])["Table"].get("DeletionProtectionEnabled"))
    if not after:
        raise RemediationError(f"ResourceArn {table_arn}: deletion protection is still off after UpdateTable")
    return {
        "TableArn": table_arn,
        "DeletionProtectionBefore": str(before).lower(),
        "DeletionProtectionAfter": str(after).lower(),
        "Message": "Deletion protection enabled."
        if not before
        else "Deletion protection was already enabled; nothing changed.",
    }
