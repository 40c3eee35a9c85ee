"""The state of one execution that steps read and write."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from asr.simulator.clock import Clock
from asr.simulator.errors import DocumentError, StepFailure
from asr.simulator.execution import AutomationExecution
from asr.simulator.variables import Reference, resolve

if TYPE_CHECKING:
    from asr.simulator.runner import AutomationRunner


@dataclass
class RunContext:
    """One execution: where it runs, as whom, and what its steps have produced."""

    runner: AutomationRunner
    execution: AutomationExecution
    session: boto3.Session
    partition: str
    clock: Clock
    approvals: Mapping[str, str]
    parameters: dict[str, Any] = field(default_factory=dict)
    step_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    deadline: datetime | None = None
    _clients: dict[str, BaseClient] = field(default_factory=dict)

    @property
    def account_id(self) -> str:
        return self.execution.account_id

    @property
    def region(self) -> str:
        return self.execution.region

    @property
    def execution_id(self) -> str:
        return self.execution.automation_execution_id

    def use_session(self, session: boto3.Session) -> None:
        self.session = session
        self._clients.clear()

    def client(self, service: str) -> BaseClient:
        """A client of the execution's session in the execution's Region (cached)."""
        if service not in self._clients:
            try:
                self._clients[service] = self.session.client(service, region_name=self.region)
            except BotoCoreError as err:
                raise StepFailure(f"Service {service!r}: {err}") from None
        return self._clients[service]

    def resolve(self, value: Any) -> Any:
        return resolve(value, self.lookup)

    def lookup(self, ref: Reference) -> Any:
        if ref.kind == "parameter":
            if ref.name not in self.parameters:
                raise DocumentError(f"{{{{ {ref.text} }}}} names no parameter of the document")
            return self.parameters[ref.name]
        if ref.kind == "output":
            return self._output(ref)
        if ref.kind == "ssm":
            return self._ssm_parameter(ref.name)
        return self.builtin(f"{ref.kind}:{ref.name}")

    def builtin(self, name: str) -> str:
        now = self.clock.now()
        values = {
            "global:ACCOUNT_ID": self.account_id,
            "global:REGION": self.region,
            "global:AWS_PARTITION": self.partition,
            "global:DATE": now.strftime("%Y-%m-%d"),
            "global:DATE_TIME": now.strftime("%Y-%m-%d_%H.%M.%S"),
            "automation:EXECUTION_ID": self.execution_id,
        }
        return values[name]

    def builtins(self) -> dict[str, str]:
        """The variables an executeScript handler receives as its context."""
        names = (
            "global:ACCOUNT_ID",
            "global:REGION",
            "global:AWS_PARTITION",
            "global:DATE",
            "global:DATE_TIME",
            "automation:EXECUTION_ID",
        )
        return {name: self.builtin(name) for name in names}

    def _output(self, ref: Reference) -> Any:
        outputs = self.step_outputs.get(ref.step)
        if outputs is None:
            raise StepFailure(f"{{{{ {ref.text} }}}} has no value: step {ref.step!r} has not run successfully")
        if ref.output not in outputs:
            raise StepFailure(f"{{{{ {ref.text} }}}} has no value: step {ref.step!r} has no output {ref.output!r}")
        return outputs[ref.output]

    def _ssm_parameter(self, name: str) -> str:
        try:
            return self.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
        except ClientError as err:
            raise StepFailure(f"{{{{ ssm:{name} }}}}: {err}") from None
