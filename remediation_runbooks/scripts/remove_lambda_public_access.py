"""ASR-RemoveLambdaPublicAccess: remove the public statements of one Lambda function's resource policy.

A statement is public when it allows, its principal is ``*`` or ``{"AWS": "*"}`` (alone or
in a list), and no condition pins the caller or the calling resource to a specific
account, organization or ARN (``aws:SourceAccount``, ``aws:SourceArn``,
``aws:SourceOwner``, ``aws:PrincipalAccount``, ``aws:PrincipalOrgID``, ``aws:PrincipalArn``,
``aws:SourceOrgID``) with a positive operator and a value that is not only wildcards.
This is how Security Hub Lambda.1 judges it. Public function-URL permissions
(``lambda:InvokeFunctionUrl`` to ``*`` with ``lambda:FunctionUrlAuthType`` ``NONE``) are
public by that rule too: the auth-type condition does not restrict who calls.

Lambda.1 also fails a function "invoked from Amazon S3" whose policy has no
``AWS:SourceAccount`` condition (Config rule lambda-function-public-access-prohibited,
https://docs.aws.amazon.com/config/latest/developerguide/lambda-function-public-access-prohibited.html):
a bucket ARN names no account, so a bucket of that name in any account could invoke it.
Such a statement (principal ``s3.amazonaws.com``, or ``*`` limited only by an S3 ``SourceArn``)
is restated: the same permission plus ``AWS:SourceAccount`` = the function's account, added
under ``<Sid>-SourceAccount`` before the old statement is removed, so the trigger keeps working.
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
S3_SERVICE = "s3.amazonaws.com"
RESTATED_SUFFIX = "-SourceAccount"
MAX_SID = 100
# Condition (operator, key) -> AddPermission parameter, for restating a statement AddPermission made.
_ADD_PERMISSION_CONDITIONS = {
    ("arnlike", "aws:sourcearn"): "SourceArn",
    ("arnequals", "aws:sourcearn"): "SourceArn",
    ("stringequals", "aws:principalorgid"): "PrincipalOrgID",
    ("stringequals", "lambda:eventsourcetoken"): "EventSourceToken",
    ("stringequals", "lambda:functionurlauthtype"): "FunctionUrlAuthType",
}


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


def _condition_values(condition: dict[str, Any], key: str) -> list[tuple[str, list[str]]]:
    """(operator, values) of every clause on ``key`` (case-insensitive)."""
    return [
        (operator.lower(), _values(value))
        for operator, clauses in (condition or {}).items()
        if isinstance(clauses, dict)
        for name, value in clauses.items()
        if name.lower() == key
    ]


def _has_source_account(condition: dict[str, Any]) -> bool:
    return any(
        operator in POSITIVE_OPERATORS and values and all(v and not set(v) & set("*?") for v in values)
        for operator, values in _condition_values(condition, "aws:sourceaccount")
    )


def _services(principal: Any) -> list[str]:
    if isinstance(principal, dict):
        return _values(principal.get("Service")) if principal.get("Service") else []
    return []


def lets_s3_invoke_without_source_account(statement: dict[str, Any]) -> bool:
    """An Allow that Amazon S3 can use (its service principal, or ``*`` limited to an S3 bucket ARN)
    with no fixed ``AWS:SourceAccount`` condition."""
    if statement.get("Effect") != "Allow":
        return False
    condition = statement.get("Condition") or {}
    from_s3 = S3_SERVICE in _services(statement.get("Principal")) or (
        _is_everyone(statement.get("Principal"))
        and any(
            v.split(":")[2:3] == ["s3"] for _, values in _condition_values(condition, "aws:sourcearn") for v in values
        )
    )
    return from_s3 and not _has_source_account(condition)


def _principal_argument(statement: dict[str, Any]) -> str:
    principal = statement.get("Principal")
    if _is_everyone(principal):
        return "*"
    services = _services(principal)
    accounts = _values(principal["AWS"]) if isinstance(principal, dict) and principal.get("AWS") else []
    if len(services) + len(accounts) != 1:
        raise RemediationError(
            f"statement {statement.get('Sid')!r}: principal {principal!r} is not one AddPermission can restate"
        )
    return (services or accounts)[0]


def restated_permission(statement: dict[str, Any], account: str) -> dict[str, Any]:
    """AddPermission arguments for ``statement`` plus SourceAccount=``account``; a condition AddPermission
    cannot express raises, naming it (nothing is dropped silently)."""
    sid = statement.get("Sid", "")
    action = statement.get("Action")
    if not isinstance(action, str):
        raise RemediationError(f"statement {sid!r}: Action {action!r} is not one action; restate it by hand")
    args: dict[str, Any] = {
        "StatementId": sid[: MAX_SID - len(RESTATED_SUFFIX)] + RESTATED_SUFFIX,
        "Action": action,
        "Principal": _principal_argument(statement),
        "SourceAccount": account,
    }
    for operator, clauses in (statement.get("Condition") or {}).items():
        for key, value in (clauses or {}).items():
            parameter = _ADD_PERMISSION_CONDITIONS.get((operator.lower(), key.lower()))
            values = _values(value)
            if parameter is None or len(values) != 1:
                raise RemediationError(
                    f"statement {sid!r}: condition {operator} {key} cannot be restated with AddPermission; "
                    "add an AWS:SourceAccount condition to it by hand"
                )
            args[parameter] = values[0]
    return args


def _statements(client: Any, function: str) -> list[dict[str, Any]]:
    try:
        return json.loads(client.get_policy(FunctionName=function)["Policy"]).get("Statement", [])
    except client.exceptions.ResourceNotFoundException:
        client.get_function_configuration(FunctionName=function)  # raises if the function is missing
        return []


def _offends(statement: dict[str, Any]) -> bool:
    return is_public(statement) or lets_s3_invoke_without_source_account(statement)


def remove_public_access(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    function = event["FunctionName"]
    client = boto3.client("lambda", config=BOTO_CONFIG)
    try:
        statements = _statements(client, function)
        account = client.get_function_configuration(FunctionName=function)["FunctionArn"].split(":")[4]
    except client.exceptions.ResourceNotFoundException:
        raise RemediationError(f"FunctionName {function}: no such Lambda function in this account and Region") from None
    public = [s["Sid"] for s in statements if is_public(s)]
    s3 = [s for s in statements if not is_public(s) and lets_s3_invoke_without_source_account(s)]
    restate = {s["Sid"]: restated_permission(s, account) for s in s3}  # all checked before any change
    kept = [s["Sid"] for s in statements if not _offends(s)]
    present = {s["Sid"] for s in statements}
    for sid, args in restate.items():
        if args["StatementId"] not in present:  # an interrupted earlier run may have added it
            client.add_permission(FunctionName=function, **args)
        client.remove_permission(FunctionName=function, StatementId=sid)
    for sid in public:
        client.remove_permission(FunctionName=function, StatementId=sid)
    still = [s["Sid"] for s in _statements(client, function) if _offends(s)]
    if still:
        raise RemediationError(
            f"FunctionName {function}: statements {still} still allow public or unrestricted S3 access"
        )
    changed = bool(public or restate)
    return {
        "FunctionName": function,
        "RemovedStatements": public,
        "RestatedStatements": sorted(restate),
        "KeptStatements": kept,
        "Message": (
            f"Removed {len(public)} public statement(s); restricted {len(restate)} S3 statement(s) to account "
            f"{account} (AWS:SourceAccount)."
            if changed
            else "No public statement; nothing changed."
        ),
    }
