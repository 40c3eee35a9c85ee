"""Seeders for the developer-tools controls: Amazon Athena workgroups and AWS CodeBuild projects.

Each seeder builds, in emulated AWS, the noncompliant shape the control's documentation
describes, next to what the remediation must leave alone: the workgroup's other settings and
another workgroup; the project's other environment variables, its other settings, its service
role's other policies and another project.

* Athena.4 (Config rule athena-workgroup-logging-enabled,
  https://docs.aws.amazon.com/config/latest/developerguide/athena-workgroup-logging-enabled.html):
  NON_COMPLIANT when the workgroup's ``PublishCloudWatchMetricsEnabled`` is false.
* CodeBuild.2 (codebuild-project-envvar-awscred-check,
  https://docs.aws.amazon.com/securityhub/latest/userguide/codebuild-controls.html#codebuild-2):
  fails when the environment holds ``AWS_ACCESS_KEY_ID`` or ``AWS_SECRET_ACCESS_KEY`` as plaintext.
* CodeBuild.5 (codebuild-project-environment-privileged-check,
  https://docs.aws.amazon.com/securityhub/latest/userguide/codebuild-controls.html#codebuild-5):
  fails when ``environment.privilegedMode`` is true.

moto 5.2 has no Athena UpdateWorkGroup nor CodeBuild UpdateProject: asr/simulator/emulation
adds them (athena.py, codebuild.py) from the AWS API reference.
"""

from __future__ import annotations

import json
from typing import Any

from asr.controls import Resource
from asr.simulator.seeds import Seeded, Where, seeder

# --------------------------------------------------------------------------- Athena

_WORKGROUP_SETTINGS = {
    "ResultConfiguration": {
        "OutputLocation": "s3://seeded-athena-results/queries/",
        "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
    },
    "EnforceWorkGroupConfiguration": True,
    "PublishCloudWatchMetricsEnabled": False,
    "BytesScannedCutoffPerQuery": 10_000_000_000,
    "RequesterPaysEnabled": True,
}


def _workgroup_view(where: Where, name: str) -> dict[str, Any]:
    group = where.client("athena").get_work_group(WorkGroup=name)["WorkGroup"]
    return {
        "State": group.get("State"),
        "Description": group.get("Description"),
        "Configuration": group.get("Configuration"),
    }


def _workgroup_tags(where: Where, name: str) -> list[dict[str, str]]:
    arn = f"arn:{where.partition}:athena:{where.region}:{where.account}:workgroup/{name}"
    tags = where.client("athena").list_tags_for_resource(ResourceARN=arn).get("Tags", [])
    return sorted(tags, key=lambda t: t["Key"])


@seeder("Athena.4")
def workgroup_without_metrics(where: Where) -> Seeded:
    """A workgroup that does not publish its query metrics to CloudWatch, with a result location,
    encryption, a per-query data limit, requester pays and tags the remediation must keep; another
    workgroup without metrics stays so."""
    athena = where.client("athena")
    for name, description in (("seeded-analysts", "seeded workgroup"), ("seeded-bystander", "bystander")):
        athena.create_work_group(
            Name=name,
            Description=description,
            Configuration=json.loads(json.dumps(_WORKGROUP_SETTINGS)),
            Tags=[{"Key": "team", "Value": name}],
        )

    def settings(name: str) -> dict[str, Any]:
        view = _workgroup_view(where, name)
        config = dict(view["Configuration"] or {})
        config.pop("PublishCloudWatchMetricsEnabled", None)
        return {**view, "Configuration": config}

    arn = f"arn:{where.partition}:athena:{where.region}:{where.account}:workgroup/seeded-analysts"
    return Seeded(
        resource=Resource.of_arn(arn, "AwsAthenaWorkGroup"),
        state=lambda: _workgroup_view(where, "seeded-analysts"),
        bystanders=lambda: (
            settings("seeded-analysts"),
            _workgroup_tags(where, "seeded-analysts"),
            _workgroup_view(where, "seeded-bystander"),
            _workgroup_view(where, "primary"),
        ),
    )


# --------------------------------------------------------------------------- CodeBuild

_CODEBUILD_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
#: An AWS access key pair as found pasted into build environments (AWS's documented example key).
ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _service_role(where: Where, name: str, path: str = "/") -> str:
    """A CodeBuild service role with an inline policy of its own (which the remediation must keep)."""
    iam = where.client("iam")
    arn = iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=_CODEBUILD_TRUST)["Role"]["Arn"]
    logs = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": "*"}],
    }
    iam.put_role_policy(RoleName=name, PolicyName="build-logs", PolicyDocument=json.dumps(logs))
    return str(arn)


def _project(where: Where, name: str, role_arn: str, variables: list[dict[str, str]], privileged: bool) -> str:
    project = where.client("codebuild").create_project(
        name=name,
        description=f"seeded {name}",
        source={"type": "GITHUB", "location": "https://github.com/example/app.git", "buildspec": "buildspec.yml"},
        artifacts={"type": "S3", "location": "seeded-build-artifacts"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/amazonlinux2-x86_64-standard:5.0",
            "computeType": "BUILD_GENERAL1_SMALL",
            "environmentVariables": variables,
            "privilegedMode": privileged,
            "imagePullCredentialsType": "CODEBUILD",
        },
        serviceRole=role_arn,
        timeoutInMinutes=30,
        tags=[{"key": "team", "value": "build"}],
    )["project"]
    return str(project["arn"])


def _project_view(where: Where, name: str) -> dict[str, Any]:
    [project] = where.client("codebuild").batch_get_projects(names=[name])["projects"]
    keep = ("description", "source", "artifacts", "serviceRole", "timeoutInMinutes", "tags", "environment")
    return {key: project.get(key) for key in keep}


def _without(view: dict[str, Any], *environment_keys: str) -> dict[str, Any]:
    """``view`` minus the environment keys the remediation may change."""
    environment = {k: v for k, v in (view.get("environment") or {}).items() if k not in environment_keys}
    return {**view, "environment": environment}


def _variables(where: Where, name: str) -> list[dict[str, str]]:
    [project] = where.client("codebuild").batch_get_projects(names=[name])["projects"]
    return list((project.get("environment") or {}).get("environmentVariables") or [])


def _role_policies(where: Where, role_name: str) -> tuple[list[str], list[str]]:
    iam = where.client("iam")
    attached = sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"])
    inline = sorted(iam.list_role_policies(RoleName=role_name)["PolicyNames"])
    return attached, inline


def _parameters(where: Where, prefix: str) -> list[tuple[str, str, int]]:
    ssm = where.client("ssm")
    pages = ssm.get_paginator("describe_parameters").paginate(
        ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": [prefix]}]
    )
    return sorted((p["Name"], p["Type"], p["Version"]) for page in pages for p in page["Parameters"])


def _plaintext_credentials_seed(
    where: Where, variables: list[dict[str, str]], *, role_path: str = "/", parameter: tuple[str, str] | None = None
) -> Seeded:
    """Project ``seeded-app`` with ``variables``; its service role; another project with the same
    plaintext keys (left alone); a parameter of another project under /CodeBuild/."""
    role_name = "seeded-codebuild-role"
    role_arn = _service_role(where, role_name, role_path)
    other_role = "seeded-codebuild-other-role"
    other_arn = _service_role(where, other_role)
    arn = _project(where, "seeded-app", role_arn, variables, privileged=False)
    _project(where, "seeded-other", other_arn, variables, privileged=False)
    ssm = where.client("ssm")
    ssm.put_parameter(Name="/CodeBuild/seeded-other/env/DB_HOST", Value="db.internal", Type="String")
    if parameter:
        ssm.put_parameter(Name=parameter[0], Value=parameter[1], Type="SecureString")
    plaintext = {
        v["name"]
        for v in variables
        if v["name"] in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") and v.get("type", "PLAINTEXT") == "PLAINTEXT"
    }

    def kept_variables() -> list[dict[str, str]]:
        """Every variable but the plaintext credentials, in order (PARAMETER_STORE ones included)."""
        return [v for v in _variables(where, "seeded-app") if v["name"] not in plaintext]

    return Seeded(
        resource=Resource.of_arn(arn, "AwsCodeBuildProject"),
        state=lambda: (
            _variables(where, "seeded-app"),
            _parameters(where, "/CodeBuild/seeded-app/"),
            _role_policies(where, role_name),
        ),
        bystanders=lambda: (
            kept_variables(),
            _without(_project_view(where, "seeded-app"), "environmentVariables"),
            _project_view(where, "seeded-other"),
            _role_policies(where, other_role),
            _role_policies(where, role_name)[1],
            _parameters(where, "/CodeBuild/seeded-other/"),
        ),
    )


def _plain(name: str, value: str) -> dict[str, str]:
    return {"name": name, "value": value, "type": "PLAINTEXT"}


@seeder("CodeBuild.2")
def plaintext_aws_credentials(where: Where) -> Seeded:
    """Both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in plaintext, next to an unrelated plaintext
    variable, a PARAMETER_STORE variable and a SECRETS_MANAGER variable that must stay as they are."""
    return _plaintext_credentials_seed(
        where,
        [
            {"name": "STAGE", "value": "prod", "type": "PLAINTEXT"},
            _plain("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID),
            {"name": "DB_PASSWORD", "value": "/app/db/password", "type": "PARAMETER_STORE"},
            _plain("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY),
            {"name": "API_TOKEN", "value": "app/api:token", "type": "SECRETS_MANAGER"},
        ],
    )


@seeder("CodeBuild.2", shape="secret-key-only")
def plaintext_secret_key_only(where: Where) -> Seeded:
    """Only AWS_SECRET_ACCESS_KEY in plaintext; AWS_ACCESS_KEY_ID already comes from Parameter Store
    (it must stay pointing where it points) next to another plaintext variable."""
    return _plaintext_credentials_seed(
        where,
        [
            {"name": "AWS_ACCESS_KEY_ID", "value": "/ci/access-key-id", "type": "PARAMETER_STORE"},
            _plain("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY),
            _plain("REGION", "eu-west-1"),
        ],
    )


@seeder("CodeBuild.2", shape="service-role-path")
def credentials_with_a_service_role_path(where: Where) -> Seeded:
    """The console's shape: the service role lives under the path /service-role/; a SecureString left
    at the target parameter name by an earlier, different key is replaced by the project's key."""
    return _plaintext_credentials_seed(
        where,
        [_plain("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID), _plain("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)],
        role_path="/service-role/",
        parameter=("/CodeBuild/seeded-app/env/AWS_ACCESS_KEY_ID", "AKIAOLDKEYEXAMPLE0000"),
    )


@seeder("CodeBuild.5")
def privileged_project(where: Where) -> Seeded:
    """A project whose build environment runs privileged (Docker daemon), with environment variables,
    image and compute type the remediation must send back unchanged; another privileged project
    stays privileged."""
    role = _service_role(where, "seeded-codebuild5-role")
    variables = [
        _plain("STAGE", "prod"),
        {"name": "DB_PASSWORD", "value": "/app/db/password", "type": "PARAMETER_STORE"},
    ]
    arn = _project(where, "seeded-docker", role, variables, privileged=True)
    _project(where, "seeded-docker-other", role, variables, privileged=True)
    return Seeded(
        resource=Resource.of_arn(arn, "AwsCodeBuildProject"),
        state=lambda: _project_view(where, "seeded-docker")["environment"].get("privilegedMode"),
        bystanders=lambda: (
            _without(_project_view(where, "seeded-docker"), "privilegedMode"),
            _project_view(where, "seeded-docker-other"),
        ),
    )
