"""Amazon API Gateway controls (REST API stages; WebSocket API stages for APIGateway.1)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from asr.controls.base import (
    Context,
    EvaluationError,
    Resource,
    Verdict,
    api_call,
    control,
    failed,
    not_applicable,
    passed,
)

_DOC = "https://docs.aws.amazon.com/securityhub/latest/userguide/apigateway-controls.html"
_REST_STAGE = re.compile(r"/restapis/(?P<api>[^/]+)/stages/(?P<stage>[^/]+)$")
_V2_STAGE = re.compile(r"/apis/(?P<api>[^/]+)/stages/(?P<stage>[^/]+)$")


def _levels(value: Any) -> set[str]:
    """The accepted logging levels: a comma-separated string ("ERROR,INFO") or a list."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    levels = {str(item).strip().upper() for item in items if str(item).strip()}
    if not levels:
        raise EvaluationError("APIGateway.1: loggingLevel names no logging level")
    return levels


def _rest_stage(ctx: Context, control_id: str, resource: Resource, match: re.Match[str]) -> dict[str, Any]:
    apigateway = ctx.client("apigateway")
    return api_call(control_id, resource, apigateway.get_stage, restApiId=match["api"], stageName=match["stage"])


def _level_problem(where: str, level: Any, accepted: set[str]) -> str | None:
    if str(level or "OFF").upper() in accepted:
        return None
    return f"{where} loggingLevel is {level or 'OFF'!r}, not one of {sorted(accepted)}"


@control(
    "APIGateway.1",
    doc=f"{_DOC}#apigateway-1",
    resource_types=("AwsApiGatewayStage", "AwsApiGatewayV2Stage"),
    defaults={"loggingLevel": "ERROR,INFO"},
)
def execution_logging_enabled(ctx: Context, resource: Resource) -> Verdict:
    """APIGateway.1 (Config rule api-gw-execution-logging-enabled): every method of a REST API stage
    (every route of a WebSocket API stage) must log at one of the ``loggingLevel`` levels (default
    ERROR or INFO). For a REST stage the stage-wide ``*/*`` method setting must be at such a level
    and no per-method override may lower it; for a WebSocket stage the default route settings and
    every route override. HTTP APIs have no execution logging and are out of scope."""
    accepted = _levels(ctx.parameter("loggingLevel"))
    rest, v2 = _REST_STAGE.search(resource.id), _V2_STAGE.search(resource.id)
    if rest:
        stage = _rest_stage(ctx, "APIGateway.1", resource, rest)
        settings: Mapping[str, Any] = stage.get("methodSettings") or {}
        problem = _level_problem("stage-wide (*/*)", (settings.get("*/*") or {}).get("loggingLevel"), accepted)
        for key in sorted(k for k in settings if k != "*/*"):
            problem = problem or _level_problem(f"method {key!r}", settings[key].get("loggingLevel"), accepted)
        if problem:
            return failed(problem)
        return passed(f"every method logs at one of {sorted(accepted)}")
    if v2:
        apigw = ctx.client("apigatewayv2")
        api = api_call("APIGateway.1", resource, apigw.get_api, ApiId=v2["api"])
        if api.get("ProtocolType") != "WEBSOCKET":
            return not_applicable(
                f"ProtocolType is {api.get('ProtocolType')!r}; execution logging is for WebSocket APIs"
            )
        stage = api_call("APIGateway.1", resource, apigw.get_stage, ApiId=v2["api"], StageName=v2["stage"])
        problem = _level_problem(
            "DefaultRouteSettings", (stage.get("DefaultRouteSettings") or {}).get("LoggingLevel"), accepted
        )
        routes = stage.get("RouteSettings") or {}
        for key in sorted(routes):
            problem = problem or _level_problem(f"route {key!r}", routes[key].get("LoggingLevel"), accepted)
        if problem:
            return failed(problem)
        return passed(f"every route logs at one of {sorted(accepted)}")
    raise EvaluationError(f"APIGateway.1: {resource.id!r} is not an API Gateway stage ARN")


@control("APIGateway.5", doc=f"{_DOC}#apigateway-5", resource_types=("AwsApiGatewayStage",))
def cache_encrypted(ctx: Context, resource: Resource) -> Verdict:
    """APIGateway.5 (Security Hub rule api-gw-cache-encrypted): every method of a REST API stage that
    caches responses (``cachingEnabled``) must encrypt the cache (``cacheDataEncrypted``). A method's
    encryption is judged only when caching is enabled for it; a stage without a cache cluster and
    with no caching method is out of scope."""
    rest = _REST_STAGE.search(resource.id)
    if not rest:
        if _V2_STAGE.search(resource.id):
            return not_applicable("API cache settings exist for REST API stages only")
        raise EvaluationError(f"APIGateway.5: {resource.id!r} is not an API Gateway REST stage ARN")
    stage = _rest_stage(ctx, "APIGateway.5", resource, rest)
    settings: Mapping[str, Any] = stage.get("methodSettings") or {}
    caching = {key: value for key, value in settings.items() if value.get("cachingEnabled")}
    if not caching and not stage.get("cacheClusterEnabled"):
        return not_applicable("cacheClusterEnabled is false and no method has cachingEnabled")
    clear = sorted(key for key, value in caching.items() if not value.get("cacheDataEncrypted"))
    if clear:
        return failed(f"cacheDataEncrypted is false for caching method setting(s) {', '.join(clear)}")
    if not caching:
        return passed("no method has cachingEnabled, so no cached data is unencrypted")
    return passed(f"cacheDataEncrypted is true for every caching method setting ({', '.join(sorted(caching))})")
