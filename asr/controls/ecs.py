"""Amazon ECS controls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from asr.controls.base import Context, EvaluationError, Resource, Verdict, control, failed, not_applicable, passed


def _call(resource_id: str, what: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except (ClientError, BotoCoreError) as err:
        raise EvaluationError(f"ECS.5: cannot {what} for {resource_id!r}: {err}") from None


def _latest_active_revision(ecs: Any, family: str) -> int:
    revisions = []
    for page in ecs.get_paginator("list_task_definitions").paginate(familyPrefix=family, status="ACTIVE"):
        for arn in page.get("taskDefinitionArns", []):
            name, _, revision = arn.rsplit("/", 1)[-1].rpartition(":")
            if name == family:
                revisions.append(int(revision))
    return max(revisions, default=0)


@control(
    "ECS.5",
    doc="https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html#ecs-5",
    resource_types=("AwsEcsTaskDefinition",),
)
def containers_readonly_root(ctx: Context, resource: Resource) -> Verdict:
    """ECS.5 (Config rule ecs-containers-readonly-access): every container definition of the task
    definition must set ``readonlyRootFilesystem`` to true; false (or left out, which ECS takes as
    false) fails. Only the latest ACTIVE revision of a family is evaluated."""
    ecs = ctx.client("ecs")
    task = _call(
        resource.id,
        "describe the task definition",
        lambda: ecs.describe_task_definition(taskDefinition=resource.id)["taskDefinition"],
    )
    status, family, revision = task.get("status"), task["family"], int(task["revision"])
    if status != "ACTIVE":
        return not_applicable(f"task definition status is {status!r}")
    latest = _call(resource.id, "list the family's revisions", lambda: _latest_active_revision(ecs, family))
    if latest > revision:
        return not_applicable(f"revision {revision} is not the latest ACTIVE revision of {family!r} ({latest})")
    writable = [c["name"] for c in task.get("containerDefinitions", []) if c.get("readonlyRootFilesystem") is not True]
    if writable:
        return failed(f"readonlyRootFilesystem is not true for container(s) {', '.join(writable)}")
    return passed("readonlyRootFilesystem is true for every container")
