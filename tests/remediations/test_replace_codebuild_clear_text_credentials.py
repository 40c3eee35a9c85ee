"""ASR-ReplaceCodeBuildClearTextCredentials through the runner.

Two ways: with the CodeBuild client a botocore Stubber checked against the real API shapes,
patched into the script through boto3.client (SSM and IAM on moto) -- any CodeBuild call not
expected fails the test, which proves the exact requests; and all on moto, whose missing
UpdateProject asr/simulator/emulation/codebuild.py adds from the API reference, which proves the
effect on the project, its service role and another project.
"""

from __future__ import annotations

import json

import boto3
import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.replace_codebuild_clear_text_credentials import policy_name
from tests.remediations.helpers import step_output
from tests.remediations.helpers.stubs import stubbed_boto3_client

DOC = "ReplaceCodeBuildClearTextCredentials"
ARN = "arn:aws:codebuild:us-east-1:111111111111:project/build"
POLICY = "arn:aws:iam::111111111111:policy/CodeBuildSSMParameterPolicy-build-us-east-1"
VARS = [
    {"name": "AWS_ACCESS_KEY_ID", "value": "AKIAEXAMPLEEXAMPLE12", "type": "PLAINTEXT"},
    {"name": "aws_secret_access_key", "value": "s3cr3t/EXAMPLE", "type": "PLAINTEXT"},
    {"name": "STAGE", "value": "prod", "type": "PLAINTEXT"},
    {"name": "DB_PASSWORD", "value": "/app/db", "type": "PARAMETER_STORE"},
]
FIXED = [
    {"name": "AWS_ACCESS_KEY_ID", "value": "/CodeBuild/build/env/AWS_ACCESS_KEY_ID", "type": "PARAMETER_STORE"},
    {"name": "aws_secret_access_key", "value": "/CodeBuild/build/env/aws_secret_access_key", "type": "PARAMETER_STORE"},
    *VARS[2:],
]


def env(variables: list) -> dict:
    return {
        "type": "LINUX_CONTAINER",
        "image": "aws/codebuild/standard:7.0",
        "computeType": "BUILD_GENERAL1_SMALL",
        "environmentVariables": variables,
        "privilegedMode": False,
    }


def project(variables: list) -> dict:
    return {
        "name": "build",
        "arn": ARN,
        "environment": env(variables),
        "serviceRole": "arn:aws:iam::111111111111:role/service-role/cb-role",
    }


@pytest.fixture
def codebuild(aws, monkeypatch):
    with stubbed_boto3_client(monkeypatch, "codebuild") as stub:
        boto3.client("iam").create_role(RoleName="cb-role", Path="/service-role/", AssumeRolePolicyDocument="{}")
        boto3.client("iam").create_role(RoleName="bystander", AssumeRolePolicyDocument="{}")
        yield stub


def _get(stub, variables: list | None) -> None:
    response = {"projects": [project(variables)]} if variables else {"projects": [], "projectsNotFound": ["build"]}
    stub.add_response("batch_get_projects", response, {"names": ["build"]})


def _attached(role: str) -> list[str]:
    return [p["PolicyArn"] for p in boto3.client("iam").list_attached_role_policies(RoleName=role)["AttachedPolicies"]]


def _parameters() -> dict:
    ssm = boto3.client("ssm")
    names = [p["Name"] for p in ssm.describe_parameters()["Parameters"]]
    return {n: ssm.get_parameter(Name=n, WithDecryption=True)["Parameter"] for n in names}


def test_document_moves_only_the_credentials_then_changes_nothing(run_runbook, codebuild):
    _get(codebuild, VARS)
    codebuild.add_response("update_project", {"project": project(FIXED)}, {"name": "build", "environment": env(FIXED)})
    _get(codebuild, FIXED)
    first = run_runbook(DOC, ProjectName="build")
    assert first["AutomationExecutionStatus"] == "Success", first.get("FailureMessage")
    params = _parameters()
    assert {n: (p["Type"], p["Value"]) for n, p in params.items()} == {
        "/CodeBuild/build/env/AWS_ACCESS_KEY_ID": ("SecureString", "AKIAEXAMPLEEXAMPLE12"),
        "/CodeBuild/build/env/aws_secret_access_key": ("SecureString", "s3cr3t/EXAMPLE"),
    }
    assert _attached("cb-role") == [POLICY] and _attached("bystander") == []
    statement = json.loads(
        json.dumps(
            boto3.client("iam").get_policy_version(PolicyArn=POLICY, VersionId="v1")["PolicyVersion"]["Document"]
        )
    )["Statement"][0]
    assert statement["Resource"] == "arn:aws:ssm:us-east-1:111111111111:parameter/CodeBuild/build/*"
    out = step_output(first, "ReplaceCredentials.Output")
    assert "s3cr3t" not in json.dumps(first["Outputs"]) and out["Policy"] == POLICY

    _get(codebuild, FIXED)
    second = run_runbook(DOC, ProjectName="build")
    assert second["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in step_output(second, "ReplaceCredentials.Output")["Message"]
    assert _parameters() == params and _attached("cb-role") == [POLICY]


def test_document_finishes_a_half_done_run_without_duplicates(run_runbook, codebuild):
    boto3.client("ssm").put_parameter(
        Name="/CodeBuild/build/env/AWS_ACCESS_KEY_ID", Value="AKIAEXAMPLEEXAMPLE12", Type="SecureString"
    )
    _get(codebuild, VARS)
    codebuild.add_response("update_project", {"project": project(FIXED)}, {"name": "build", "environment": env(FIXED)})
    _get(codebuild, FIXED)
    out = run_runbook(DOC, ProjectName="build")
    assert out["AutomationExecutionStatus"] == "Success", out.get("FailureMessage")
    assert _parameters()["/CodeBuild/build/env/AWS_ACCESS_KEY_ID"]["Version"] == 1


@pytest.mark.parametrize("bad", [ARN, "_build", "build name"])
def test_document_rejects_a_malformed_name(run_runbook, codebuild, bad):
    with pytest.raises(ParameterValidationError, match="ProjectName"):
        run_runbook(DOC, ProjectName=bad)


def test_document_fails_on_a_missing_project_and_changes_nothing(run_runbook, codebuild):
    _get(codebuild, None)
    out = run_runbook(DOC, ProjectName="build")
    assert out["AutomationExecutionStatus"] == "Failed"
    assert "ProjectName build: no such CodeBuild project" in out["FailureMessage"]
    assert _parameters() == {} and _attached("cb-role") == []


def test_long_project_names_still_give_a_valid_policy_name():
    name = policy_name("p" * 255, "us-gov-west-1")
    assert len(name) <= 128 and name.endswith("-us-gov-west-1")


# --- on emulated CodeBuild (moto + asr/simulator/emulation/codebuild.py) ---------------------------


def test_document_on_emulated_codebuild_moves_the_credentials_and_keeps_the_rest(run_runbook):
    iam, codebuild = boto3.client("iam"), boto3.client("codebuild")
    role = iam.create_role(RoleName="cb-role", Path="/service-role/", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    for name in ("build", "other"):
        codebuild.create_project(
            name=name,
            source={"type": "S3", "location": "bucket/source.zip"},
            artifacts={"type": "NO_ARTIFACTS"},
            environment=env(VARS),
            serviceRole=role,
        )
    other = codebuild.batch_get_projects(names=["other"])["projects"][0]
    first = run_runbook(DOC, ProjectName="build")
    assert first["AutomationExecutionStatus"] == "Success", first.get("FailureMessage")
    project_after = codebuild.batch_get_projects(names=["build"])["projects"][0]
    assert project_after["environment"] == env(FIXED)
    assert {n: (p["Type"], p["Value"]) for n, p in _parameters().items()} == {
        "/CodeBuild/build/env/AWS_ACCESS_KEY_ID": ("SecureString", "AKIAEXAMPLEEXAMPLE12"),
        "/CodeBuild/build/env/aws_secret_access_key": ("SecureString", "s3cr3t/EXAMPLE"),
    }
    assert _attached("cb-role") == [POLICY]
    assert codebuild.batch_get_projects(names=["other"])["projects"][0] == other

    params = _parameters()
    second = run_runbook(DOC, ProjectName="build")
    assert second["AutomationExecutionStatus"] == "Success", second.get("FailureMessage")
    assert "nothing changed" in step_output(second, "ReplaceCredentials.Output")["Message"]
    assert _parameters() == params and _attached("cb-role") == [POLICY]
    assert codebuild.batch_get_projects(names=["build"])["projects"][0]["environment"] == env(FIXED)
