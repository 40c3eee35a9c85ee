"""The JSONPath subset SSM Automation selectors use, implemented strictly.

Supported: ``$`` (the whole document), ``.Name`` and ``['Name']`` / ``["Name"]``
(member), ``[N]`` (array index, N >= 0), ``[*]`` and ``.*`` (every element or
member), ``..Name`` (recursive descent: every ``Name`` member at any depth).

A path without ``*`` or ``..`` selects one value; with them it selects a list of
every match, in document order. Anything else (filters ``[?()]``, slices,
unions, negative indexes, script expressions, functions) raises
UnsupportedFeatureError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from asr.simulator.errors import DocumentError, UnsupportedFeatureError

_NAME = r"[A-Za-z_][A-Za-z0-9_\-]*"
_TOKEN = re.compile(
    rf"""
    (?P<descent>\.\.(?P<dname>{_NAME}))
  | \.(?P<name>{_NAME})
  | \.(?P<dstar>\*)
  | \[(?P<index>\d+)\]
  | \[(?P<bstar>\*)\]
  | \['(?P<sq>[^']*)'\]
  | \["(?P<dq>[^"]*)"\]
    """,
    re.VERBOSE,
)


class NoMatch(LookupError):
    """The selector matches nothing in the data."""


@dataclass(frozen=True)
class _Step:
    kind: str  # "member" | "index" | "wildcard" | "descent"
    key: str | int | None = None


@dataclass(frozen=True)
class Selector:
    text: str
    steps: tuple[_Step, ...]

    @property
    def multiple(self) -> bool:
        return any(s.kind in ("wildcard", "descent") for s in self.steps)


@lru_cache(maxsize=1024)
def parse(path: str) -> Selector:
    """Parse a selector; UnsupportedFeatureError names the part that is not supported."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise DocumentError(f"selector {path!r} must start with '$'")
    steps: list[_Step] = []
    pos = 1
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if match is None:
            raise UnsupportedFeatureError(
                f"JSONPath syntax at {path[pos:]!r} in selector {path!r} "
                "(supported: $, .Name, ['Name'], [N], [*], .*, ..Name)"
            )
        steps.append(_step_of(match))
        pos = match.end()
    return Selector(path, tuple(steps))


def _step_of(match: re.Match[str]) -> _Step:
    if match.group("descent"):
        return _Step("descent", match.group("dname"))
    if match.group("index") is not None:
        return _Step("index", int(match.group("index")))
    if match.group("dstar") or match.group("bstar"):
        return _Step("wildcard")
    for group in ("name", "sq", "dq"):
        if match.group(group) is not None:
            return _Step("member", match.group(group))
    raise AssertionError("unreachable")


def _apply(step: _Step, node: Any) -> list[Any]:
    if step.kind == "member":
        return [node[step.key]] if isinstance(node, dict) and step.key in node else []
    if step.kind == "index":
        assert isinstance(step.key, int)
        return [node[step.key]] if isinstance(node, list) and step.key < len(node) else []
    if step.kind == "wildcard":
        if isinstance(node, dict):
            return list(node.values())
        return list(node) if isinstance(node, list) else []
    return _descend(node, str(step.key))


def _descend(node: Any, key: str) -> list[Any]:
    found: list[Any] = []
    if isinstance(node, dict):
        if key in node:
            found.append(node[key])
        children: list[Any] = list(node.values())
    elif isinstance(node, list):
        children = list(node)
    else:
        children = []
    for child in children:
        found.extend(_descend(child, key))
    return found


def select(data: Any, path: str) -> Any:
    """The value(s) ``path`` selects in ``data``.

    A single-value path returns the value or raises NoMatch; a multi-value path
    (``*``, ``..``) returns the list of matches (possibly empty).
    """
    selector = parse(path)
    nodes = [data]
    for step in selector.steps:
        nodes = [found for node in nodes for found in _apply(step, node)]
    if selector.multiple:
        return nodes
    if not nodes:
        raise NoMatch(f"selector {path!r} matched nothing")
    return nodes[0]
