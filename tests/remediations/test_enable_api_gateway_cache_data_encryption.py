"""ASR-EnableAPIGatewayCacheDataEncryption: the document through the runner on moto."""

from __future__ import annotations

import pytest

from asr.simulator.errors import ParameterValidationError
from tests.remediations.helpers import step_output
from tests.remediations.helpers.apigateway import make_rest_stage, stage

DOC = "EnableAPIGatewayCacheDataEncryption"


def rest_stage(name: str) -> tuple[str, str]:
    """A REST API stage with an unencrypted cache on every method and a GET override with a TTL."""
    api = make_rest_stage(name, ("GET",), [
        {"op": "replace", "path": "/*/*/caching/enabled", "value": "true"},
        {"op": "replace", "path": "/*/*/caching/dataEncrypted", "value": "false"},
        {"op": "replace", "path": "/~1/GET/caching/enabled", "value": "true"},
        {"op": "replace", "path": "/~1/GET/caching/dataEncrypted", "value": "false"},
        {"op": "replace", "path": "/~1/GET/caching/ttlInSeconds", "value": "60"},
    ], cacheClusterEnabled=True, cacheClusterSize="0.5")
    return api, f"arn:aws:apigateway:us-east-1::/restapis/{api}/stages/prod"


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
    assert step_output(first, "EnableCacheEncryption.Output")["EncryptedMethodSettings"] == ["*/*", "~1/GET"]

    second = run_runbook(DOC, APIGatewayStageArn=arn)
    assert second["AutomationExecutionStatus"] == "Success"
    assert step_output(second, "EnableCacheEncryption.Output")["EncryptedMethodSettings"] == []
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
