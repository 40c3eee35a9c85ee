"""ASR-EnableAPIGatewayCacheDataEncryption: the document through the runner on moto."""

from __future__ import annotations

import json

import boto3
import pytest

from asr.simulator.errors import ParameterValidationError

DOC = "EnableAPIGatewayCacheDataEncryption"


def _output(execution: dict, name: str) -> dict:
    value = execution["Outputs"][name][0]
    return json.loads(value) if isinstance(value, str) else value


def rest_stage(name: str) -> tuple[str, str]:
    apigw = boto3.client("apigateway")
    api = apigw.create_rest_api(name=name)["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    deployment = apigw.create_deployment(restApiId=api)["id"]
    apigw.create_stage(
        restApiId=api,
        stageName="prod",
        deploymentId=deployment,
        cacheClusterEnabled=True,
        cacheClusterSize="0.5",
        variables={"color": "blue"},
    )
    apigw.update_stage(
        restApiId=api,
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/*/*/caching/enabled", "value": "true"},
            {"op": "replace", "path": "/*/*/caching/dataEncrypted", "value": "false"},
            {"op": "replace", "path": "/~1/GET/caching/enabled", "value": "true"},
            {"op": "replace", "path": "/~1/GET/caching/dataEncrypted", "value": "false"},
            {"op": "replace", "path": "/~1/GET/caching/ttlInSeconds", "value": "60"},
        ],
    )
    return api, f"arn:aws:apigateway:us-east-1::/restapis/{api}/stages/prod"


def stage(api: str) -> dict:
    out = boto3.client("apigateway").get_stage(restApiId=api, stageName="prod")
    out.pop("ResponseMetadata", None)
    out.pop("lastUpdatedDate", None)
    return out


def test_document_encrypts_every_method_then_changes_nothing(run_runbook):
    api, arn = rest_stage("target")
    other, _ = rest_stage("bystander")
    before, bystander = stage(api), stage(other)

    first = run_runbook(DOC, APIGatewayStageArn=arn)
    assert first["AutomationExecutionStatus"] == "Success", first.get("FailureMessage")
    after = stage(api)
    expected = {k: {**v, "cacheDataEncrypted": True} for k, v in before["methodSettings"].items()}
    assert after == {**before, "methodSettings": expected}
    assert after["methodSettings"]["~1/GET"]["cacheTtlInSeconds"] == 60
    assert stage(other) == bystander
    assert _output(first, "EnableCacheEncryption.Output")["EncryptedMethodSettings"] == ["*/*", "~1/GET"]

    second = run_runbook(DOC, APIGatewayStageArn=arn)
    assert second["AutomationExecutionStatus"] == "Success"
    assert _output(second, "EnableCacheEncryption.Output")["EncryptedMethodSettings"] == []
    assert stage(api) == after


@pytest.mark.parametrize(
    "bad",
    [
        "arn:aws:apigateway:us-east-1::/apis/abcdefghij/stages/prod",
        "/restapis/abcdefghij/stages/prod",
        "arn:aws:apigateway:us-east-1::/restapis/abcdefghij/stages/prod/extra",
    ],
)
def test_document_rejects_a_malformed_arn(run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="APIGatewayStageArn"):
        run_runbook(DOC, APIGatewayStageArn=bad)


def test_document_fails_on_a_missing_stage(run_runbook):
    other, _ = rest_stage("bystander")
    bystander = stage(other)
    arn = "arn:aws:apigateway:us-east-1::/restapis/abcdefghij/stages/prod"
    out = run_runbook(DOC, APIGatewayStageArn=arn)
    assert out["AutomationExecutionStatus"] == "Failed"
    assert f"APIGatewayStageArn {arn}: no such REST API stage" in out["FailureMessage"]
    assert stage(other) == bystander
