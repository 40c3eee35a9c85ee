"""asr/simulator/emulation/codebuild.py through boto3 under moto: UpdateProject as the CodeBuild API
reference describes it (https://docs.aws.amazon.com/codebuild/latest/APIReference/API_UpdateProject.html)."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from asr.simulator import emulation
from tests.conftest import ACCOUNT, REGION, multi_account_moto

ROLE = f"arn:aws:iam::{ACCOUNT}:role/build"
ENVIRONMENT = {
    "type": "LINUX_CONTAINER",
    "image": "aws/codebuild/standard:7.0",
    "computeType": "BUILD_GENERAL1_SMALL",
    "privilegedMode": True,
    "environmentVariables": [
        {"name": "STAGE", "value": "prod", "type": "PLAINTEXT"},
        {"name": "DB", "value": "/app/db", "type": "PARAMETER_STORE"},
    ],
}


@pytest.fixture
def codebuild(monkeypatch):
    with multi_account_moto(monkeypatch):
        client = boto3.client("codebuild", region_name=REGION)
        for name in ("app", "other"):
            client.create_project(
                name=name,
                source={"type": "S3", "location": "bucket/source.zip"},
                artifacts={"type": "NO_ARTIFACTS"},
                environment=ENVIRONMENT,
                serviceRole=ROLE,
                timeoutInMinutes=30,
            )
        yield client


def project(codebuild, name="app") -> dict:
    return codebuild.batch_get_projects(names=[name])["projects"][0]


def test_the_extensions_are_installed():
    names = {(e.target.__name__, e.name) for e in emulation.install()}
    assert {("CodeBuildBackend", "update_project"), ("CodeBuildResponse", "update_project")} <= names


def test_update_replaces_the_given_setting_and_keeps_the_others(codebuild):
    before = project(codebuild)
    answer = codebuild.update_project(name="app", environment={**ENVIRONMENT, "privilegedMode": False})["project"]
    after = project(codebuild)
    assert answer["environment"] == after["environment"] == {**ENVIRONMENT, "privilegedMode": False}
    for key in ("source", "artifacts", "serviceRole", "timeoutInMinutes", "arn", "name"):
        assert after[key] == before[key], key
    # moto 5.2.6 sets lastModified at creation, 5.2.5 does not: the update must move it on either way.
    assert after["lastModified"] >= before.get("lastModified", before["created"])
    assert after["lastModified"] != before.get("lastModified")
    assert project(codebuild, "other")["environment"]["privilegedMode"] is True


def test_an_environment_given_is_the_whole_new_environment(codebuild):
    minimal = {k: ENVIRONMENT[k] for k in ("type", "image", "computeType")}
    codebuild.update_project(name="app", environment=minimal)
    environment = project(codebuild)["environment"]
    assert environment == minimal
    assert "environmentVariables" not in environment and "privilegedMode" not in environment


def test_other_settings_and_project_arn(codebuild):
    arn = project(codebuild)["arn"]
    codebuild.update_project(name=arn, description="new", timeoutInMinutes=60)
    after = project(codebuild)
    assert (after["description"], after["timeoutInMinutes"]) == ("new", 60)
    assert after["environment"] == ENVIRONMENT


def test_a_missing_project_is_not_found(codebuild):
    with pytest.raises(ClientError) as caught:
        codebuild.update_project(name="ghost", description="x")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert "project/ghost" in caught.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("updates", "message"),
    [
        ({"environment": {**ENVIRONMENT, "computeType": "BUILD_HUGE"}}, "BUILD_HUGE"),
        ({"environment": {**ENVIRONMENT, "type": "LINUX_VM"}}, "LINUX_VM"),
        (
            {"environment": {**ENVIRONMENT, "environmentVariables": [{"name": "X", "value": "y", "type": "VAULT"}]}},
            "VAULT",
        ),
        ({"timeoutInMinutes": 3000}, "timeoutInMinutes"),
        ({"description": "d" * 256}, "description"),
        ({"serviceRole": "arn:aws:iam::222222222222:role/build"}, "service role"),
    ],
)
def test_invalid_input_is_refused_and_changes_nothing(codebuild, updates, message):
    before = project(codebuild)
    with pytest.raises(ClientError) as caught:
        codebuild.update_project(name="app", **updates)
    assert caught.value.response["Error"]["Code"] == "InvalidInputException"
    assert message in caught.value.response["Error"]["Message"]
    assert project(codebuild) == before
