"""ASR-RemoveCodeBuildPrivilegedMode through the runner.

Two ways: with a botocore Stubber checked against the real API shapes (request and
response), patched into the document's script through boto3.client -- any call not expected
fails the test, which proves the exact requests; and on moto, whose missing UpdateProject
asr/simulator/emulation/codebuild.py adds from the API reference, which proves the effect on
the project and on another project.
"""

from __future__ import annotations

import boto3
import pytest

from asr.simulator.errors import ParameterValidationError
from tests.remediations.helpers import step_output
from tests.remediations.helpers.stubs import stubbed_boto3_client

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
    with stubbed_boto3_client(monkeypatch, "codebuild") as stub:
        yield stub


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
    assert step_output(first, "RemovePrivilegedMode.Output")["PrivilegedModeAfter"] == "false"

    _get(codebuild, fixed)
    _get(codebuild, fixed)
    second = run_runbook(DOC, ProjectName="build")
    assert second["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in step_output(second, "RemovePrivilegedMode.Output")["Message"]


@pytest.mark.parametrize("bad", [ARN, "-build", "b", "build/x"])
def test_document_rejects_a_malformed_name(run_runbook, codebuild, bad):
    with pytest.raises(ParameterValidationError, match="ProjectName"):
        run_runbook(DOC, ProjectName=bad)


def test_document_fails_on_a_missing_project(run_runbook, codebuild):
    _get(codebuild, None)
    out = run_runbook(DOC, ProjectName="build")
    assert out["AutomationExecutionStatus"] == "Failed"
    assert "ProjectName build: no such CodeBuild project" in out["FailureMessage"]


# --- on emulated CodeBuild (moto + asr/simulator/emulation/codebuild.py) ---------------------------


def _create(codebuild, name: str) -> None:
    codebuild.create_project(
        name=name,
        source={"type": "S3", "location": "bucket/source.zip"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment=ENV,
        serviceRole="arn:aws:iam::111111111111:role/cb",
        timeoutInMinutes=30,
    )


def _moto_project(codebuild, name: str) -> dict:
    found = codebuild.batch_get_projects(names=[name])["projects"][0]
    return {k: v for k, v in found.items() if k not in ("lastModified",)}


def test_document_on_emulated_codebuild_changes_only_privileged_mode(run_runbook):
    codebuild = boto3.client("codebuild", region_name="us-east-1")
    _create(codebuild, "build")
    _create(codebuild, "other")
    before, other = _moto_project(codebuild, "build"), _moto_project(codebuild, "other")
    first = run_runbook(DOC, ProjectName="build")
    assert first["AutomationExecutionStatus"] == "Success", first.get("FailureMessage")
    after = _moto_project(codebuild, "build")
    assert after["environment"] == {**ENV, "privilegedMode": False}
    assert {k: v for k, v in after.items() if k != "environment"} == {
        k: v for k, v in before.items() if k != "environment"
    }
    assert _moto_project(codebuild, "other") == other

    second = run_runbook(DOC, ProjectName="build")
    assert second["AutomationExecutionStatus"] == "Success", second.get("FailureMessage")
    assert "nothing changed" in step_output(second, "RemovePrivilegedMode.Output")["Message"]
    assert _moto_project(codebuild, "build") == after


def test_document_on_emulated_codebuild_fails_on_a_missing_project(run_runbook):
    out = run_runbook(DOC, ProjectName="ghost")
    assert out["AutomationExecutionStatus"] == "Failed"
    assert "ProjectName ghost: no such CodeBuild project" in out["FailureMessage"]
