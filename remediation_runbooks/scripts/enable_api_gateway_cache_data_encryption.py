"""ASR-EnableAPIGatewayCacheDataEncryption: encrypt the cache data of every method of one REST API stage."""

from __future__ import annotations

import re
from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
# ASCII only and used with fullmatch: a Unicode digit ("\u0661") or a trailing newline is refused. Stage
# names: "alphanumeric characters, hyphens, and underscores", up to 128
# (https://docs.aws.amazon.com/apigateway/latest/api/API_CreateStage.html).
STAGE_ARN = re.compile(
    r"arn:[a-z-]+:apigateway:[a-z0-9-]+::/restapis/(?P<api>[A-Za-z0-9]+)/stages/(?P<stage>[A-Za-z0-9_-]{1,128})",
    re.ASCII,
)
ALL_METHODS = "*/*"


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _stage(apigateway: Any, arn: str, api: str, stage: str) -> dict[str, Any]:
    try:
        return apigateway.get_stage(restApiId=api, stageName=stage)
    except apigateway.exceptions.NotFoundException:
        raise RemediationError(f"APIGatewayStageArn {arn}: no such REST API stage in this account and Region") from None


def unencrypted(stage: dict[str, Any]) -> list[str]:
    """Method-setting keys (``*/*`` first) whose cache data is not encrypted."""
    settings = stage.get("methodSettings") or {}
    keys = [ALL_METHODS] if not settings.get(ALL_METHODS, {}).get("cacheDataEncrypted") else []
    return keys + sorted(k for k, v in settings.items() if k != ALL_METHODS and not v.get("cacheDataEncrypted"))


def enable_cache_encryption(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    arn = event["APIGatewayStageArn"]
    match = STAGE_ARN.fullmatch(arn)
    if not match:
        raise RemediationError(f"APIGatewayStageArn {arn}: not a REST API stage ARN")
    api, name = match["api"], match["stage"]
    apigateway = boto3.client("apigateway", config=BOTO_CONFIG)
    keys = unencrypted(_stage(apigateway, arn, api, name))
    if keys:
        apigateway.update_stage(
            restApiId=api,
            stageName=name,
            patchOperations=[
                {"op": "replace", "path": f"/{key}/caching/dataEncrypted", "value": "true"} for key in keys
            ],
        )
    left = unencrypted(_stage(apigateway, arn, api, name))
    if left:
        raise RemediationError(f"APIGatewayStageArn {arn}: method settings {left} are still unencrypted")
    return {
        "RestApiId": api,
        "StageName": name,
        "EncryptedMethodSettings": keys,
        "Message": f"Cache data encryption turned on for {keys}."
        if keys
        else "Cache data was already encrypted for every method; nothing changed.",
    }
