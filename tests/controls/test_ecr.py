"""ECR.1 evaluator on moto: private repositories must scan on push or continuously."""

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
def ecr():
    with mock_aws():
        yield boto3.client("ecr", region_name=REGION)


def _repository(ecr, name: str, **kwargs) -> Resource:
    arn = ecr.create_repository(repositoryName=name, **kwargs)["repository"]["repositoryArn"]
    return Resource.of_arn(arn, "AwsEcrRepository")


def test_repository_without_scanning_fails(ecr):
    verdict = evaluate("ECR.1", _session(), _repository(ecr, "plain"))
    assert verdict.status is Status.FAILED
    assert "'MANUAL'" in verdict.reason


def test_repository_scan_on_push_passes_with_basic_scanning(ecr):
    repo = _repository(ecr, "pushed", imageScanningConfiguration={"scanOnPush": True})
    assert evaluate("ECR.1", _session(), repo).status is Status.PASSED
    ecr.put_image_scanning_configuration(repositoryName="pushed", imageScanningConfiguration={"scanOnPush": False})
    assert evaluate("ECR.1", _session(), repo).status is Status.FAILED


def test_registry_rule_matching_a_namespaced_repository_passes(ecr):
    repo = _repository(ecr, "team/app")  # the name holds a '/': the whole name is read from the ARN
    ecr.put_registry_scanning_configuration(
        scanType="ENHANCED",
        rules=[
            {"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [{"filter": "team/*", "filterType": "WILDCARD"}]}
        ],
    )
    verdict = evaluate("ECR.1", _session(), repo)
    assert verdict.status is Status.PASSED
    assert "CONTINUOUS_SCAN" in verdict.reason


def test_enhanced_scanning_ignores_the_repository_scan_on_push_setting(ecr):
    repo = _repository(ecr, "other/app", imageScanningConfiguration={"scanOnPush": True})
    ecr.put_registry_scanning_configuration(
        scanType="ENHANCED",
        rules=[
            {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "team/*", "filterType": "WILDCARD"}]}
        ],
    )
    assert evaluate("ECR.1", _session(), repo).status is Status.FAILED


def test_missing_repository_is_an_error(ecr):
    missing = Resource.of_arn(f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/nope", "AwsEcrRepository")
    with pytest.raises(EvaluationError, match="nope"):
        evaluate("ECR.1", _session(), missing)
