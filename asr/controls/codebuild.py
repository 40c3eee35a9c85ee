"""AWS CodeBuild controls."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from asr.controls.base import Context, EvaluationError, Resource, Verdict, control, failed, passed

_DOC = "https://docs.aws.amazon.com/securityhub/latest/userguide/codebuild-controls.html"
_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


def _project(ctx: Context, control_id: str, resource: Resource) -> dict[str, Any]:
    name = resource.id.split(":project/", 1)[1] if ":project/" in resource.id else resource.id
    codebuild = ctx.client("codebuild")
    try:
        projects = codebuild.batch_get_projects(names=[name]).get("projects", [])
    except (ClientError, BotoCoreError) as err:
        raise EvaluationError(f"{control_id}: cannot read project {resource.id!r}: {err}") from None
    if not projects:
        raise EvaluationError(f"{control_id}: project {name!r} not found")
    return projects[0]


@control("CodeBuild.2", doc=f"{_DOC}#codebuild-2", resource_types=("AwsCodeBuildProject",))
def no_plaintext_aws_credentials(ctx: Context, resource: Resource) -> Verdict:
    """CodeBuild.2 (Config rule codebuild-project-envvar-awscred-check): the project's environment
    variables must not hold AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY in plaintext (type PLAINTEXT,
    the default). Variables of type PARAMETER_STORE or SECRETS_MANAGER only name where the value
    is kept and pass."""
    project = _project(ctx, "CodeBuild.2", resource)
    variables = (project.get("environment") or {}).get("environmentVariables", [])
    plaintext = [
        v["name"]
        for v in variables
        if v.get("name") in _CREDENTIAL_VARIABLES and v.get("type", "PLAINTEXT") == "PLAINTEXT"
    ]
    if plaintext:
        return failed(f"environment variable(s) {', '.join(plaintext)} are of type PLAINTEXT")
    return passed("no PLAINTEXT AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY environment variable")


@control("CodeBuild.5", doc=f"{_DOC}#codebuild-5", resource_types=("AwsCodeBuildProject",))
def environment_not_privileged(ctx: Context, resource: Resource) -> Verdict:
    """CodeBuild.5 (Config rule codebuild-project-environment-privileged-check): the project's build
    environment must not run in privileged mode (``privilegedMode`` true fails)."""
    project = _project(ctx, "CodeBuild.5", resource)
    if (project.get("environment") or {}).get("privilegedMode") is True:
        return failed("environment.privilegedMode is true")
    return passed("environment.privilegedMode is false")
