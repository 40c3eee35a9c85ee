"""AWS CodeBuild: UpdateProject (moto 5.2 lacks it).

https://docs.aws.amazon.com/codebuild/latest/APIReference/API_UpdateProject.html
"Changes the settings of a build project." ``name`` (required) names the project and cannot be
changed; every other member given replaces that setting of the project as a whole (an
``environment`` given is the new environment: a member it leaves out, such as
``privilegedMode`` or ``environmentVariables``, is no longer set); members not given keep
their value. The response is ``{"project": Project}`` with the updated settings and a new
``lastModified``. Errors: ``ResourceNotFoundException`` (no such project),
``InvalidInputException`` (a value that is not valid). Value rules from the API reference's
data types:

* ProjectEnvironment (API_ProjectEnvironment.html): ``type``, ``image`` and ``computeType``
  are required; ``type`` and ``computeType`` take the listed values only;
* EnvironmentVariable (API_EnvironmentVariable.html): ``name`` and ``value`` required, ``type``
  one of ``PLAINTEXT`` | ``PARAMETER_STORE`` | ``SECRETS_MANAGER``;
* ``description`` at most 255 characters, ``timeoutInMinutes`` 5-2160,
  ``queuedTimeoutInMinutes`` 5-480, at most 50 ``tags``; ``serviceRole`` a role of the caller's
  account.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.codebuild.exceptions import InvalidInputException, ResourceNotFoundException
from moto.codebuild.models import CodeBuildBackend
from moto.codebuild.responses import CodeBuildResponse
from moto.core.responses import ActionResult
from moto.core.utils import unix_time
from moto.utilities.utils import get_partition

from asr.simulator.emulation import extends

_ENVIRONMENT_TYPES = (
    "WINDOWS_CONTAINER",
    "LINUX_CONTAINER",
    "LINUX_GPU_CONTAINER",
    "ARM_CONTAINER",
    "WINDOWS_SERVER_2019_CONTAINER",
    "WINDOWS_SERVER_2022_CONTAINER",
    "LINUX_LAMBDA_CONTAINER",
    "ARM_LAMBDA_CONTAINER",
    "LINUX_EC2",
    "ARM_EC2",
    "WINDOWS_EC2",
    "MAC_ARM",
)
_COMPUTE_TYPES = (
    "BUILD_GENERAL1_SMALL",
    "BUILD_GENERAL1_MEDIUM",
    "BUILD_GENERAL1_LARGE",
    "BUILD_GENERAL1_XLARGE",
    "BUILD_GENERAL1_2XLARGE",
    "BUILD_LAMBDA_1GB",
    "BUILD_LAMBDA_2GB",
    "BUILD_LAMBDA_4GB",
    "BUILD_LAMBDA_8GB",
    "BUILD_LAMBDA_10GB",
    "ATTRIBUTE_BASED_COMPUTE",
    "CUSTOM_INSTANCE_TYPE",
)
_VARIABLE_TYPES = ("PLAINTEXT", "PARAMETER_STORE", "SECRETS_MANAGER")
#: UpdateProject members (other than name) and the Project members they replace.
_SETTINGS = (
    "description",
    "source",
    "secondarySources",
    "sourceVersion",
    "secondarySourceVersions",
    "artifacts",
    "secondaryArtifacts",
    "cache",
    "environment",
    "serviceRole",
    "timeoutInMinutes",
    "queuedTimeoutInMinutes",
    "encryptionKey",
    "tags",
    "vpcConfig",
    "logsConfig",
    "fileSystemLocations",
    "buildBatchConfig",
    "concurrentBuildLimit",
    "autoRetryLimit",
)


def _check_environment(environment: dict[str, Any]) -> None:
    for member in ("type", "image", "computeType"):
        if not environment.get(member):
            raise InvalidInputException(f"Invalid environment: {member} is required")
    if environment["type"] not in _ENVIRONMENT_TYPES:
        raise InvalidInputException(f"Invalid type provided: {environment['type']}")
    if environment["computeType"] not in _COMPUTE_TYPES:
        raise InvalidInputException(f"Invalid compute type provided: {environment['computeType']}")
    for index, variable in enumerate(environment.get("environmentVariables") or []):
        if not variable.get("name") or "value" not in variable:
            raise InvalidInputException(f"Invalid environment variable {index}: name and value are required")
        if variable.get("type", "PLAINTEXT") not in _VARIABLE_TYPES:
            raise InvalidInputException(
                f"Invalid environment variable {variable['name']}: type {variable.get('type')!r} "
                f"is not one of {', '.join(_VARIABLE_TYPES)}"
            )


def _check(backend: CodeBuildBackend, updates: dict[str, Any]) -> None:
    if "environment" in updates:
        _check_environment(updates["environment"] or {})
    description = updates.get("description")
    if description is not None and len(description) > 255:
        raise InvalidInputException(f"Invalid description: {len(description)} characters, at most 255")
    for member, low, high in (("timeoutInMinutes", 5, 2160), ("queuedTimeoutInMinutes", 5, 480)):
        value = updates.get(member)
        if value is not None and not low <= int(value) <= high:
            raise InvalidInputException(f"Invalid {member}: {value} is not between {low} and {high}")
    if len(updates.get("tags") or []) > 50:
        raise InvalidInputException("Invalid tags: at most 50 tags")
    role = updates.get("serviceRole")
    if role and role.startswith("arn:"):
        prefix = f"arn:{get_partition(backend.region_name)}:iam::{backend.account_id}:role/"
        if not role.startswith(prefix):
            raise InvalidInputException("Invalid service role: Service role account ID does not match caller's account")


@extends(CodeBuildBackend)
def update_project(self: CodeBuildBackend, name: str, updates: dict[str, Any]) -> dict[str, Any]:
    """UpdateProject: the project's metadata with each given setting replaced (all or nothing)."""
    project = self.codebuild_projects.get(name)
    if project is None and name and name.startswith("arn:"):
        project = next((p for p in self.codebuild_projects.values() if p.arn == name), None)
    if project is None:
        arn = f"arn:{get_partition(self.region_name)}:codebuild:{self.region_name}:{self.account_id}:project/{name}"
        raise ResourceNotFoundException(f"Project cannot be found: {arn}")
    _check(self, updates)
    metadata = project.project_metadata
    for member, value in updates.items():
        if member == "serviceRole" and not value.startswith("arn:"):
            value = f"arn:{get_partition(self.region_name)}:iam::{self.account_id}:role/service-role/{value}"
        metadata[member] = copy.deepcopy(value)
        if member == "serviceRole":
            project.service_role = value
        if member == "tags":
            project.tags = metadata[member]
    # Project.lastModified (moto 5.2.5 keeps only its own "lastModifiedDate", which is no Project member; 5.2.6
    # also sets lastModified at creation): UpdateProject moves it on.
    metadata["lastModified"] = metadata["lastModifiedDate"] = unix_time()
    return metadata


@extends(CodeBuildResponse)
def update_project(self: CodeBuildResponse) -> ActionResult:  # noqa: F811 -- the response side of the same API
    name = self._get_param("name")
    if not name:
        raise InvalidInputException("Invalid project name: name is required")
    updates = {member: self._get_param(member) for member in _SETTINGS if self._get_param(member) is not None}
    return ActionResult({"project": self.codebuild_backend.update_project(name, updates)})
