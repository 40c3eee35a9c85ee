"""ASR-TagDynamoDBTableResource: add the required tag keys a DynamoDB table lacks."""

from __future__ import annotations

import re
from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
DEFAULT_TAG_KEY = "SO0111-ASR-DynamoDBTable"
MAX_TAGS = 50
TAG_KEY = re.compile(r"^(?![aA][wW][sS]:)[\w .:/=+@-]{1,128}$")


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def required_keys(raw: Any) -> list[str]:
    """The tag keys asked for, in order, without blanks or duplicates; the default key if none."""
    if isinstance(raw, str):
        raw = raw.split(",")
    keys = list(dict.fromkeys(str(k).strip() for k in raw or () if str(k).strip()))
    for key in keys:
        if not TAG_KEY.match(key):
            raise RemediationError(
                f"RequiredTagKeys {key!r}: not a valid tag key (1-128 characters, not starting with aws:)"
            )
    return keys or [DEFAULT_TAG_KEY]


def current_tags(dynamodb: Any, table_arn: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    kwargs: dict[str, str] = {"ResourceArn": table_arn}
    while True:
        try:
            page = dynamodb.list_tags_of_resource(**kwargs)
        except dynamodb.exceptions.ResourceNotFoundException:
            raise RemediationError(
                f"ResourceArn {table_arn}: no such DynamoDB table in this account and Region"
            ) from None
        tags.update({t["Key"]: t["Value"] for t in page.get("Tags", [])})
        if not page.get("NextToken"):
            return tags
        kwargs["NextToken"] = page["NextToken"]


def tag_table(event: dict[str, Any], _context: Any) -> dict[str, str]:
    table_arn = event["ResourceArn"]
    keys = required_keys(event.get("RequiredTagKeys"))
    dynamodb = boto3.client("dynamodb", config=BOTO_CONFIG)
    before = current_tags(dynamodb, table_arn)
    missing = [k for k in keys if k not in before]
    if len(before) + len(missing) > MAX_TAGS:
        raise RemediationError(
            f"ResourceArn {table_arn}: has {len(before)} tags; adding {len(missing)} would exceed {MAX_TAGS}"
        )
    if missing:
        dynamodb.tag_resource(ResourceArn=table_arn, Tags=[{"Key": k, "Value": ""} for k in missing])
    after = current_tags(dynamodb, table_arn)
    still_missing = [k for k in keys if k not in after]
    if still_missing:
        raise RemediationError(f"ResourceArn {table_arn}: tag keys {still_missing} still missing after TagResource")
    return {
        "TableArn": table_arn,
        "AddedTagKeys": ",".join(missing),
        "Message": f"Added tag keys {', '.join(missing)} with empty values."
        if missing
        else "Every required tag key was already present; nothing changed.",
    }
