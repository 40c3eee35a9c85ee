"""boto3 plumbing of the runner: partitions, assumed-role sessions, API calls."""

from __future__ import annotations

import re
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore import xform_name
from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from asr.simulator.datatypes import to_jsonable
from asr.simulator.errors import ConversionError, StepFailure

ACCOUNT_ID = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")


_LOADER = botocore.loaders.create_loader()


def new_session(**kwargs: Any) -> boto3.Session:
    """A boto3 session sharing one service-model loader with every other simulator session.

    Loading service models dominates the cost of a new session's first client; the
    runner makes a session per execution and per assumed role, so they share it.
    """
    core = botocore.session.Session()
    core.register_component("data_loader", _LOADER)
    return boto3.Session(botocore_session=core, **kwargs)


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def check_location(account_id: str, region: str) -> None:
    if not isinstance(account_id, str) or not ACCOUNT_ID.match(account_id):
        raise ValueError(f"account_id must be 12 digits, got {account_id!r}")
    if not isinstance(region, str) or not REGION.match(region):
        raise ValueError(f"region must look like 'us-east-1', got {region!r}")


def assume_role(base: boto3.Session, role_arn: str, region: str, session_name: str) -> boto3.Session:
    """A session acting as ``role_arn`` in ``region`` (credentials from STS)."""
    try:
        sts = base.client("sts", region_name=region)
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name[:64])["Credentials"]
    except (ClientError, BotoCoreError) as err:
        raise StepFailure(f"cannot assume role {role_arn!r}: {err}") from None
    return new_session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def assume_role_as_service(base: boto3.Session, role_arn: str, region: str, session_name: str) -> boto3.Session:
    """SSM assuming a document's AutomationAssumeRole: only the role's trust policy decides."""
    from asr.iam.enforcer import active

    enforcer = active()
    if enforcer is None:
        return assume_role(base, role_arn, region, session_name)
    with enforcer.as_service("ssm.amazonaws.com"):
        return assume_role(base, role_arn, region, session_name)


def authorize(session: boto3.Session, region: str, service: str, operation: str, params: dict[str, Any]) -> None:
    """Check, under an installed IAM enforcer, that ``session``'s principal may make this call.

    For what SSM authorizes itself without an API call of ours (starting a child automation).
    """
    from asr.iam.enforcer import active

    enforcer = active()
    if enforcer is None:
        return
    try:
        enforcer.check_call(session.client(service, region_name=region), operation, params)
    except ClientError as err:
        raise StepFailure(str(err)) from None


def method_name(client: BaseClient, service: str, api: str) -> str:
    """The boto3 method of an SSM ``Api`` name (PascalCase operation name)."""
    operations = client.meta.service_model.operation_names
    if api in operations:
        return xform_name(api)
    for operation in operations:
        if operation.lower() == str(api).lower():
            return xform_name(operation)
    raise StepFailure(f"Api {api!r} is not an operation of service {service!r}")


def call(client: BaseClient, service: str, api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Call one API; the response as JSON data without ResponseMetadata; StepFailure on error."""
    method = getattr(client, method_name(client, service, api))
    try:
        response = method(**params)
    except ClientError as err:
        raise StepFailure(str(err)) from None
    except BotoCoreError as err:
        raise StepFailure(f"{service}.{api}: {err}") from None
    response.pop("ResponseMetadata", None)
    try:
        return to_jsonable(_read_streams(response))
    except ConversionError as err:
        raise StepFailure(f"{service}.{api} response: {err}") from None


def _read_streams(response: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.read() if hasattr(v, "read") else v) for k, v in response.items()}
