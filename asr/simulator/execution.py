"""Execution records shaped like SSM's ``GetAutomationExecution`` answer."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PENDING = "Pending"
    IN_PROGRESS = "InProgress"
    SUCCESS = "Success"
    FAILED = "Failed"
    TIMED_OUT = "TimedOut"
    CANCELLED = "Cancelled"


NO_OUTPUT = "No output available yet because the step is not successfully executed"


@dataclass
class StepExecution:
    """One step of an execution (one entry of ``StepExecutions``)."""

    step_name: str
    action: str
    step_execution_id: str
    on_failure: str
    max_attempts: int
    is_critical: bool
    is_end: bool
    next_step: str | None
    timeout_seconds: int | None
    start_time: datetime
    end_time: datetime | None = None
    status: Status = Status.IN_PROGRESS
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    failure_message: str | None = None
    attempts: int = 0
    child_executions: list[AutomationExecution] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        from asr.simulator.datatypes import to_ssm_strings

        data: dict[str, Any] = {
            "StepName": self.step_name,
            "Action": self.action,
            "StepExecutionId": self.step_execution_id,
            "ExecutionStartTime": self.start_time,
            "StepStatus": str(self.status),
            "OnFailure": self.on_failure,
            "MaxAttempts": self.max_attempts,
            "IsCritical": self.is_critical,
            "IsEnd": self.is_end,
            "Inputs": {k: json.dumps(v, default=str) for k, v in self.inputs.items()},
            "Outputs": {k: to_ssm_strings(v) for k, v in self.outputs.items()},
        }
        if self.end_time is not None:
            data["ExecutionEndTime"] = self.end_time
        if self.next_step is not None:
            data["NextStep"] = self.next_step
        if self.timeout_seconds is not None:
            data["TimeoutSeconds"] = self.timeout_seconds
        if self.failure_message is not None:
            data["FailureMessage"] = self.failure_message
            data["FailureDetails"] = {
                "FailureStage": "Execution",
                "FailureType": "Verification" if self.action == "aws:assertAwsResourceProperty" else "Unknown",
            }
        return data


@dataclass
class AutomationExecution:
    """The result of one run; ``to_dict()`` is shaped like SSM's AutomationExecution."""

    automation_execution_id: str
    document_name: str
    account_id: str
    region: str
    start_time: datetime
    document_version: str = "1"
    status: Status = Status.IN_PROGRESS
    parameters: dict[str, Any] = field(default_factory=dict)
    step_executions: list[StepExecution] = field(default_factory=list)
    outputs: dict[str, list[str]] = field(default_factory=dict)
    failure_message: str | None = None
    end_time: datetime | None = None
    parent_automation_execution_id: str | None = None
    assumed_role: str | None = None
    target_location: dict[str, str] | None = None
    child_executions: list[AutomationExecution] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.status is Status.SUCCESS

    def step(self, name: str) -> StepExecution:
        """The last execution of the step called ``name``."""
        for step in reversed(self.step_executions):
            if step.step_name == name:
                return step
        raise KeyError(f"step {name!r} was not executed in {self.document_name}")

    def executed_steps(self) -> list[str]:
        return [s.step_name for s in self.step_executions]

    def to_dict(self) -> dict[str, Any]:
        from asr.simulator.datatypes import to_ssm_strings

        data: dict[str, Any] = {
            "AutomationExecutionId": self.automation_execution_id,
            "DocumentName": self.document_name,
            "DocumentVersion": self.document_version,
            "ExecutionStartTime": self.start_time,
            "AutomationExecutionStatus": str(self.status),
            "StepExecutions": [s.to_dict() for s in self.step_executions],
            "StepExecutionsTruncated": False,
            "Parameters": {k: to_ssm_strings(v) for k, v in self.parameters.items()},
            "Outputs": dict(self.outputs),
            "Mode": "Auto",
            "ExecutedBy": f"arn:aws:sts::{self.account_id}:assumed-role/simulator",
        }
        if self.end_time is not None:
            data["ExecutionEndTime"] = self.end_time
        if self.failure_message is not None:
            data["FailureMessage"] = self.failure_message
        if self.parent_automation_execution_id is not None:
            data["ParentAutomationExecutionId"] = self.parent_automation_execution_id
        if self.target_location is not None:
            data["TargetLocations"] = [self.target_location]
        if self.assumed_role:
            data["ExecutedBy"] = self.assumed_role
        return data
