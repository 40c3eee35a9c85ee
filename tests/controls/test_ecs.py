"""ECS.5 evaluator on moto: containers of the latest active task definition need a read-only root."""

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
def ecs():
    with mock_aws():
        yield boto3.client("ecs", region_name=REGION)


def _container(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": "public.ecr.aws/nginx/nginx", "memory": 128, **extra}


def _task(ecs, *containers: dict[str, Any], family: str = "web") -> Resource:
    arn = ecs.register_task_definition(family=family, containerDefinitions=list(containers))["taskDefinition"][
        "taskDefinitionArn"
    ]
    return Resource.of_arn(arn, "AwsEcsTaskDefinition")


def test_container_without_read_only_root_fails(ecs):
    task = _task(ecs, _container("app", readonlyRootFilesystem=True), _container("sidecar"))
    verdict = evaluate("ECS.5", _session(), task)
    assert verdict.status is Status.FAILED
    assert "sidecar" in verdict.reason
    assert "app" not in verdict.reason.split("container(s)")[1]


def test_explicit_false_fails_and_all_read_only_passes(ecs):
    assert evaluate("ECS.5", _session(), _task(ecs, _container("app", readonlyRootFilesystem=False))).status is (
        Status.FAILED
    )
    task = _task(ecs, _container("app", readonlyRootFilesystem=True), _container("log", readonlyRootFilesystem=True))
    assert evaluate("ECS.5", _session(), task).status is Status.PASSED


def test_only_the_latest_active_revision_is_evaluated(ecs):
    old = _task(ecs, _container("app"))
    new = _task(ecs, _container("app", readonlyRootFilesystem=True))
    verdict = evaluate("ECS.5", _session(), old)
    assert verdict.status is Status.NOT_APPLICABLE
    assert "latest" in verdict.reason
    assert evaluate("ECS.5", _session(), new).status is Status.PASSED
    ecs.deregister_task_definition(taskDefinition=new.id)
    assert evaluate("ECS.5", _session(), new).status is Status.NOT_APPLICABLE  # INACTIVE
    assert evaluate("ECS.5", _session(), old).status is Status.FAILED  # latest active again


def test_family_prefix_does_not_hide_the_latest_revision(ecs):
    task = _task(ecs, _container("app"), family="web")
    _task(ecs, _container("app"), family="web-admin")
    _task(ecs, _container("app"), family="web-admin")
    assert evaluate("ECS.5", _session(), task).status is Status.FAILED


def test_missing_task_definition_is_an_error(ecs):
    missing = Resource.of_arn(f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/none:1", "AwsEcsTaskDefinition")
    with pytest.raises(EvaluationError, match="none:1"):
        evaluate("ECS.5", _session(), missing)
