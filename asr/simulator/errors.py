"""Exceptions of the local SSM Automation runner."""

from __future__ import annotations

from typing import Any

UNSUPPORTED_PREFIX = "unsupported: "


class SimulatorError(Exception):
    """Base class of every error the simulator raises."""


class UnsupportedFeatureError(SimulatorError):
    """The document uses an SSM feature the runner does not implement.

    It always fails the whole run (never retried, never skipped by onFailure).
    """

    def __init__(self, what: str) -> None:
        super().__init__(what if what.startswith(UNSUPPORTED_PREFIX) else UNSUPPORTED_PREFIX + what)


class DocumentError(SimulatorError):
    """The document is malformed (SSM would have refused to create it)."""


class DocumentNotFoundError(SimulatorError, KeyError):
    """No document of that name is in the registry."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "document not found"


class ParameterValidationError(SimulatorError, ValueError):
    """The parameters of an execution are invalid (StartAutomationExecution refuses them)."""


class StepFailure(SimulatorError):
    """The current step fails with this message (subject to maxAttempts and onFailure).

    ``outputs`` and ``children`` are what the step produced before it failed.
    """

    def __init__(
        self, message: str, *, outputs: dict[str, Any] | None = None, children: list[Any] | None = None
    ) -> None:
        super().__init__(message)
        self.outputs = outputs or {}
        self.children = children or []


class StepTimeout(StepFailure):
    """The current step ran past its timeoutSeconds."""


class ConversionError(SimulatorError, ValueError):
    """A value cannot be converted to the requested SSM data type."""
