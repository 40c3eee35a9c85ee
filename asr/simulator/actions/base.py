"""What every action implementation provides."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from asr.simulator.document import Step
from asr.simulator.errors import DocumentError, StepFailure, UnsupportedFeatureError

if TYPE_CHECKING:
    from asr.simulator.context import RunContext
    from asr.simulator.execution import AutomationExecution


@dataclass
class ActionResult:
    """What a step produced.

    ``outputs`` are the action's own outputs; ``payload`` is the data the step's
    custom output Selectors read; ``next_step`` overrides the step order (branch).
    """

    outputs: dict[str, Any] = field(default_factory=dict)
    payload: Any = None
    next_step: str | None = None
    children: list[AutomationExecution] = field(default_factory=list)


Runner = Callable[[Step, dict[str, Any], "RunContext"], ActionResult]


@dataclass(frozen=True)
class Action:
    """An action: its inputs and the function that runs it.

    With ``api_params`` every input other than the named ones is passed to the API.
    """

    name: str
    run: Runner
    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    api_params: bool = False
    custom_outputs: bool = False
    default_timeout: int | None = None
    validate: Callable[[Step], None] | None = None

    def check(self, step: Step) -> None:
        """Statically check a step's inputs (DocumentError / UnsupportedFeatureError)."""
        if self.validate is not None:
            self.validate(step)
        missing = sorted(self.required - set(step.inputs))
        if missing:
            raise DocumentError(f"step {step.name!r} ({self.name}) lacks required input(s) {', '.join(missing)}")
        if self.api_params:
            return
        for key in step.inputs:
            if key not in self.required and key not in self.optional:
                raise UnsupportedFeatureError(f"input {key!r} of {self.name} (step {step.name!r})")


def require_type(step: Step, name: str, value: Any, kind: type | tuple[type, ...], what: str) -> None:
    """Fail the step (as SSM's input validation would) when an input has the wrong shape."""
    if not isinstance(value, kind):
        raise StepFailure(f"input {name} of step {step.name!r} must be {what}, got {value!r}")
