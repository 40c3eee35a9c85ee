"""ASR-RemoveCodeBuildPrivilegedMode through the runner.

moto 5.2.5 does not implement codebuild UpdateProject, so the CodeBuild client is a
botocore Stubber checked against the real API shapes (request and response), patched
into the document's script through boto3.client. Any call not expected below fails the
test, which is how "nothing else changed" is proven.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from asr.simulator.errors import ParameterValidationError

DOC = "RemoveCodeBuildPrivilegedMode"
ARN = "arn:aws:codebuild:us-east-1:111111111111:project/build"
ENV = {
    "type": "LINUX_CONTAINER",
    "image": "aws/codebuild/standard:7.0",
    "computeType": "BUILD_GENERAL1_SMALL",
    "environmentVariables": [{"name": "STAGE", "value": "prod", "type": "PLAINTEXT"}],
    "privilegedMode": True,
    "imagePullCredentialsType": "CODEBUILD",
}


def _output(execution: dict, name: str) -> dict:
    value = execution["Outputs"][name][0]
    return json.loads(value) if isinstance(value, str) else value


def project(env: dict) -> dict:
    return {
        "name": "build",
        "arn": ARN,
        "environment": env,
        "serviceRole": "arn:aws:iam::111111111111:role/cb",
        "source": {"type": "NO_SOURCE", "buildspec": "version: 0.2"},
        "artifacts": {"type": "NO_ARTIFACTS"},
    }


@pytest.fixture
def codebuild(aws, monkeypatch):
    """A stubbed CodeBuild client handed to the script; everything else stays on moto."""
    client = boto3.client("codebuild", region_name="us-east-1")
    stub = Stubber(client)
    real = boto3.client

    def fake(service, *args, **kwargs):
        return client if service == "codebuild" else real(service, *args, **kwargs)

    monkeypatch.setattr(boto3, "client", fake)
    with stub:
        yield stub
    stub.assert_no_pending_responses()


def _get(stub, env: dict | None) -> None:
    response = {"projects": [project(env)]} if env else {"projects": [], "projectsNotFound": ["build"]}
    stub.add_response("batch_get_projects", response, {"names": ["build"]})


def test_document_turns_off_privileged_mode_then_changes_nothing(run_runbook, codebuild):
    fixed = {**ENV, "privilegedMode": False}
    _get(codebuild, ENV)
    codebuild.add_response("update_project", {"project": project(fixed)}, {"name": "build", "environment": fixed})
    _get(codebuild, fixed)
    first = run_runbook(DOC, ProjectName="build")
    assert first["AutomationExecutionStatus"] == "Success", first.get("FailureMessage")
    assert _output(first, "RemovePrivilegedMode.Output")["PrivilegedModeAfter"] == "false"

    _get(codebuild, fixed)
    _get(codebuild, fixed)
    second = run_runbook(DOC, ProjectName="build")
    assert second["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in _output(second, "RemovePrivilegedMode.Output")["Message"]


@pytest.mark.parametrize("bad", [ARN, "-build", "b", "build/x"])
def test_document_rejects_a_malformed_name(run_runbook, codebuild, bad):
    with pytest.raises(ParameterValidationError, match="ProjectName"):
        run_runbook(DOC, ProjectName=bad)


def test_document_fails_on_a_missing_project(run_runbook, codebuild):
    _get(codebuild, None)
    out = run_runbook(DOC, ProjectName="build")
    assert out["AutomationExecutionStatus"] == "Failed"
    assert "ProjectName build: no such CodeBuild project" in out["FailureMessage"]
