"""ASR-EnablePrivateRepositoryScanning: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_private_repository_scanning import (
    RemediationError,
    enable_repository_scanning,
)
from tests.remediations.helpers import step_output

DOC = "EnablePrivateRepositoryScanning"


def _repo(ecr, name: str, scan: bool = False) -> None:
    ecr.create_repository(
        repositoryName=name,
        imageScanningConfiguration={"scanOnPush": scan},
        imageTagMutability="IMMUTABLE",
        tags=[{"Key": "team", "Value": "blue"}],
    )


def _state(ecr, name: str) -> dict:
    repo = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    tags = ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]
    return {
        "scan": repo["imageScanningConfiguration"]["scanOnPush"],
        "mutability": repo["imageTagMutability"],
        "tags": tags,
    }


@pytest.fixture
def ecr():
    with mock_aws():
        yield boto3.client("ecr", region_name="us-east-1")


def test_script_turns_on_scan_on_push_of_the_named_repository_only(ecr):
    _repo(ecr, "team/app")
    _repo(ecr, "bystander")
    out = enable_repository_scanning({"RepositoryName": "team/app"}, None)
    assert _state(ecr, "team/app") == {
        "scan": True,
        "mutability": "IMMUTABLE",
        "tags": [{"Key": "team", "Value": "blue"}],
    }
    assert _state(ecr, "bystander")["scan"] is False
    assert out["ScanOnPushBefore"] == "false" and out["ScanOnPushAfter"] == "true"


def test_script_missing_repository_names_the_input(ecr):
    with pytest.raises(RemediationError, match="RepositoryName nope: no such private ECR repository"):
        enable_repository_scanning({"RepositoryName": "nope"}, None)


# --- the document, through the runner ------------------------------------------------


def test_document_remediates_then_changes_nothing(run_runbook):
    ecr = boto3.client("ecr")
    _repo(ecr, "team/app")
    _repo(ecr, "bystander")
    bystander = _state(ecr, "bystander")

    first = run_runbook(DOC, RepositoryName="team/app")
    assert first["AutomationExecutionStatus"] == "Success", first.get("FailureMessage")
    assert step_output(first, "EnableRepositoryScanning.Output")["ScanOnPushAfter"] == "true"
    after = _state(ecr, "team/app")
    assert after["scan"] is True and after["mutability"] == "IMMUTABLE"
    assert _state(ecr, "bystander") == bystander

    second = run_runbook(DOC, RepositoryName="team/app")
    assert second["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in step_output(second, "EnableRepositoryScanning.Output")["Message"]
    assert _state(ecr, "team/app") == after


@pytest.mark.parametrize("bad", ["UPPER", "a", "arn:aws:ecr:us-east-1:111111111111:repository/x", "x/"])
def test_document_rejects_a_malformed_name(run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="RepositoryName"):
        run_runbook(DOC, RepositoryName=bad)


def test_document_fails_on_a_missing_repository_and_changes_nothing(run_runbook):
    ecr = boto3.client("ecr")
    _repo(ecr, "bystander")
    out = run_runbook(DOC, RepositoryName="missing")
    assert out["AutomationExecutionStatus"] == "Failed"
    assert "RepositoryName missing: no such private ECR repository" in out["FailureMessage"]
    assert _state(ecr, "bystander")["scan"] is False
