"""ASR-EnableAPIGatewayExecutionLogs: execution logging for a REST or WebSocket API stage.

``LoggingLevel`` is one level (INFO or ERROR) or, as Security Hub APIGateway.1's ``loggingLevel``
parameter takes it, a comma-separated list of accepted levels (default "ERROR,INFO": either level
passes; https://docs.aws.amazon.com/securityhub/latest/userguide/apigateway-controls.html#apigateway-1).
A setting already at an accepted level is kept; any other gets INFO when INFO is accepted, else ERROR.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
STAGE_SUFFIX = re.compile(  # used with fullmatch: a trailing newline is refused
    r"/(?P<kind>restapis|apis)/(?P<api>[a-z0-9]{10})/stages/(?P<stage>[A-Za-z0-9_-]{1,128}|\$default)", re.ASCII
)  # $default is an HTTP API stage name (refused below as HTTP); a REST stage cannot be named so
LEVELS = ("INFO", "ERROR")  # in order of preference for settings that must change
ALL_METHODS = "*/*"
DEFAULT_ROUTE = "DefaultRouteSettings"


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def parse_suffix(suffix: str) -> tuple[str, str, str]:
    """(``restapis`` or ``apis``, API id, stage name) of an ARN suffix."""
    match = STAGE_SUFFIX.fullmatch(suffix)
    if not match:
        raise RemediationError(
            f"APIGatewayStageArnSuffix {suffix}: not /restapis/<api-id>/stages/<stage> or /apis/<api-id>/stages/<stage>"
        )
    return match["kind"], match["api"], match["stage"]


def require_cloudwatch_role(apigateway: Any, suffix: str) -> str:
    """The account's API Gateway CloudWatch Logs role; refuse when there is none (no log could be written)."""
    role = apigateway.get_account().get("cloudwatchRoleArn") or ""
    if not role:
        raise RemediationError(
            f"APIGatewayStageArnSuffix {suffix}: API Gateway has no CloudWatch Logs role in this account and "
            "Region (account setting cloudwatchRoleArn is empty), so it cannot write execution logs; nothing "
            "changed. Configure it first: an IAM role trusted by apigateway.amazonaws.com with the "
            "AmazonAPIGatewayPushToCloudWatchLogs managed policy, set with `aws apigateway update-account "
            "--patch-operations op=replace,path=/cloudwatchRoleArn,value=<role ARN>`; then run this again."
        )
    return role


# REST APIs (apigateway): methodSettings["*/*"] is the stage-wide setting, other keys are per-method overrides.


def rest_stage(apigateway: Any, suffix: str, api: str, stage: str) -> dict[str, Any]:
    try:
        return apigateway.get_stage(restApiId=api, stageName=stage)
    except apigateway.exceptions.NotFoundException:
        raise RemediationError(
            f"APIGatewayStageArnSuffix {suffix}: no such REST API stage in this account and Region"
        ) from None


def accepted_levels(value: str | Iterable[str]) -> tuple[str, ...]:
    """The accepted levels of ``LoggingLevel`` ("INFO", "ERROR,INFO" ...), in order of preference."""
    items = value.split(",") if isinstance(value, str) else list(value)
    levels = {str(item).strip() for item in items}
    if not levels or not levels <= set(LEVELS):
        raise RemediationError(f"LoggingLevel {value}: must be INFO, ERROR or a comma-separated list of them")
    return tuple(level for level in LEVELS if level in levels)


def rest_settings_to_change(stage: dict[str, Any], level: str | Iterable[str]) -> list[str]:
    """Method-setting keys (``*/*`` first) whose logging level is not an accepted one (missing means OFF)."""
    accepted = accepted_levels(level)
    settings = stage.get("methodSettings") or {}
    keys = [ALL_METHODS] if settings.get(ALL_METHODS, {}).get("loggingLevel") not in accepted else []
    return keys + sorted(k for k, v in settings.items() if k != ALL_METHODS and v.get("loggingLevel") not in accepted)


def set_rest_logging(apigateway: Any, suffix: str, api: str, stage: str, accepted: tuple[str, ...]) -> list[str]:
    level = accepted[0]
    keys = rest_settings_to_change(rest_stage(apigateway, suffix, api, stage), accepted)
    if keys:
        require_cloudwatch_role(apigateway, suffix)
        apigateway.update_stage(
            restApiId=api,
            stageName=stage,
            patchOperations=[{"op": "replace", "path": f"/{key}/logging/loglevel", "value": level} for key in keys],
        )
    left = rest_settings_to_change(rest_stage(apigateway, suffix, api, stage), accepted)
    if left:
        raise RemediationError(
            f"APIGatewayStageArnSuffix {suffix}: method settings {left} are still not at {' or '.join(accepted)}"
        )
    return keys


# WebSocket APIs (apigatewayv2): DefaultRouteSettings is the stage-wide setting, RouteSettings the per-route ones.


def websocket_stage(apigatewayv2: Any, suffix: str, api: str, stage: str) -> dict[str, Any]:
    try:
        protocol = apigatewayv2.get_api(ApiId=api).get("ProtocolType")
        if protocol != "WEBSOCKET":
            raise RemediationError(
                f"APIGatewayStageArnSuffix {suffix}: API {api} is a {protocol} API; execution logging exists only "
                "for REST and WebSocket APIs (HTTP APIs have access logging only); nothing changed"
            )
        return apigatewayv2.get_stage(ApiId=api, StageName=stage)
    except apigatewayv2.exceptions.NotFoundException:
        raise RemediationError(
            f"APIGatewayStageArnSuffix {suffix}: no such WebSocket API stage in this account and Region"
        ) from None


def websocket_settings_to_change(stage: dict[str, Any], level: str | Iterable[str]) -> list[str]:
    """``DefaultRouteSettings`` first, then route keys, whose logging level is not an accepted one (missing
    means unset)."""
    accepted = accepted_levels(level)
    keys = [DEFAULT_ROUTE] if (stage.get(DEFAULT_ROUTE) or {}).get("LoggingLevel") not in accepted else []
    routes = stage.get("RouteSettings") or {}
    return keys + sorted(k for k, v in routes.items() if v.get("LoggingLevel") not in accepted)


def set_websocket_logging(
    apigatewayv2: Any, apigateway: Any, suffix: str, api: str, stage: str, accepted: tuple[str, ...]
) -> list[str]:
    level = accepted[0]
    current = websocket_stage(apigatewayv2, suffix, api, stage)
    keys = websocket_settings_to_change(current, accepted)
    if keys:
        require_cloudwatch_role(apigateway, suffix)
        # Every setting is sent back whole with only LoggingLevel replaced, so the other route settings
        # (metrics, data trace, throttling) and the routes already at the level stay as they are.
        default = current.get(DEFAULT_ROUTE) or {}
        apigatewayv2.update_stage(
            ApiId=api,
            StageName=stage,
            DefaultRouteSettings=(
                default if default.get("LoggingLevel") in accepted else {**default, "LoggingLevel": level}
            ),
            RouteSettings={
                k: v if v.get("LoggingLevel") in accepted else {**v, "LoggingLevel": level}
                for k, v in (current.get("RouteSettings") or {}).items()
            },
        )
    left = websocket_settings_to_change(websocket_stage(apigatewayv2, suffix, api, stage), accepted)
    if left:
        raise RemediationError(
            f"APIGatewayStageArnSuffix {suffix}: route settings {left} are still not at {' or '.join(accepted)}"
        )
    return keys


def enable_execution_logs(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    suffix = event["APIGatewayStageArnSuffix"]
    accepted = accepted_levels(event["LoggingLevel"])
    level = accepted[0]
    kind, api, stage = parse_suffix(suffix)
    apigateway = boto3.client("apigateway", config=BOTO_CONFIG)
    if kind == "restapis":
        api_type, changed = "REST", set_rest_logging(apigateway, suffix, api, stage, accepted)
    else:
        apigatewayv2 = boto3.client("apigatewayv2", config=BOTO_CONFIG)
        api_type, changed = "WebSocket", set_websocket_logging(apigatewayv2, apigateway, suffix, api, stage, accepted)
    return {
        "ApiType": api_type,
        "ApiId": api,
        "StageName": stage,
        "LoggingLevel": level,
        "AcceptedLevels": ",".join(accepted),
        "ChangedSettings": changed,
        "Message": f"Execution logging set to {level} for {changed}."
        if changed
        else f"Execution logging was already at {' or '.join(accepted)} for the whole stage; nothing changed.",
    }
