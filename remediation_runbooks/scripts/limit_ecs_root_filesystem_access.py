"""ASR-LimitECSRootFilesystemAccess: register a task definition revision with read-only root filesystems."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _describe(ecs: Any, task_definition: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    try:
        found = ecs.describe_task_definition(taskDefinition=task_definition, include=["TAGS"])
    except ecs.exceptions.ClientException:
        raise RemediationError(
            f"TaskDefinitionId {task_definition}: no such task definition in this account and Region"
        ) from None
    return found["taskDefinition"], found.get("tags") or []


def register_arguments(ecs: Any, definition: dict[str, Any]) -> dict[str, Any]:
    """Every setting RegisterTaskDefinition accepts, copied, with read-only root filesystems."""
    accepted = ecs.meta.service_model.operation_model("RegisterTaskDefinition").input_shape.members
    args = {key: value for key, value in definition.items() if key in accepted}
    args["containerDefinitions"] = [{**c, "readonlyRootFilesystem": True} for c in definition["containerDefinitions"]]
    return args


def is_compliant(definition: dict[str, Any]) -> bool:
    return all(c.get("readonlyRootFilesystem") is True for c in definition["containerDefinitions"])


def _label(definition: dict[str, Any]) -> str:
    return f"{definition['family']}:{definition['revision']}"


def limit_root_filesystem(event: dict[str, Any], _context: Any) -> dict[str, str]:
    wanted = event["TaskDefinitionId"]
    ecs = boto3.client("ecs", config=BOTO_CONFIG)
    definition, tags = _describe(ecs, wanted)
    if definition.get("status") != "ACTIVE":
        raise RemediationError(
            f"TaskDefinitionId {wanted}: the revision is {definition.get('status')}; nothing changed"
        )
    if is_compliant(definition):
        return _result(
            wanted, _label(definition), "Every container already has a read-only root filesystem; nothing changed."
        )
    latest, _ = _describe(ecs, definition["family"])
    if latest["revision"] != definition["revision"]:
        if is_compliant(latest) and register_arguments(ecs, latest) == register_arguments(ecs, definition):
            return _result(wanted, _label(latest), f"Already remediated by revision {_label(latest)}; nothing changed.")
        raise RemediationError(
            f"TaskDefinitionId {wanted}: revision {_label(latest)} is newer; registering a fix of the older revision "
            "would undo its changes. Remediate the latest revision instead. Nothing changed."
        )
    args = register_arguments(ecs, definition)
    if tags:
        args["tags"] = tags
    new = ecs.register_task_definition(**args)["taskDefinition"]
    if not is_compliant(new):
        raise RemediationError(f"TaskDefinitionId {wanted}: new revision {_label(new)} is not read-only")
    return _result(wanted, _label(new), f"Registered {_label(new)} with read-only root filesystems.")


def _result(old: str, new: str, message: str) -> dict[str, str]:
    return {"TaskDefinition": old, "CompliantRevision": new, "Message": message}
