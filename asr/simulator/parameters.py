"""Bind the parameters of an execution to a document, as StartAutomationExecution does."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from asr.simulator.datatypes import coerce_parameter, to_text
from asr.simulator.document import Document, ParameterSpec
from asr.simulator.errors import ConversionError, ParameterValidationError


def bind(document: Document, given: Mapping[str, Any], resolve_default: Callable[[Any], Any]) -> dict[str, Any]:
    """Typed values of every document parameter; ParameterValidationError names the problem."""
    for name, value in given.items():
        if name not in document.parameters:
            known = ", ".join(sorted(document.parameters)) or "none"
            raise ParameterValidationError(
                f"{document.name}: unknown parameter {name!r} (value {value!r}); the document's parameters: {known}"
            )
    return {spec.name: _bind_one(document.name, spec, given, resolve_default) for spec in document.parameters.values()}


def _bind_one(
    document: str, spec: ParameterSpec, given: Mapping[str, Any], resolve_default: Callable[[Any], Any]
) -> Any:
    if spec.name in given:
        raw, origin = given[spec.name], "value"
    elif spec.has_default:
        raw, origin = resolve_default(spec.default), "default"
    else:
        raise ParameterValidationError(f"{document}: missing required parameter {spec.name!r} ({spec.type})")
    try:
        value = coerce_parameter(raw, spec.type)
    except ConversionError as err:
        raise ParameterValidationError(f"{document}: parameter {spec.name!r} {origin} {raw!r}: {err}") from None
    _check_constraints(document, spec, value, origin)
    return value


def _elements(spec: ParameterSpec, value: Any) -> list[str]:
    if spec.type == "StringList":
        return list(value)
    return [to_text(value)]


def _check_constraints(document: str, spec: ParameterSpec, value: Any, origin: str) -> None:
    where = f"{document}: parameter {spec.name!r} {origin}"
    if isinstance(value, list):
        _check_count(where, spec, len(value))
    for element in _elements(spec, value):
        if spec.allowed_values is not None and element not in [to_text(v) for v in spec.allowed_values]:
            raise ParameterValidationError(
                f"{where} {element!r} is not one of the allowedValues {list(spec.allowed_values)!r}"
            )
        if spec.allowed_pattern is not None and not re.search(spec.allowed_pattern, element):
            raise ParameterValidationError(
                f"{where} {element!r} does not match the allowedPattern {spec.allowed_pattern!r}"
            )
        _check_chars(where, spec, element)


def _check_count(where: str, spec: ParameterSpec, count: int) -> None:
    if spec.min_items is not None and count < spec.min_items:
        raise ParameterValidationError(f"{where} has {count} items, fewer than minItems {spec.min_items}")
    if spec.max_items is not None and count > spec.max_items:
        raise ParameterValidationError(f"{where} has {count} items, more than maxItems {spec.max_items}")


def _check_chars(where: str, spec: ParameterSpec, element: str) -> None:
    if spec.min_chars is not None and len(element) < spec.min_chars:
        raise ParameterValidationError(f"{where} {element!r} is shorter than minChars {spec.min_chars}")
    if spec.max_chars is not None and len(element) > spec.max_chars:
        raise ParameterValidationError(f"{where} {element!r} is longer than maxChars {spec.max_chars}")
