"""boto3 plumbing shared by the handlers: clients, member-role sessions, parameters."""

from __future__ import annotations

import os
from contextvars import ContextVar
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from asr import solution

CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, user_agent_extra=f"AwsSolution/{solution.SOLUTION_ID}")
SESSION_NAME = "ASR-Orchestrator"
ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "InvalidClientTokenId"})


class AssumeRoleError(RuntimeError):
    """The member role could not be assumed (stack missing, or trust not set up)."""


#: Member sessions of the current unit of work (one resolve invocation, one worker message), by
#: (partition, account, Region): resolve's runbook checks and the policy's tag lookup share one
#: AssumeRole. None outside a scope: every call assumes anew.
_sessions: ContextVar[dict[tuple[str, str, str], boto3.Session] | None] = ContextVar(
    "asr_member_sessions", default=None
)


def session_scope() -> None:
    """Start a unit of work: member sessions are reused until the next call in this context. A
    scope lasts one invocation (far within the assumed credentials' hour), so nothing goes stale."""
    _sessions.set({})


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def client(service: str, region_name: str | None = None) -> Any:
    return boto3.client(service, region_name=region_name or region(), config=CONFIG)


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def role_arn(partition: str, account: str, role_name: str) -> str:
    return f"arn:{partition}:iam::{account}:role/{role_name}"


def member_session(partition: str, account: str, region_name: str) -> boto3.Session:
    """A session as ``SO0111-ASR-Orchestrator-Member`` in ``account`` / ``region_name`` (the scope's,
    when one is open and already has it)."""
    scope, key = _sessions.get(), (partition, account, region_name)
    if scope is not None and key in scope:
        return scope[key]
    arn = role_arn(partition, account, solution.ORCHESTRATOR_MEMBER_ROLE)
    try:
        creds = client("sts", region_name).assume_role(RoleArn=arn, RoleSessionName=SESSION_NAME)["Credentials"]
    except ClientError as err:
        raise AssumeRoleError(
            f"Unable to assume the Orchestrator Member Role ({solution.ORCHESTRATOR_MEMBER_ROLE}) in account "
            f"{account}: {error_code(err)}. Verify that the member roles stack is deployed in that account with "
            "this admin account as SecHubAdminAccount."
        ) from None
    session = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region_name,
    )
    if scope is not None:
        scope[key] = session
    return session


def get_parameter(name: str) -> str | None:
    """Value of an SSM parameter of this account/Region, or None when it does not exist."""
    try:
        return client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as err:
        if error_code(err) == "ParameterNotFound":
            return None
        raise
