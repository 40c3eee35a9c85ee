"""ASR-LimitECSRootFilesystemAccess: the script against moto, then the document through the runner."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.limit_ecs_root_filesystem_access import (
    RemediationError,
    limit_root_filesystem,
)
from tests.remediations.helpers import step_output

DOC = "LimitECSRootFilesystemAccess"
KEEP = (
    "containerDefinitions",
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "volumes",
    "requiresCompatibilities",
    "cpu",
    "memory",
)


def _register(family: str, readonly: bool = False) -> str:
    containers = [
        {
            "name": "app",
            "image": "nginx:1.25",
            "memory": 256,
            "essential": True,
            "environment": [{"name": "MODE", "value": "prod"}],
            "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp"}],
            "readonlyRootFilesystem": readonly,
        },
        {"name": "sidecar", "image": "busybox", "memory": 64, "essential": False},
    ]
    out = boto3.client("ecs").register_task_definition(
        family=family,
        containerDefinitions=containers,
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        requiresCompatibilities=["FARGATE"],
        volumes=[{"name": "tmp"}],
        taskRoleArn="arn:aws:iam::111111111111:role/task",
        executionRoleArn="arn:aws:iam::111111111111:role/exec",
        tags=[{"key": "team", "value": "blue"}],
    )
    td = out["taskDefinition"]
    return f"{td['family']}:{td['revision']}"


def _get(task: str) -> tuple[dict, list]:
    out = boto3.client("ecs").describe_task_definition(taskDefinition=task, include=["TAGS"])
    return {k: out["taskDefinition"].get(k) for k in KEEP}, out.get("tags", [])


def _revisions(family: str) -> list[str]:
    return boto3.client("ecs").list_task_definitions(familyPrefix=family)["taskDefinitionArns"]


def test_script_registers_a_read_only_copy_keeping_everything_else():
    with mock_aws():
        task = _register("web")
        before, tags = _get(task)
        out = limit_root_filesystem({"TaskDefinitionId": task}, None)
        after, new_tags = _get(out["CompliantRevision"])
        old_after, _ = _get(task)
    assert out["CompliantRevision"] == "web:2"
    assert all(c["readonlyRootFilesystem"] for c in after["containerDefinitions"])
    expected = [{**c, "readonlyRootFilesystem": True} for c in before["containerDefinitions"]]
    assert after == {**before, "containerDefinitions": expected}
    assert new_tags == tags == [{"key": "team", "value": "blue"}]
    assert old_after == before


def test_script_refuses_an_older_revision():
    with mock_aws():
        old = _register("web")
        _register("web")
        with pytest.raises(RemediationError, match="TaskDefinitionId web:1: revision web:2 is newer"):
            limit_root_filesystem({"TaskDefinitionId": old}, None)
        assert len(_revisions("web")) == 2


# --- the document, through the runner ------------------------------------------------


def test_document_remediates_then_changes_nothing(run_runbook):
    task = _register("web")
    bystander = _register("other")
    other_before = _get(bystander)

    first = run_runbook(DOC, TaskDefinitionId=task)
    assert first["AutomationExecutionStatus"] == "Success", first.get("FailureMessage")
    new = step_output(first, "LimitRootFilesystemAccess.Output")["CompliantRevision"]
    assert new == "web:2"
    assert all(c["readonlyRootFilesystem"] for c in _get(new)[0]["containerDefinitions"])
    assert _get(bystander) == other_before and len(_revisions("other")) == 1

    for again in (task, new):
        second = run_runbook(DOC, TaskDefinitionId=again)
        assert second["AutomationExecutionStatus"] == "Success", second.get("FailureMessage")
        assert "nothing changed" in step_output(second, "LimitRootFilesystemAccess.Output")["Message"]
    assert len(_revisions("web")) == 2


@pytest.mark.parametrize("bad", ["web", "web:0", "arn:aws:ecs:us-east-1:111111111111:task-definition/web:1", "w b:1"])
def test_document_rejects_a_malformed_id(run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="TaskDefinitionId"):
        run_runbook(DOC, TaskDefinitionId=bad)


def test_document_fails_on_a_missing_task_definition(run_runbook):
    _register("other")
    out = run_runbook(DOC, TaskDefinitionId="missing:3")
    assert out["AutomationExecutionStatus"] == "Failed"
    assert "TaskDefinitionId missing:3: no such task definition" in out["FailureMessage"]
    assert len(_revisions("other")) == 1
