"""AWS Lambda controls."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from asr.controls.base import Context, EvaluationError, Resource, Verdict, control, failed, passed

# Condition keys that, with fixed values, narrow a wildcard principal to known callers.
_RESTRICTING_KEYS = frozenset(
    {
        "aws:sourceaccount",
        "aws:sourceowner",
        "aws:sourcearn",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourceip",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:userid",
    }
)
_S3 = "s3.amazonaws.com"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _fixed(value: Any) -> bool:
    """A value with no wildcard and no policy variable."""
    text = str(value)
    return not any(c in text for c in "*?") and "${" not in text


def _principals(statement: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(kind, value) pairs of a statement's principal; kind '' for the bare string form."""
    principal = statement.get("Principal")
    if principal is None:
        return []
    if isinstance(principal, str):
        return [("", principal)]
    return [(kind, str(v)) for kind, values in principal.items() for v in _as_list(values)]


def _conditions(statement: Mapping[str, Any]) -> dict[str, list[tuple[str, list[Any]]]]:
    """Condition key (lower case) -> [(operator, values)]."""
    found: dict[str, list[tuple[str, list[Any]]]] = {}
    for operator, entries in (statement.get("Condition") or {}).items():
        for key, values in (entries or {}).items():
            found.setdefault(key.lower(), []).append((operator, _as_list(values)))
    return found


def _restricts(key: str, operator: str, values: list[Any]) -> bool:
    """Whether a condition narrows who may call: a positive test of a restricting key on fixed values."""
    op = operator.lower()
    if key not in _RESTRICTING_KEYS or "not" in op or op.endswith("ifexists") or op == "null" or not values:
        return False
    if not all(_fixed(v) for v in values):
        return False
    if key == "aws:sourceip":
        try:
            return all(ipaddress.ip_network(str(v), strict=False).prefixlen > 0 for v in values)
        except ValueError:
            return False
    return True


def _public_reason(statement: Mapping[str, Any]) -> str | None:
    """Why an Allow statement grants public access (None if it does not)."""
    if statement.get("Effect") != "Allow":
        return None
    sid = statement.get("Sid", "?")
    principals = _principals(statement)
    conditions = _conditions(statement)
    restricted = any(_restricts(k, op, v) for k, entries in conditions.items() for op, v in entries)
    wildcard = [f"{kind}:{value}" if kind else value for kind, value in principals if not _fixed(value) or not value]
    if "NotPrincipal" in statement:
        wildcard.append("NotPrincipal")
    if not principals and "NotPrincipal" not in statement:
        wildcard.append("(empty principal)")
    if wildcard and not restricted:
        return f"statement {sid!r} allows Principal {', '.join(wildcard)} with no condition restricting the caller"
    if any(kind == "Service" and value == _S3 for kind, value in principals):
        source_account = [
            v for op, v in conditions.get("aws:sourceaccount", []) if _restricts("aws:sourceaccount", op, v)
        ]
        if not source_account:
            return f"statement {sid!r} lets {_S3} invoke the function without an AWS:SourceAccount condition"
    return None


@control(
    "Lambda.1",
    doc="https://docs.aws.amazon.com/securityhub/latest/userguide/lambda-controls.html#lambda-1",
    resource_types=("AwsLambdaFunction",),
)
def function_policy_not_public(ctx: Context, resource: Resource) -> Verdict:
    """Lambda.1 (Config rule lambda-function-public-access-prohibited): the function's resource-based
    policy must not allow public access. An Allow statement is public when its principal is empty
    or holds a wildcard (``"*"``, ``{"AWS": "*"}``) and no condition pins the caller to fixed values
    (AWS:SourceAccount, AWS:SourceArn, aws:PrincipalOrgID ...). A statement letting Amazon S3
    (s3.amazonaws.com) invoke the function without an AWS:SourceAccount condition also fails."""
    lam = ctx.client("lambda")
    try:
        lam.get_function_configuration(FunctionName=resource.id)
    except (ClientError, BotoCoreError) as err:
        raise EvaluationError(f"Lambda.1: cannot read function {resource.id!r}: {err}") from None
    try:
        policy_text = lam.get_policy(FunctionName=resource.id)["Policy"]
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return passed("the function has no resource-based policy")
        raise EvaluationError(f"Lambda.1: cannot read the policy of {resource.id!r}: {err}") from None
    except BotoCoreError as err:
        raise EvaluationError(f"Lambda.1: cannot read the policy of {resource.id!r}: {err}") from None
    policy = json.loads(policy_text)
    statements = _as_list(policy.get("Statement"))
    for statement in statements:
        reason = _public_reason(statement)
        if reason:
            return failed(reason)
    return passed(f"none of the {len(statements)} policy statement(s) allows public access")
