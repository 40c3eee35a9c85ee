"""ASR-EnablePrivateRepositoryScanning: turn on scan-on-push for one private ECR repository."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _repository(ecr: Any, name: str) -> dict[str, Any]:
    try:
        return ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    except ecr.exceptions.RepositoryNotFoundException:
        raise RemediationError(
            f"RepositoryName {name}: no such private ECR repository in this account and Region"
        ) from None


def _scan_on_push(repo: dict[str, Any]) -> bool:
    return bool(repo.get("imageScanningConfiguration", {}).get("scanOnPush"))


def enable_repository_scanning(event: dict[str, Any], _context: Any) -> dict[str, str]:
    name = event["RepositoryName"]
    ecr = boto3.client("ecr", config=BOTO_CONFIG)
    repo = _repository(ecr, name)
    before = _scan_on_push(repo)
    if not before:
        ecr.put_image_scanning_configuration(
            registryId=repo["registryId"],
            repositoryName=name,
            imageScanningConfiguration={"scanOnPush": True},
        )
    after = _scan_on_push(_repository(ecr, name))
    if not after:
        raise RemediationError(f"RepositoryName {name}: scanOnPush is still off after the update")
    return {
        "RepositoryArn": repo["repositoryArn"],
        "ScanOnPushBefore": str(before).lower(),
        "ScanOnPushAfter": str(after).lower(),
        "Message": "Scan on push enabled." if not before else "Scan on push was already enabled; nothing changed.",
    }
