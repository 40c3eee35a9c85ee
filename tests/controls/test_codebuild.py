"""CodeBuild.2 and CodeBuild.5 evaluators on moto."""

from __future__ import annotations

import functools
from typing import Any

import boto3
import pytest
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate

ACCOUNT, REGION = "111111111111", "us-east-1"


@functools.cache
def _session() -> boto3.Session:
    return boto3.Session(region_name=REGION)


@pytest.fixture
def codebuild():
    with mock_aws():
        yield boto3.client("codebuild", region_name=REGION)


def _project(codebuild, name: str, variables: list[dict[str, Any]] | None = None, privileged: bool = False) -> Resource:
    role = boto3.client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    environment = {
        "type": "LINUX_CONTAINER",
        "image": "aws/codebuild/standard:7.0",
        "computeType": "BUILD_GENERAL1_SMALL",
        "privilegedMode": privileged,
        "environmentVariables": variables or [],
    }
    arn = codebuild.create_project(
        name=name,
        source={"type": "S3", "location": "sources/app.zip"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment=environment,
        serviceRole=role,
    )["project"]["arn"]
    return Resource.of_arn(arn, "AwsCodeBuildProject")


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ([{"name": "AWS_ACCESS_KEY_ID", "value": "AKIAEXAMPLE", "type": "PLAINTEXT"}], Status.FAILED),
        ([{"name": "AWS_SECRET_ACCESS_KEY", "value": "secret"}], Status.FAILED),  # PLAINTEXT is the default type
        ([{"name": "AWS_SECRET_ACCESS_KEY", "value": "/ci/secret", "type": "PARAMETER_STORE"}], Status.PASSED),
        ([{"name": "AWS_ACCESS_KEY_ID", "value": "ci:key", "type": "SECRETS_MANAGER"}], Status.PASSED),
        ([{"name": "STAGE", "value": "prod", "type": "PLAINTEXT"}], Status.PASSED),
        ([], Status.PASSED),
    ],
    ids=["plaintext-key-id", "default-type-secret", "parameter-store", "secrets-manager", "other-variable", "none"],
)
def test_codebuild_2_plaintext_credentials(codebuild, variables, expected):
    verdict = evaluate("CodeBuild.2", _session(), _project(codebuild, "build", variables))
    assert verdict.status is expected, verdict.reason
    if expected is Status.FAILED:
        assert variables[0]["name"] in verdict.reason


def test_codebuild_5_privileged_mode(codebuild):
    verdict = evaluate("CodeBuild.5", _session(), _project(codebuild, "docker", privileged=True))
    assert verdict.status is Status.FAILED
    assert verdict.reason == "environment.privilegedMode is true"
    assert evaluate("CodeBuild.5", _session(), _project(codebuild, "plain")).status is Status.PASSED


def test_missing_project_is_an_error(codebuild):
    missing = Resource.of_arn(f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/none", "AwsCodeBuildProject")
    with pytest.raises(EvaluationError, match="none"):
        evaluate("CodeBuild.2", _session(), missing)
