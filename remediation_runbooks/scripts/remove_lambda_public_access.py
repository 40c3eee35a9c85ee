"""ASR-RemoveLambdaPublicAccess: remove the public statements of one Lambda function's resource policy.

A statement is public when it allows, its principal is ``*`` or ``{"AWS": "*"}`` (alone or
in a list), and no condition pins the caller or the calling resource to a specific
account, organization or ARN (``aws:SourceAccount``, ``aws:SourceArn``,
``aws:SourceOwner``, ``aws:PrincipalAccount``, ``aws:PrincipalOrgID``, ``aws:PrincipalArn``,
``aws:SourceOrgID``) with a positive operator and a value that is not only wildcards.
This is how Security Hub Lambda.1 judges it. Public function-URL permissions
(``lambda:InvokeFunctionUrl`` to ``*`` with ``lambda:FunctionUrlAuthType`` ``NONE``) are
public by that rule too: the auth-type condition does not restrict who calls.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
RESTRICTING_KEYS = {
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceowner",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalarn",
    "aws:sourceorgid",
}
POSITIVE_OPERATORS = {"stringequals", "stringlike", "arnequals", "arnlike", "stringequalsignorecase"}


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _is_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, list):
        return any(_is_everyone(p) for p in principal)
    if isinstance(principal, dict):
        aws = principal.get("AWS")
        return aws == "*" or (isinstance(aws, list) and "*" in aws)
    return False


def _values(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _is_restricted(condition: dict[str, Any]) -> bool:
    for operator, clauses in (condition or {}).items():
        if operator.lower() not in POSITIVE_OPERATORS or not isinstance(clauses, dict):
            continue
        for key, value in clauses.items():
            values = _values(value)
            if key.lower() in RESTRICTING_KEYS and values and all(v.strip("*?") for v in values):
                return True
    return False


def is_public(statement: dict[str, Any]) -> bool:
    return (
        statement.get("Effect") == "Allow"
        and _is_everyone(statement.get("Principal"))
        and not _is_restricted(statement.get("Condition") or {})
    )


def _statements(client: Any, function: str) -> list[dict[str, Any]]:
    try:
        return json.loads(client.get_policy(FunctionName=function)["Policy"]).get("Statement", [])
    except client.exceptions.ResourceNotFoundException:
        client.get_function_configuration(FunctionName=function)  # raises if the function is missing
        return []


def remove_public_access(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    function = event["FunctionName"]
    client = boto3.client("lambda", config=BOTO_CONFIG)
    try:
        statements = _statements(client, function)
    except client.exceptions.ResourceNotFoundException:
        raise RemediationError(f"FunctionName {function}: no such Lambda function in this account and Region") from None
    public = [s["Sid"] for s in statements if is_public(s)]
    kept = [s["Sid"] for s in statements if not is_public(s)]
    for sid in public:
        client.remove_permission(FunctionName=function, StatementId=sid)
    still = [s["Sid"] for s in _statements(client, function) if is_public(s)]
    if still:
        raise RemediationError(f"FunctionName {function}: public statements {still} are still in the policy")
    return {
        "FunctionName": function,
        "RemovedStatements": public,
        "KeptStatements": kept,
        "Message": f"Removed {len(public)} public statement(s)." if public else "No public statement; nothing changed.",
    }
