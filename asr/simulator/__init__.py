"""Local execution of SSM Automation documents and Security Hub finding fixtures.

See docs/simulator.md.
"""

from asr.simulator.clock import Clock, FakeClock, RealClock
from asr.simulator.errors import (
    DocumentError,
    DocumentNotFoundError,
    ParameterValidationError,
    SimulatorError,
    UnsupportedFeatureError,
)
from asr.simulator.execution import AutomationExecution, Status, StepExecution
from asr.simulator.registry import DocumentRegistry
from asr.simulator.runner import AutomationRunner

__all__ = [
    "AutomationExecution",
    "AutomationRunner",
    "Clock",
    "DocumentError",
    "DocumentNotFoundError",
    "DocumentRegistry",
    "FakeClock",
    "ParameterValidationError",
    "RealClock",
    "SimulatorError",
    "Status",
    "StepExecution",
    "UnsupportedFeatureError",
]
