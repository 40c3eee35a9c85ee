"""Parse and statically check an SSM Automation document (schemaVersion 0.3).

Everything the runner does not implement is refused here, before any step runs,
with an ``unsupported: ...`` error: unknown top-level fields, parameter fields and
types, step fields, actions, and variable namespaces.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml

from asr.simulator import datatypes
from asr.simulator.errors import DocumentError, UnsupportedFeatureError
from asr.simulator.variables import references_in

TOP_LEVEL_FIELDS = frozenset({"schemaVersion", "description", "assumeRole", "parameters", "mainSteps", "outputs"})
PARAMETER_FIELDS = frozenset(
    {
        "type",
        "description",
        "default",
        "allowedValues",
        "allowedPattern",
        "displayType",
        "minItems",
        "maxItems",
        "minChars",
        "maxChars",
    }
)
STEP_FIELDS = frozenset(
    {
        "name",
        "action",
        "inputs",
        "outputs",
        "description",
        "nextStep",
        "isEnd",
        "onFailure",
        "onCancel",
        "isCritical",
        "maxAttempts",
        "timeoutSeconds",
    }
)
OUTPUT_FIELDS = frozenset({"Name", "Selector", "Type"})


class ActionChecker(Protocol):
    """What the document parser needs to know of an action."""

    custom_outputs: bool

    def check(self, step: Step) -> None: ...


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    type: str
    has_default: bool = False
    default: Any = None
    allowed_values: tuple[Any, ...] | None = None
    allowed_pattern: str | None = None
    min_items: int | None = None
    max_items: int | None = None
    min_chars: int | None = None
    max_chars: int | None = None


@dataclass(frozen=True)
class OutputSpec:
    name: str
    selector: str
    type: str = "String"


@dataclass(frozen=True)
class Step:
    name: str
    action: str
    inputs: dict[str, Any]
    outputs: tuple[OutputSpec, ...] = ()
    next_step: str | None = None
    is_end: bool = False
    on_failure: str = "Abort"
    is_critical: bool = True
    max_attempts: int = 1
    timeout_seconds: int | None = None

    @property
    def on_failure_step(self) -> str | None:
        return self.on_failure[len("step:") :] if self.on_failure.startswith("step:") else None


@dataclass(frozen=True)
class Document:
    name: str
    assume_role: str | None
    parameters: dict[str, ParameterSpec]
    steps: tuple[Step, ...]
    outputs: tuple[str, ...] = ()
    description: str = ""
    step_index: dict[str, int] = field(default_factory=dict)


def load_content(content: Mapping[str, Any] | str | bytes) -> dict[str, Any]:
    """A document as a dict, from a dict or from YAML/JSON text."""
    if isinstance(content, Mapping):
        return dict(content)
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        raise DocumentError(f"document is neither valid JSON nor YAML: {err}") from None
    if not isinstance(data, dict):
        raise DocumentError("document must be a mapping at the top level")
    return data


def parse(name: str, content: Mapping[str, Any], actions: Mapping[str, ActionChecker]) -> Document:
    """A checked Document; DocumentError or UnsupportedFeatureError if it cannot be run."""
    _check_fields(content, TOP_LEVEL_FIELDS, "document field")
    version = str(content.get("schemaVersion", ""))
    if version != "0.3":
        raise UnsupportedFeatureError(f"schemaVersion {version!r} (only Automation schemaVersion 0.3)")
    parameters = _parameters(content.get("parameters") or {})
    raw_steps = content.get("mainSteps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise DocumentError("mainSteps must be a non-empty list")
    steps = tuple(_step(raw, actions) for raw in raw_steps)
    index = _index(steps)
    outputs = _document_outputs(content.get("outputs") or [], index)
    document = Document(
        name=name,
        assume_role=content.get("assumeRole") or None,
        parameters=parameters,
        steps=steps,
        outputs=outputs,
        description=str(content.get("description", "")),
        step_index=index,
    )
    _check_targets(document)
    _check_references(document, content)
    return document


def _check_fields(raw: Mapping[str, Any], known: frozenset[str], what: str, where: str = "") -> None:
    for key in raw:
        if key not in known:
            raise UnsupportedFeatureError(f"{what} {key!r}{where}")


def _parameters(raw: Any) -> dict[str, ParameterSpec]:
    if not isinstance(raw, dict):
        raise DocumentError("parameters must be a mapping")
    return {name: _parameter(name, spec) for name, spec in raw.items()}


def _parameter(name: str, raw: Any) -> ParameterSpec:
    if not isinstance(raw, dict):
        raise DocumentError(f"parameter {name!r} must be a mapping")
    _check_fields(raw, PARAMETER_FIELDS, "parameter field", f" of parameter {name!r}")
    type_name = raw.get("type")
    if not isinstance(type_name, str):
        raise DocumentError(f"parameter {name!r} has no type")
    datatypes.check_type_name(type_name)
    allowed = raw.get("allowedValues")
    return ParameterSpec(
        name=name,
        type=type_name,
        has_default="default" in raw,
        default=raw.get("default"),
        allowed_values=tuple(allowed) if allowed is not None else None,
        allowed_pattern=raw.get("allowedPattern"),
        min_items=raw.get("minItems"),
        max_items=raw.get("maxItems"),
        min_chars=raw.get("minChars"),
        max_chars=raw.get("maxChars"),
    )


def _step(raw: Any, actions: Mapping[str, ActionChecker]) -> Step:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise DocumentError(f"every step needs a name: {raw!r}")
    name = raw["name"]
    _check_fields(raw, STEP_FIELDS, "step field", f" in step {name!r}")
    action = raw.get("action")
    if action not in actions:
        raise UnsupportedFeatureError(f"action {action!r} in step {name!r}")
    inputs = raw.get("inputs") or {}
    if not isinstance(inputs, dict):
        raise DocumentError(f"inputs of step {name!r} must be a mapping")
    step = Step(
        name=name,
        action=action,
        inputs=inputs,
        outputs=_step_outputs(name, raw.get("outputs") or []),
        next_step=raw.get("nextStep"),
        is_end=_flag(raw, "isEnd", False, name),
        on_failure=_on_failure(raw.get("onFailure", "Abort"), name),
        is_critical=_flag(raw, "isCritical", True, name),
        max_attempts=_positive(raw, "maxAttempts", 1, name),
        timeout_seconds=_positive(raw, "timeoutSeconds", None, name),
    )
    if step.outputs and not actions[action].custom_outputs:
        raise UnsupportedFeatureError(f"custom outputs on {action} (step {name!r})")
    actions[action].check(step)
    return step


def _flag(raw: Mapping[str, Any], key: str, default: bool, step: str) -> bool:
    value = raw.get(key, default)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise DocumentError(f"{key} of step {step!r} must be true or false, got {value!r}")
    return value


def _positive(raw: Mapping[str, Any], key: str, default: int | None, step: str) -> int | None:
    if key not in raw:
        return default
    try:
        value = datatypes.coerce_parameter(raw[key], "Integer")
    except ValueError:
        raise DocumentError(f"{key} of step {step!r} must be an integer, got {raw[key]!r}") from None
    if value < 1:
        raise DocumentError(f"{key} of step {step!r} must be at least 1, got {value}")
    return value


def _on_failure(value: Any, step: str) -> str:
    if value in ("Abort", "Continue") or (isinstance(value, str) and value.startswith("step:")):
        return value
    raise UnsupportedFeatureError(f"onFailure {value!r} in step {step!r} (supported: Abort, Continue, step:<name>)")


def _step_outputs(step: str, raw: Any) -> tuple[OutputSpec, ...]:
    if not isinstance(raw, list):
        raise DocumentError(f"outputs of step {step!r} must be a list")
    specs = []
    for item in raw:
        if not isinstance(item, dict) or "Name" not in item or "Selector" not in item:
            raise DocumentError(f"output {item!r} of step {step!r} needs Name and Selector")
        _check_fields(item, OUTPUT_FIELDS, "output field", f" in step {step!r}")
        type_name = item.get("Type", "String")
        datatypes.check_type_name(type_name)
        specs.append(OutputSpec(str(item["Name"]), str(item["Selector"]), type_name))
    return tuple(specs)


def _index(steps: tuple[Step, ...]) -> dict[str, int]:
    index: dict[str, int] = {}
    for position, step in enumerate(steps):
        if step.name in index:
            raise DocumentError(f"duplicate step name {step.name!r}")
        index[step.name] = position
    return index


def _document_outputs(raw: Any, index: dict[str, int]) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise DocumentError("document outputs must be a list of 'Step.Output' strings")
    for item in raw:
        if not isinstance(item, str) or "." not in item or item.split(".", 1)[0] not in index:
            raise DocumentError(f"document output {item!r} must be 'Step.Output' naming a step of the document")
    return tuple(raw)


def _check_targets(document: Document) -> None:
    for step in document.steps:
        for target in (step.next_step, step.on_failure_step):
            if target is not None and target not in document.step_index:
                raise DocumentError(f"step {step.name!r} goes to unknown step {target!r}")


def _check_references(document: Document, content: Mapping[str, Any]) -> None:
    checked = {"assumeRole": content.get("assumeRole"), "mainSteps": content.get("mainSteps")}
    for ref in references_in(checked):
        if ref.kind == "parameter" and ref.name not in document.parameters:
            raise DocumentError(f"{{{{ {ref.text} }}}} names no parameter of the document")
        if ref.kind == "output" and ref.step not in document.step_index:
            raise DocumentError(f"{{{{ {ref.text} }}}} names no step of the document")
    for spec in document.parameters.values():
        for ref in references_in(spec.default):
            if ref.kind in ("parameter", "output"):
                raise DocumentError(f"default of parameter {spec.name!r} may not reference {{{{ {ref.text} }}}}")
