"""ASR-ReplaceCodeBuildClearTextCredentials: move plaintext AWS keys of a CodeBuild project to SSM SecureStrings."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
CREDENTIAL_NAMES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
POLICY_PREFIX = "CodeBuildSSMParameterPolicy-"
MAX_POLICY_NAME = 128


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _project(codebuild: Any, name: str) -> dict[str, Any]:
    found = codebuild.batch_get_projects(names=[name])["projects"]
    if not found:
        raise RemediationError(f"ProjectName {name}: no such CodeBuild project in this account and Region")
    return found[0]


def is_clear_text_credential(variable: dict[str, Any]) -> bool:
    return variable.get("type", "PLAINTEXT") == "PLAINTEXT" and variable["name"].upper() in CREDENTIAL_NAMES


def parameter_name(project: str, variable: str) -> str:
    return f"/CodeBuild/{project}/env/{variable}"


def policy_name(project: str, region: str) -> str:
    name = f"{POLICY_PREFIX}{project}-{region}"
    if len(name) <= MAX_POLICY_NAME:
        return name
    digest = hashlib.sha256(project.encode()).hexdigest()[:8]
    room = MAX_POLICY_NAME - len(POLICY_PREFIX) - len(region) - len(digest) - 2
    return f"{POLICY_PREFIX}{project[:room]}-{digest}-{region}"


def _store(ssm: Any, name: str, value: str) -> str:
    """Put the value as a SecureString; reuse an identical one from an earlier run."""
    try:
        if ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == value:
            return "reused"
    except ssm.exceptions.ParameterNotFound:
        pass
    ssm.put_parameter(
        Name=name,
        Value=value,
        Type="SecureString",
        Overwrite=True,
        Description="Moved out of CodeBuild plaintext environment by ASR",
    )
    return "stored"


def _grant(iam: Any, project: dict[str, Any]) -> str:
    """Policy that lets the project's service role read its parameters, attached to that role."""
    _, partition, _, region, account, _ = project["arn"].split(":", 5)
    name = policy_name(project["name"], region)
    arn = f"arn:{partition}:iam::{account}:policy/{name}"
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:GetParameters"],
                "Resource": f"arn:{partition}:ssm:{region}:{account}:parameter/CodeBuild/{project['name']}/*",
            }
        ],
    }
    try:
        iam.get_policy(PolicyArn=arn)
    except iam.exceptions.NoSuchEntityException:
        iam.create_policy(
            PolicyName=name,
            PolicyDocument=json.dumps(document),
            Description="Lets a CodeBuild project read its credentials moved by ASR",
        )
    role = project["serviceRole"].rsplit("/", 1)[-1]
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    return arn


def replace_credentials(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    name = event["ProjectName"]
    codebuild = boto3.client("codebuild", config=BOTO_CONFIG)
    project = _project(codebuild, name)
    environment = project["environment"]
    variables = environment.get("environmentVariables") or []
    moving = [v for v in variables if is_clear_text_credential(v)]
    if not moving:
        return {
            "ProjectName": name,
            "MovedVariables": [],
            "Parameters": [],
            "Policy": "",
            "Message": "No plaintext AWS credential variable; nothing changed.",
        }
    if not project.get("serviceRole"):
        raise RemediationError(
            f"ProjectName {name}: the project has no service role to read the parameters; nothing changed"
        )
    ssm, iam = boto3.client("ssm", config=BOTO_CONFIG), boto3.client("iam", config=BOTO_CONFIG)
    for variable in moving:
        _store(ssm, parameter_name(name, variable["name"]), variable["value"])
    policy = _grant(iam, project)
    replaced = [
        {"name": v["name"], "value": parameter_name(name, v["name"]), "type": "PARAMETER_STORE"}
        if is_clear_text_credential(v)
        else v
        for v in variables
    ]
    codebuild.update_project(name=name, environment={**environment, "environmentVariables": replaced})
    left = [
        v["name"]
        for v in _project(codebuild, name)["environment"].get("environmentVariables") or ()
        if is_clear_text_credential(v)
    ]
    if left:
        raise RemediationError(f"ProjectName {name}: variables {left} are still plaintext after the update")
    return {
        "ProjectName": name,
        "MovedVariables": [v["name"] for v in moving],
        "Parameters": [parameter_name(name, v["name"]) for v in moving],
        "Policy": policy,
        "Message": f"Moved {len(moving)} credential variable(s) to SSM SecureString parameters.",
    }
