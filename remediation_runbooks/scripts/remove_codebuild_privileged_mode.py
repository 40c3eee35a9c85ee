"""ASR-RemoveCodeBuildPrivilegedMode: turn off privileged mode of one CodeBuild project."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _project(codebuild: Any, name: str) -> dict[str, Any]:
    found = codebuild.batch_get_projects(names=[name])["projects"]
    if not found:
        raise RemediationError(f"ProjectName {name}: no such CodeBuild project in this account and Region")
    return found[0]


def remove_privileged_mode(event: dict[str, Any], _context: Any) -> dict[str, str]:
    name = event["ProjectName"]
    codebuild = boto3.client("codebuild", config=BOTO_CONFIG)
    environment = _project(codebuild, name)["environment"]
    before = bool(environment.get("privilegedMode"))
    if before:
        codebuild.update_project(name=name, environment={**environment, "privilegedMode": False})
    after = bool(_project(codebuild, name)["environment"].get("privilegedMode"))
    if after:
        raise RemediationError(f"ProjectName {name}: privileged mode is still on after the update")
    return {
        "ProjectName": name,
        "PrivilegedModeBefore": str(before).lower(),
        "PrivilegedModeAfter": str(after).lower(),
        "Message": "Privileged mode turned off." if before else "Privileged mode was already off; nothing changed.",
    }
