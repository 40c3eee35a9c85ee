"""ASR-CreateIAMSupportRole: make sure the account has a role for AWS Support incidents."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
ROLE_NAME = "aws_incident_support_role"
# IAM is eventually consistent: a change is read back for up to 30 seconds
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
VERIFY_ATTEMPTS = 7
VERIFY_INTERVAL_SECONDS = 5


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def trust_policy(partition: str, account: str) -> dict[str, Any]:
    """Only principals of this account that are allowed sts:AssumeRole may use the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def _trusted_principals(document: Any) -> set[str]:
    if isinstance(document, str):
        document = json.loads(unquote(document))
    principals: set[str] = set()
    for statement in document.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal", {})
        values = principal.get("AWS", []) if isinstance(principal, dict) else [principal]
        principals.update([values] if isinstance(values, str) else values)
        if isinstance(principal, dict) and set(principal) - {"AWS"}:
            principals.update(f"{kind}:{value}" for kind, value in principal.items() if kind != "AWS")
    return principals


def _existing_role(iam: Any) -> dict[str, Any] | None:
    try:
        return iam.get_role(RoleName=ROLE_NAME)["Role"]
    except iam.exceptions.NoSuchEntityException:
        return None


def _has_policy(iam: Any, policy_arn: str) -> bool:
    marker: dict[str, str] = {}
    while True:
        page = iam.list_attached_role_policies(RoleName=ROLE_NAME, **marker)
        if any(p["PolicyArn"] == policy_arn for p in page["AttachedPolicies"]):
            return True
        if not page.get("IsTruncated"):
            return False
        marker = {"Marker": page["Marker"]}


def _eventually_has_policy(iam: Any, policy_arn: str, sleep: Callable[[float], None]) -> bool:
    found = _has_policy(iam, policy_arn)
    for _ in range(VERIFY_ATTEMPTS - 1):
        if found:
            break
        sleep(VERIFY_INTERVAL_SECONDS)
        found = _has_policy(iam, policy_arn)
    return found


def create_iam_support_role(
    _event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, str]:
    caller = boto3.client("sts", config=BOTO_CONFIG).get_caller_identity()
    account, partition = caller["Account"], caller["Arn"].split(":")[1]
    policy_arn = f"arn:{partition}:iam::aws:policy/AWSSupportAccess"
    iam = boto3.client("iam", config=BOTO_CONFIG)
    role = _existing_role(iam)
    created = role is None
    if created:
        role = iam.create_role(
            RoleName=ROLE_NAME,
            AssumeRolePolicyDocument=json.dumps(trust_policy(partition, account)),
            Description="Lets IAM principals of this account manage AWS Support cases (CIS / IAM.18).",
        )["Role"]
    else:
        trusted = _trusted_principals(role["AssumeRolePolicyDocument"])
        allowed = {f"arn:{partition}:iam::{account}:root", account}
        if not trusted <= allowed:
            raise RemediationError(
                f"role {ROLE_NAME} already exists and trusts {', '.join(sorted(trusted - allowed))}; "
                "refusing to grant AWSSupportAccess to principals outside this account"
            )
    attached = not _has_policy(iam, policy_arn)
    if attached:
        iam.attach_role_policy(RoleName=ROLE_NAME, PolicyArn=policy_arn)
    if not _eventually_has_policy(iam, policy_arn, sleep):
        raise RemediationError(f"role {ROLE_NAME}: AWSSupportAccess is still not attached")
    changes = [c for c, done in (("Role created", created), ("AWSSupportAccess attached", attached)) if done]
    return {
        "RoleArn": role["Arn"],
        "Message": "; ".join(changes) + "."
        if changes
        else "Support role already exists with AWSSupportAccess; nothing changed.",
    }
