"""A strict EventBridge pattern matcher and a small CloudFormation resolver, for tests.

``matches(pattern, event)`` follows EventBridge's documented semantics for the
subset our rules use: every key of the pattern must match (AND); a list of values
matches when any value matches (OR); a pattern leaf against an array in the event
matches when any element matches; values are compared exactly (type and case);
content filters ``{"anything-but": v | [v...]}``, ``{"exists": bool}`` and
``{"prefix": s}``. Anything else raises ValueError, so an untested construct in a
rule cannot slip through.

``resolve(node, parameters, conditions)`` evaluates the intrinsics our playbook
templates put in event patterns: Ref (parameters, AWS::Partition, AWS::NoValue),
Fn::If, Fn::Split, Fn::Join, Fn::Sub, Fn::Equals conditions.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()
NO_VALUE = object()


def _leaf(rule: Any, value: Any) -> bool:
    """One pattern value against one event value (value may be _MISSING)."""
    if isinstance(rule, dict):
        if len(rule) != 1:
            raise ValueError(f"content filter must have one key: {rule!r}")
        ((op, arg),) = rule.items()
        if op == "exists":
            return (value is not _MISSING) is bool(arg)
        if value is _MISSING:
            return False
        if op == "anything-but":
            banned = arg if isinstance(arg, list) else [arg]
            return value not in banned
        if op == "prefix":
            return isinstance(value, str) and value.startswith(arg)
        raise ValueError(f"unsupported content filter {op!r}")
    if value is _MISSING:
        return False
    return type(rule) is type(value) and rule == value


def _values(rules: list[Any], value: Any) -> bool:
    if isinstance(value, list):
        if not value:
            return any(_leaf(r, _MISSING) for r in rules if isinstance(r, dict) and "exists" in r)
        return any(_leaf(r, v) for r in rules for v in value)
    return any(_leaf(r, value) for r in rules)


def matches(pattern: dict[str, Any], event: Any) -> bool:
    if not isinstance(pattern, dict) or not pattern:
        raise ValueError(f"a pattern must be a non-empty mapping, got {pattern!r}")
    for key, rule in pattern.items():
        value = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(rule, dict):
            if isinstance(value, list):
                if not any(isinstance(v, dict) and matches(rule, v) for v in value):
                    return False
            elif not isinstance(value, dict) or not matches(rule, value):
                return False
        elif isinstance(rule, list):
            if not rule:
                raise ValueError(f"empty value list for {key!r}")
            if not _values(rule, value):
                return False
        else:
            raise ValueError(f"pattern value for {key!r} must be a list or a mapping, got {rule!r}")
    return True


def resolve(node: Any, parameters: dict[str, str], conditions: dict[str, Any], partition: str = "aws") -> Any:
    """Evaluate the CloudFormation intrinsics of ``node`` for the given parameter values."""

    def cond(name: str) -> bool:
        return bool(resolve(conditions[name], parameters, conditions, partition))

    if isinstance(node, list):
        out = [resolve(v, parameters, conditions, partition) for v in node]
        return [v for v in out if v is not NO_VALUE]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((key, arg),) = node.items()
        if key == "Ref":
            if arg == "AWS::NoValue":
                return NO_VALUE
            if arg == "AWS::Partition":
                return partition
            return parameters[arg]
        if key == "Fn::If":
            name, yes, no = arg
            return resolve(yes if cond(name) else no, parameters, conditions, partition)
        if key == "Fn::Equals":
            a, b = (resolve(v, parameters, conditions, partition) for v in arg)
            return a == b
        if key == "Fn::Split":
            sep, text = arg
            return resolve(text, parameters, conditions, partition).split(sep)
        if key == "Fn::Join":
            sep, parts = arg
            values = resolve(parts, parameters, conditions, partition)
            return sep.join(values if isinstance(values, list) else [values])
        if key == "Fn::Sub":
            return arg.replace("${AWS::Partition}", partition)
        if key == "Condition":
            return cond(arg)
    out = {k: resolve(v, parameters, conditions, partition) for k, v in node.items()}
    return {k: v for k, v in out.items() if v is not NO_VALUE}
