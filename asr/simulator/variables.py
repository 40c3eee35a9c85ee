"""The one resolver of ``{{ ... }}`` references in SSM Automation documents.

Kinds of reference: ``{{ Param }}``, ``{{ Step.Output }}``, ``{{ global:NAME }}``,
``{{ automation:NAME }}`` and ``{{ ssm:/parameter/name }}``; spaces inside the braces
are optional. A string that is exactly one reference takes the referenced value
with its type (a StringList stays a list); a reference inside a longer string is
replaced by the value's text (see ``datatypes.to_text``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from asr.simulator.datatypes import to_text
from asr.simulator.errors import DocumentError, UnsupportedFeatureError

_REF = re.compile(r"\{\{(?P<body>[^{}]*)\}\}")
_NAMESPACED = re.compile(r"^(?P<ns>[A-Za-z][A-Za-z0-9-]*):(?P<name>.+)$")
_PARAM = re.compile(r"^[A-Za-z0-9_]+$")
_STEP_OUTPUT = re.compile(r"^(?P<step>[A-Za-z0-9_-]+)\.(?P<output>[A-Za-z0-9_]+)$")

GLOBAL_NAMES = ("ACCOUNT_ID", "REGION", "AWS_PARTITION", "DATE", "DATE_TIME")
AUTOMATION_NAMES = ("EXECUTION_ID",)
NAMESPACES = ("global", "automation", "ssm")


@dataclass(frozen=True)
class Reference:
    """One ``{{ ... }}`` reference.

    ``kind`` is "parameter", "output", "global", "automation" or "ssm"; ``name`` the
    parameter name, the ``Step.Output`` pair, the variable name or the SSM parameter.
    """

    text: str
    kind: str
    name: str

    @property
    def step(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def output(self) -> str:
        return self.name.split(".", 1)[1]


Lookup = Callable[[Reference], Any]


def parse_reference(body: str) -> Reference:
    """A Reference from the text between the braces; strict about its shape."""
    text = body.strip()
    namespaced = _NAMESPACED.match(text)
    if namespaced:
        return _namespaced(text, namespaced.group("ns"), namespaced.group("name"))
    if _PARAM.match(text):
        return Reference(text, "parameter", text)
    if _STEP_OUTPUT.match(text):
        return Reference(text, "output", text)
    raise DocumentError(f"invalid variable reference {{{{{body}}}}}")


def _namespaced(text: str, namespace: str, name: str) -> Reference:
    if namespace not in NAMESPACES:
        raise UnsupportedFeatureError(f"variable namespace {namespace!r} in {{{{ {text} }}}}")
    if namespace == "global" and name not in GLOBAL_NAMES:
        raise UnsupportedFeatureError(f"global variable {name!r} (supported: {', '.join(GLOBAL_NAMES)})")
    if namespace == "automation" and name not in AUTOMATION_NAMES:
        raise UnsupportedFeatureError(f"automation variable {name!r} (supported: EXECUTION_ID)")
    return Reference(text, namespace, name.strip())


def references_in(value: Any) -> Iterator[Reference]:
    """Every reference anywhere in a (nested) value, in order."""
    if isinstance(value, str):
        for match in _REF.finditer(value):
            yield parse_reference(match.group("body"))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from references_in(key)
            yield from references_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from references_in(item)


def resolve(value: Any, lookup: Lookup) -> Any:
    """``value`` with every reference replaced through ``lookup``."""
    if isinstance(value, str):
        return _resolve_string(value, lookup)
    if isinstance(value, dict):
        return {_resolve_key(k, lookup): resolve(v, lookup) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(item, lookup) for item in value]
    return value


def _resolve_key(key: Any, lookup: Lookup) -> Any:
    return to_text(_resolve_string(key, lookup)) if isinstance(key, str) else key


def _resolve_string(text: str, lookup: Lookup) -> Any:
    whole = _REF.fullmatch(text)
    if whole:
        return lookup(parse_reference(whole.group("body")))
    if "{{" not in text:
        return text
    return _REF.sub(lambda m: to_text(lookup(parse_reference(m.group("body")))), text)
