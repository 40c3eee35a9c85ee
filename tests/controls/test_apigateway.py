"""APIGateway.1 and APIGateway.5 evaluators on moto."""

from __future__ import annotations

import functools

import boto3
import pytest
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate

ACCOUNT, REGION = "111111111111", "us-east-1"


@functools.cache
def _session() -> boto3.Session:
    return boto3.Session(region_name=REGION)


@pytest.fixture
def apigateway():
    with mock_aws():
        yield boto3.client("apigateway", region_name=REGION)


def _rest_stage(apigateway, *patches: tuple[str, str]) -> Resource:
    api = apigateway.create_rest_api(name="api")["id"]
    root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
    apigateway.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigateway.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    apigateway.create_deployment(restApiId=api, stageName="prod")
    if patches:
        apigateway.update_stage(
            restApiId=api,
            stageName="prod",
            patchOperations=[{"op": "replace", "path": path, "value": value} for path, value in patches],
        )
    return Resource.of_arn(f"arn:aws:apigateway:{REGION}::/restapis/{api}/stages/prod", "AwsApiGatewayStage")


def _v2_stage(protocol: str, **settings) -> Resource:
    apigw = boto3.client("apigatewayv2", region_name=REGION)
    extra = {"RouteSelectionExpression": "$request.body.action"} if protocol == "WEBSOCKET" else {}
    api = apigw.create_api(Name="v2", ProtocolType=protocol, **extra)["ApiId"]
    apigw.create_stage(ApiId=api, StageName="live", **settings)
    return Resource.of_arn(f"arn:aws:apigateway:{REGION}::/apis/{api}/stages/live", "AwsApiGatewayV2Stage")


# ---------------------------------------------------------------------------------- APIGateway.1


def test_rest_stage_without_logging_fails(apigateway):
    verdict = evaluate("APIGateway.1", _session(), _rest_stage(apigateway))
    assert verdict.status is Status.FAILED
    assert "'OFF'" in verdict.reason


@pytest.mark.parametrize("level", ["INFO", "ERROR"])
def test_rest_stage_logging_at_error_or_info_passes(apigateway, level):
    stage = _rest_stage(apigateway, ("/*/*/logging/loglevel", level))
    assert evaluate("APIGateway.1", _session(), stage).status is Status.PASSED


def test_method_override_turning_logging_off_fails(apigateway):
    stage = _rest_stage(apigateway, ("/*/*/logging/loglevel", "INFO"), ("/~1/GET/logging/loglevel", "OFF"))
    verdict = evaluate("APIGateway.1", _session(), stage)
    assert verdict.status is Status.FAILED
    assert "'~1/GET'" in verdict.reason


def test_logging_level_parameter(apigateway):
    stage = _rest_stage(apigateway, ("/*/*/logging/loglevel", "ERROR"))
    assert evaluate("APIGateway.1", _session(), stage, {"loggingLevel": "INFO"}).status is Status.FAILED
    assert evaluate("APIGateway.1", _session(), stage, {"loggingLevel": ["ERROR"]}).status is Status.PASSED


def test_websocket_stage_routes(apigateway):
    good = _v2_stage("WEBSOCKET", DefaultRouteSettings={"LoggingLevel": "INFO"})
    assert evaluate("APIGateway.1", _session(), good).status is Status.PASSED
    quiet = _v2_stage(
        "WEBSOCKET", DefaultRouteSettings={"LoggingLevel": "ERROR"}, RouteSettings={"$connect": {"LoggingLevel": "OFF"}}
    )
    verdict = evaluate("APIGateway.1", _session(), quiet)
    assert verdict.status is Status.FAILED
    assert "$connect" in verdict.reason
    assert evaluate("APIGateway.1", _session(), _v2_stage("WEBSOCKET")).status is Status.FAILED


def test_http_api_stage_is_not_applicable(apigateway):
    assert evaluate("APIGateway.1", _session(), _v2_stage("HTTP")).status is Status.NOT_APPLICABLE


def test_missing_stage_is_an_error(apigateway):
    api = apigateway.create_rest_api(name="empty")["id"]
    missing = Resource.of_arn(f"arn:aws:apigateway:{REGION}::/restapis/{api}/stages/none", "AwsApiGatewayStage")
    with pytest.raises(EvaluationError, match="stages/none"):
        evaluate("APIGateway.1", _session(), missing)


# ---------------------------------------------------------------------------------- APIGateway.5


def test_stage_without_cache_is_not_applicable(apigateway):
    assert evaluate("APIGateway.5", _session(), _rest_stage(apigateway)).status is Status.NOT_APPLICABLE


def test_cached_method_must_encrypt(apigateway):
    stage = _rest_stage(
        apigateway,
        ("/cacheClusterEnabled", "true"),
        ("/*/*/caching/enabled", "true"),
        ("/*/*/caching/dataEncrypted", "false"),
    )
    verdict = evaluate("APIGateway.5", _session(), stage)
    assert verdict.status is Status.FAILED
    assert "*/*" in verdict.reason
    api = stage.id.split("/restapis/")[1].split("/")[0]
    apigateway.update_stage(
        restApiId=api,
        stageName="prod",
        patchOperations=[{"op": "replace", "path": "/*/*/caching/dataEncrypted", "value": "true"}],
    )
    assert evaluate("APIGateway.5", _session(), stage).status is Status.PASSED


def test_method_caching_without_encryption_fails_even_if_stage_default_is_encrypted(apigateway):
    stage = _rest_stage(
        apigateway,
        ("/cacheClusterEnabled", "true"),
        ("/*/*/caching/enabled", "true"),
        ("/*/*/caching/dataEncrypted", "true"),
        ("/~1/GET/caching/enabled", "true"),
        ("/~1/GET/caching/dataEncrypted", "false"),
    )
    verdict = evaluate("APIGateway.5", _session(), stage)
    assert verdict.status is Status.FAILED
    assert "~1/GET" in verdict.reason


def test_cache_cluster_with_no_caching_method_passes(apigateway):
    stage = _rest_stage(apigateway, ("/cacheClusterEnabled", "true"))
    assert evaluate("APIGateway.5", _session(), stage).status is Status.PASSED


def test_websocket_stage_is_not_applicable_for_cache_encryption(apigateway):
    stage = _v2_stage("WEBSOCKET")
    assert evaluate("APIGateway.5", _session(), stage).status is Status.NOT_APPLICABLE
