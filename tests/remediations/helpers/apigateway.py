"""API Gateway REST API stages on moto."""

from __future__ import annotations

from typing import Any

import boto3


def make_rest_stage(name: str, methods: tuple[str, ...], patches: list[dict[str, str]], **create: Any) -> str:
    """REST API ``name`` whose root resource has a MOCK-integrated method per ``methods``, deployed to
    stage ``prod`` (variables color=blue, plus ``create`` for CreateStage), then ``patches`` applied
    with UpdateStage. Returns the API id."""
    apigw = boto3.client("apigateway")
    api = apigw.create_rest_api(name=name)["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    for method in methods:
        apigw.put_method(restApiId=api, resourceId=root, httpMethod=method, authorizationType="NONE")
        apigw.put_integration(restApiId=api, resourceId=root, httpMethod=method, type="MOCK")
    deployment = apigw.create_deployment(restApiId=api)["id"]
    apigw.create_stage(restApiId=api, stageName="prod", deploymentId=deployment, variables={"color": "blue"},
                       **create)
    apigw.update_stage(restApiId=api, stageName="prod", patchOperations=patches)
    return api


def stage(api: str) -> dict[str, Any]:
    """Stage ``prod`` of the API as GetStage returns it, without the fields that change on every call."""
    out = boto3.client("apigateway").get_stage(restApiId=api, stageName="prod")
    out.pop("ResponseMetadata", None)
    out.pop("lastUpdatedDate", None)
    return out
