"""aws:branch -- choose the next step from Choices (Variable + operator, And/Or/Not)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from asr.simulator.actions.base import Action, ActionResult
from asr.simulator.datatypes import coerce_parameter, to_text
from asr.simulator.document import Step
from asr.simulator.errors import (
    ConversionError,
    DocumentError,
    StepFailure,
    UnsupportedFeatureError,
)

if TYPE_CHECKING:
    from asr.simulator.context import RunContext


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise StepFailure(f"{value!r} is not a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise StepFailure(f"{value!r} is not a number") from None


def _boolean(value: Any) -> bool:
    try:
        return coerce_parameter(value, "Boolean")
    except ConversionError:
        raise StepFailure(f"{value!r} is not a Boolean") from None


def _contains(variable: Any, expected: Any) -> bool:
    if isinstance(variable, list):
        return to_text(expected) in [to_text(item) for item in variable]
    return to_text(expected) in to_text(variable)


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "StringEquals": lambda v, x: to_text(v) == to_text(x),
    "EqualsIgnoreCase": lambda v, x: to_text(v).lower() == to_text(x).lower(),
    "StartsWith": lambda v, x: to_text(v).startswith(to_text(x)),
    "Contains": _contains,
    "BooleanEquals": lambda v, x: _boolean(v) == _boolean(x),
    "NumericEquals": lambda v, x: _number(v) == _number(x),
    "NumericGreater": lambda v, x: _number(v) > _number(x),
    "NumericGreaterOrEquals": lambda v, x: _number(v) >= _number(x),
    "NumericLesser": lambda v, x: _number(v) < _number(x),
    "NumericLesserOrEquals": lambda v, x: _number(v) <= _number(x),
}
_COMBINATORS = ("And", "Or", "Not")


def _check_condition(condition: Any, where: str) -> None:
    if not isinstance(condition, dict):
        raise DocumentError(f"{where}: a condition must be a mapping, got {condition!r}")
    keys = set(condition) - {"NextStep"}
    combinators = keys & set(_COMBINATORS)
    if combinators:
        _check_combinator(condition, combinators, keys, where)
        return
    operators = keys - {"Variable"}
    for key in operators:
        if key not in OPERATORS:
            raise UnsupportedFeatureError(f"branch operator {key!r} ({where})")
    if "Variable" not in keys or len(operators) != 1:
        raise DocumentError(f"{where}: a condition needs Variable and exactly one operator, got {sorted(keys)}")


def _check_combinator(condition: dict[str, Any], combinators: set[str], keys: set[str], where: str) -> None:
    if len(keys) != 1:
        raise DocumentError(f"{where}: {min(combinators)} cannot be combined with {sorted(keys - combinators)}")
    (name,) = combinators
    operand = condition[name]
    if name == "Not":
        _check_condition(operand, where)
        return
    if not isinstance(operand, list) or not operand:
        raise DocumentError(f"{where}: {name} needs a non-empty list of conditions")
    for item in operand:
        _check_condition(item, where)


def validate(step: Step) -> None:
    choices = step.inputs.get("Choices")
    if not isinstance(choices, list) or not choices:
        raise DocumentError(f"step {step.name!r}: Choices must be a non-empty list")
    for number, choice in enumerate(choices):
        where = f"choice {number} of step {step.name!r}"
        if not isinstance(choice, dict) or "NextStep" not in choice:
            raise DocumentError(f"{where} needs a NextStep")
        _check_condition(choice, where)


def _holds(condition: dict[str, Any]) -> bool:
    if "And" in condition:
        return all(_holds(c) for c in condition["And"])
    if "Or" in condition:
        return any(_holds(c) for c in condition["Or"])
    if "Not" in condition:
        return not _holds(condition["Not"])
    (operator,) = set(condition) - {"Variable", "NextStep"}
    return OPERATORS[operator](condition["Variable"], condition[operator])


def run(step: Step, inputs: dict[str, Any], ctx: RunContext) -> ActionResult:
    for choice in inputs["Choices"]:
        if _holds(choice):
            return ActionResult(next_step=choice["NextStep"])
    if inputs.get("Default"):
        return ActionResult(next_step=inputs["Default"])
    raise StepFailure("no choice matched and the step has no Default")


ACTION = Action("aws:branch", run, required=frozenset({"Choices"}), optional=frozenset({"Default"}), validate=validate)
