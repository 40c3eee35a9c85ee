"""IAM policy evaluation: Allow/Deny statements, action and resource patterns, conditions.

Written from the IAM User Guide:
* evaluation: explicit Deny wins, else any Allow, else implicit deny
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html);
* Action/NotAction, Resource/NotResource with ``*`` and ``?`` wildcards; actions are
  case-insensitive, resources case-sensitive
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html);
* condition operators, ``...IfExists``, ``ForAnyValue:``/``ForAllValues:``, and the rule
  that a key absent from the request makes a positive operator false and a negated one true
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).

A condition on a key that the request builder does not model raises ``ModelError``
rather than guessing: a gap in the emulation must be loud, never a silent allow or deny.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class PolicyError(ValueError):
    """A policy document we cannot read (unknown operator, malformed statement)."""


class ModelError(RuntimeError):
    """The request context lacks a key a matching statement conditions on."""


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


@functools.cache
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return bool(_glob(pattern, ignore_case).match(value))


def arn_match(pattern: str, value: str) -> bool:
    """ArnLike: each of the six ARN parts matched separately (a ``*`` stays within its part)."""
    p, v = pattern.split(":", 5), value.split(":", 5)
    if len(p) != 6 or len(v) != 6:
        return pattern == "*" or glob_match(pattern, value)
    return all(glob_match(a, b) for a, b in zip(p, v, strict=True))


@dataclass(frozen=True)
class Request:
    """One authorization question: may ``principal`` do ``action`` on ``resource``?"""

    principal: str  # role ARN (arn:aws:iam::111111111111:role/Name) or "service:ssm.amazonaws.com"
    action: str
    resource: str
    context: Mapping[str, Any] = field(default_factory=dict)  # condition key (lower case) -> value(s)
    modeled: frozenset[str] = frozenset()  # keys known to be absent when not in context

    def key(self, name: str) -> tuple[bool, list[str]]:
        """(present, values) of a condition key; ModelError if the key is not modeled."""
        lowered = name.lower()
        if lowered in self.context:
            return True, [_text(v) for v in _as_list(self.context[lowered])]
        if lowered in self.modeled or any(
            lowered.startswith(m[:-1]) for m in self.modeled if m.endswith("/") or m.endswith(":")
        ):
            return False, []
        raise ModelError(f"condition key {name!r} is not modeled for {self.action} (request on {self.resource})")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_STRING_OPS = {
    "StringEquals": lambda p, v: p == v,
    "StringNotEquals": lambda p, v: p == v,
    "StringEqualsIgnoreCase": lambda p, v: p.lower() == v.lower(),
    "StringNotEqualsIgnoreCase": lambda p, v: p.lower() == v.lower(),
    "StringLike": lambda p, v: glob_match(p, v),
    "StringNotLike": lambda p, v: glob_match(p, v),
    "ArnEquals": lambda p, v: p == v,
    "ArnNotEquals": lambda p, v: p == v,
    "ArnLike": arn_match,
    "ArnNotLike": arn_match,
    "Bool": lambda p, v: p.lower() == v.lower(),
}


def _numeric(op: str) -> Any:
    compare = {
        "NumericEquals": lambda a, b: a == b,
        "NumericNotEquals": lambda a, b: a == b,
        "NumericLessThan": lambda a, b: a < b,
        "NumericLessThanEquals": lambda a, b: a <= b,
        "NumericGreaterThan": lambda a, b: a > b,
        "NumericGreaterThanEquals": lambda a, b: a >= b,
    }[op]
    return lambda p, v: compare(float(v), float(p))


def _operator(name: str) -> tuple[str, bool, str, Any]:
    """(set qualifier, if-exists, base operator, matcher) of an operator name."""
    qualifier = ""
    if name.startswith(("ForAnyValue:", "ForAllValues:")):
        qualifier, name = name.split(":", 1)
    if_exists = name.endswith("IfExists")
    base = name.removesuffix("IfExists")
    if base in _STRING_OPS:
        return qualifier, if_exists, base, _STRING_OPS[base]
    if base.startswith("Numeric"):
        try:
            return qualifier, if_exists, base, _numeric(base)
        except KeyError:
            pass
    if base == "Null":
        return qualifier, if_exists, base, None
    raise PolicyError(f"condition operator {name!r} is not supported")


def _condition_holds(op_name: str, key: str, expected: Any, request: Request) -> bool:
    qualifier, if_exists, base, matcher = _operator(op_name)
    present, values = request.key(key)
    patterns = [_text(p) for p in _as_list(expected)]
    if base == "Null":
        # Null: true means "the key is absent", false "the key is present".
        return any((p.lower() == "true") == (not present) for p in patterns)
    negated = "Not" in base
    if not present:
        if if_exists:
            return True
        if qualifier == "ForAllValues":
            return True  # vacuously true for an empty set
        return negated
    if qualifier == "ForAllValues":
        return all(any(matcher(p, v) for p in patterns) != negated for v in values)
    hit = any(matcher(p, v) for p in patterns for v in values)
    return not hit if negated else hit


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    conditions: Mapping[str, Mapping[str, Any]]
    principals: Mapping[str, tuple[str, ...]] | None  # trust / resource policies only
    sid: str = ""
    source: str = ""  # "role X policy Y statement N", for messages

    @classmethod
    def parse(cls, raw: Mapping[str, Any], source: str = "") -> Statement:
        if not isinstance(raw, Mapping):
            raise PolicyError(f"{source}: a statement must be a mapping, got {raw!r}")
        effect = raw.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise PolicyError(f"{source}: Effect must be Allow or Deny, got {effect!r}")
        principals = None
        if "Principal" in raw:
            principal = raw["Principal"]
            principals = (
                {"*": ("*",)}
                if principal == "*"
                else {k: tuple(str(x) for x in _as_list(v)) for k, v in dict(principal).items()}
            )
        for key in raw.get("Condition") or {}:
            _operator(key)  # reject unknown operators early
        return cls(
            effect=effect,
            actions=tuple(str(a) for a in _as_list(raw.get("Action"))),
            not_actions=tuple(str(a) for a in _as_list(raw.get("NotAction"))),
            resources=tuple(str(r) for r in _as_list(raw.get("Resource"))),
            not_resources=tuple(str(r) for r in _as_list(raw.get("NotResource"))),
            conditions={k: dict(v) for k, v in (raw.get("Condition") or {}).items()},
            principals=principals,
            sid=str(raw.get("Sid") or ""),
            source=source,
        )

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Effect": self.effect}
        for key, values in (
            ("Action", self.actions),
            ("NotAction", self.not_actions),
            ("Resource", self.resources),
            ("NotResource", self.not_resources),
        ):
            if values:
                out[key] = list(values) if len(values) > 1 else values[0]
        if self.conditions:
            out["Condition"] = {k: dict(v) for k, v in self.conditions.items()}
        return out

    def covers_action(self, action: str) -> bool:
        if self.actions:
            return any(glob_match(a, action, ignore_case=True) for a in self.actions)
        return not any(glob_match(a, action, ignore_case=True) for a in self.not_actions)

    def covers_resource(self, resource: str) -> bool:
        if self.principals is not None and not self.resources and not self.not_resources:
            return True  # trust policies name no resource
        if self.resources:
            return any(glob_match(r, resource) for r in self.resources)
        return not any(glob_match(r, resource) for r in self.not_resources)

    def covers_principal(self, principal: str, principal_account: str) -> bool:
        if self.principals is None:
            return True
        for kind, values in self.principals.items():
            for value in values:
                if value == "*":
                    return True
                if kind == "Service" and principal == f"service:{value}":
                    return True
                if kind == "AWS" and _aws_principal(value, principal, principal_account):
                    return True
        return False

    def conditions_hold(self, request: Request) -> bool:
        return all(
            _condition_holds(op, key, expected, request)
            for op, keys in self.conditions.items()
            for key, expected in keys.items()
        )

    def applies(self, request: Request, principal_account: str = "") -> bool:
        return (
            self.covers_action(request.action)
            and self.covers_resource(request.resource)
            and self.covers_principal(request.principal, principal_account)
            and self.conditions_hold(request)
        )


def _aws_principal(value: str, principal: str, principal_account: str) -> bool:
    """Does an ``AWS`` principal entry (account id, root ARN, role ARN) name ``principal``?"""
    if principal.startswith("service:"):
        return False
    if re.fullmatch(r"\d{12}", value):
        return value == principal_account
    root = re.fullmatch(r"arn:[^:]+:iam::(\d{12}):root", value)
    if root:
        return root.group(1) == principal_account
    return value == principal


def trust_names_principal(statement: Statement, principal: str) -> bool:
    """True if the statement names the principal itself (not only its account)."""
    return bool(statement.principals) and any(v == principal for vs in statement.principals.values() for v in vs)


@dataclass(frozen=True)
class Policy:
    name: str
    statements: tuple[Statement, ...]

    @classmethod
    def parse(cls, name: str, document: Mapping[str, Any]) -> Policy:
        raw = document.get("Statement")
        statements = [raw] if isinstance(raw, Mapping) else list(raw or [])
        return cls(name, tuple(Statement.parse(s, f"{name} statement {i}") for i, s in enumerate(statements)))


@dataclass(frozen=True)
class Decision:
    allowed: bool
    allow: Statement | None = None
    deny: Statement | None = None

    @property
    def explicit_deny(self) -> bool:
        return self.deny is not None


def decide(policies: Iterable[Policy], request: Request, principal_account: str = "") -> Decision:
    allow: Statement | None = None
    for policy in policies:
        for statement in policy.statements:
            if not statement.applies(request, principal_account):
                continue
            if statement.effect == "Deny":
                return Decision(False, None, statement)
            allow = allow or statement
    return Decision(allow is not None, allow)


def statements_of(policies: Sequence[Policy]) -> list[Statement]:
    return [s for p in policies for s in p.statements]


__all__ = [
    "Decision",
    "ModelError",
    "Policy",
    "PolicyError",
    "Request",
    "Statement",
    "arn_match",
    "decide",
    "glob_match",
    "statements_of",
    "trust_names_principal",
]
