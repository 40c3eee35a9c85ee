"""Run SSM Automation documents (schemaVersion 0.3) in-process against boto3 (moto in tests).

    runner = AutomationRunner(registry, clock=FakeClock())
    execution = runner.run("ASR-EnableKeyRotation", {"KeyId": key_id, ...},
                           account_id="111111111111", region="us-east-1")
    assert execution.status == "Success", execution.failure_message

See docs/simulator.md for exactly what is implemented; anything else fails the run
with a FailureMessage that starts with "unsupported: ".
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import boto3

from asr.simulator import aws
from asr.simulator import document as documents
from asr.simulator.actions import ACTIONS, ActionResult
from asr.simulator.clock import Clock, FakeClock
from asr.simulator.context import RunContext
from asr.simulator.datatypes import convert_output, to_ssm_strings
from asr.simulator.document import Document, Step
from asr.simulator.errors import (
    ConversionError,
    DocumentError,
    ParameterValidationError,
    StepFailure,
    StepTimeout,
    UnsupportedFeatureError,
)
from asr.simulator.execution import (
    NO_OUTPUT,
    AutomationExecution,
    Status,
    StepExecution,
)
from asr.simulator.jsonpath import NoMatch, select
from asr.simulator.parameters import bind
from asr.simulator.registry import DocumentRegistry

MAX_STEP_EXECUTIONS = 10_000


class AutomationRunner:
    """Executes documents from a registry; keeps every execution (children too) by id."""

    def __init__(
        self,
        registry: DocumentRegistry,
        *,
        clock: Clock | None = None,
        approvals: Mapping[str, str] | None = None,
        poll_interval: float = 5.0,
    ) -> None:
        self.registry = registry
        self.clock: Clock = clock or FakeClock()
        self.approvals: Mapping[str, str] = dict(approvals or {})
        self.poll_interval = poll_interval
        self._executions: dict[str, AutomationExecution] = {}
        self._parsed: dict[str, tuple[int, Document]] = {}

    # -- public API -----------------------------------------------------------------

    def run(
        self,
        document_name: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        account_id: str = "111111111111",
        region: str = "us-east-1",
        session: boto3.Session | None = None,
        approvals: Mapping[str, str] | None = None,
    ) -> AutomationExecution:
        """Run a document to its end and return the execution.

        ``session`` is the caller's session (default: boto3's credentials in
        ``region``); it is used when the document has no assumeRole. ``approvals``
        maps aws:approve step names (or "*") to "approve" or "reject" for this run.
        Raises DocumentNotFoundError or ParameterValidationError (as
        StartAutomationExecution would); every other problem is a Failed execution.
        """
        aws.check_location(account_id, region)
        return self._start(
            document_name,
            dict(parameters or {}),
            account_id=account_id,
            region=region,
            session=session or aws.new_session(region_name=region),
            approvals={**self.approvals, **(approvals or {})},
        )

    def get_execution(self, execution_id: str) -> AutomationExecution:
        return self._executions[execution_id]

    @property
    def executions(self) -> list[AutomationExecution]:
        return list(self._executions.values())

    # -- used by aws:executeAutomation ------------------------------------------------

    def start_child(
        self,
        document_name: str,
        parameters: Mapping[str, Any],
        *,
        parent: RunContext,
        account_id: str,
        region: str,
        session: boto3.Session,
        target_location: dict[str, Any] | None = None,
    ) -> AutomationExecution:
        child = self._start(
            document_name,
            dict(parameters),
            account_id=account_id,
            region=region,
            session=session,
            approvals=parent.approvals,
            parent_id=parent.execution_id,
            target_location=target_location,
        )
        return child

    def record_aggregate(
        self, document_name: str, parent: RunContext, children: list[AutomationExecution]
    ) -> AutomationExecution:
        """Record the multi-account execution that groups TargetLocations children."""
        aggregate = self._new_execution(document_name, parent.account_id, parent.region, parent.execution_id)
        aggregate.child_executions = children
        aggregate.end_time = self.clock.now()
        for child in children:
            child.parent_automation_execution_id = aggregate.automation_execution_id
        self._executions[aggregate.automation_execution_id] = aggregate
        return aggregate

    # -- one execution ----------------------------------------------------------------

    def _new_execution(self, name: str, account_id: str, region: str, parent_id: str | None) -> AutomationExecution:
        return AutomationExecution(
            automation_execution_id=str(uuid.uuid4()),
            document_name=name,
            account_id=account_id,
            region=region,
            start_time=self.clock.now(),
            parent_automation_execution_id=parent_id,
        )

    def _start(
        self,
        name: str,
        parameters: dict[str, Any],
        *,
        account_id: str,
        region: str,
        session: boto3.Session,
        approvals: Mapping[str, str],
        parent_id: str | None = None,
        target_location: dict[str, Any] | None = None,
    ) -> AutomationExecution:
        content = self.registry.get(name)
        execution = self._new_execution(name, account_id, region, parent_id)
        execution.target_location = target_location
        ctx = RunContext(self, execution, session, aws.partition_of(region), self.clock, approvals)
        try:
            document = self._document(name, content)
        except (DocumentError, UnsupportedFeatureError) as err:
            return self._finish_early(execution, str(err))
        ctx.parameters = self._bind(document, parameters, ctx)
        execution.parameters = dict(ctx.parameters)
        self._executions[execution.automation_execution_id] = execution
        try:
            self._assume_role(document, ctx)
        except (StepFailure, DocumentError) as err:
            return self._finish(execution, Status.FAILED, f"assumeRole failed: {err}")
        except UnsupportedFeatureError as err:
            return self._finish(execution, Status.FAILED, str(err))
        self._run_steps(document, ctx)
        return execution

    def _document(self, name: str, content: dict[str, Any]) -> Document:
        cached = self._parsed.get(name)
        if cached is not None and cached[0] == id(content):
            return cached[1]
        document = documents.parse(name, content, ACTIONS)
        self._parsed[name] = (id(content), document)
        return document

    def _finish_early(self, execution: AutomationExecution, message: str) -> AutomationExecution:
        self._executions[execution.automation_execution_id] = execution
        return self._finish(execution, Status.FAILED, message)

    def _bind(self, document: Document, parameters: dict[str, Any], ctx: RunContext) -> dict[str, Any]:
        try:
            return bind(document, parameters, ctx.resolve)
        except (StepFailure, DocumentError) as err:
            raise ParameterValidationError(f"{document.name}: parameter default: {err}") from None

    def _assume_role(self, document: Document, ctx: RunContext) -> None:
        if document.assume_role is None:
            return
        role = ctx.resolve(document.assume_role)
        if not isinstance(role, str):
            raise StepFailure(f"assumeRole must be a role ARN, got {role!r}")
        if role:
            session_name = f"ssm-automation-{ctx.execution_id}"
            ctx.use_session(aws.assume_role_as_service(ctx.session, role, ctx.region, session_name))
            ctx.execution.assumed_role = role

    def _finish(self, execution: AutomationExecution, status: Status, message: str | None) -> AutomationExecution:
        execution.status = status
        execution.failure_message = message
        execution.end_time = self.clock.now()
        return execution

    # -- the step loop ----------------------------------------------------------------

    def _run_steps(self, document: Document, ctx: RunContext) -> None:
        try:
            status, message = self._loop(document, ctx)
        except DocumentError as err:
            status, message = Status.FAILED, f"document error: {err}"
        except UnsupportedFeatureError as err:
            status, message = Status.FAILED, str(err)
        self._collect_outputs(document, ctx)
        self._finish(ctx.execution, status, message)

    def _loop(self, document: Document, ctx: RunContext) -> tuple[Status, str | None]:
        """Run steps from the first to the end; the final status and failure message."""
        position: int | None = 0
        final: tuple[Status, str | None] = (Status.SUCCESS, None)
        for _ in range(MAX_STEP_EXECUTIONS):
            if position is None:
                return final
            step = document.steps[position]
            record, result = self._run_step(step, ctx)
            if record.status is Status.SUCCESS:
                position = self._next(document, step, position, result.next_step if result else None)
                continue
            verb = "timed out" if record.status is Status.TIMED_OUT else "failed"
            message = f"Step {step.name} {verb}: {record.failure_message}"
            if step.on_failure == "Abort":
                return record.status, message
            if step.is_critical and final[0] is Status.SUCCESS:
                final = (Status.FAILED, message)
            position = self._after_failure(document, step, position)
        raise DocumentError(f"more than {MAX_STEP_EXECUTIONS} step executions: does the document loop forever?")

    def _next(self, document: Document, step: Step, position: int, branch_target: str | None) -> int | None:
        target = branch_target or (None if step.is_end else step.next_step)
        if target is not None:
            if target not in document.step_index:
                raise DocumentError(f"step {step.name!r} goes to unknown step {target!r}")
            return document.step_index[target]
        if step.is_end or position + 1 >= len(document.steps):
            return None
        return position + 1

    def _after_failure(self, document: Document, step: Step, position: int) -> int | None:
        if step.on_failure_step is not None:
            return document.step_index[step.on_failure_step]
        return self._next(document, step, position, None)

    def _run_step(self, step: Step, ctx: RunContext) -> tuple[StepExecution, ActionResult | None]:
        action = ACTIONS[step.action]
        record = StepExecution(
            step_name=step.name,
            action=step.action,
            step_execution_id=str(uuid.uuid4()),
            on_failure=step.on_failure,
            max_attempts=step.max_attempts,
            is_critical=step.is_critical,
            is_end=step.is_end,
            next_step=step.next_step,
            timeout_seconds=step.timeout_seconds,
            start_time=self.clock.now(),
        )
        ctx.execution.step_executions.append(record)
        result = None
        try:
            for attempt in range(1, step.max_attempts + 1):
                record.attempts = attempt
                result = self._attempt(step, action.default_timeout, ctx, record)
                if result is not None:
                    break
        except (UnsupportedFeatureError, DocumentError) as err:
            record.status, record.failure_message = Status.FAILED, str(err)
            if repr(step.name) in str(err) or f"step {step.name}" in str(err):
                raise
            raise type(err)(f"{err} (step {step.name!r})") from None
        finally:
            record.end_time = self.clock.now()
        return record, result

    def _attempt(
        self, step: Step, default_timeout: int | None, ctx: RunContext, record: StepExecution
    ) -> ActionResult | None:
        """One try of a step: its result, or None after recording the failure."""
        timeout = step.timeout_seconds or default_timeout
        started = self.clock.now()
        ctx.deadline = started + timedelta(seconds=timeout) if timeout else None
        try:
            inputs = ctx.resolve(step.inputs)
            record.inputs = inputs
            result = ACTIONS[step.action].run(step, inputs, ctx)
            outputs = {**result.outputs, **self._custom_outputs(step, result.payload)}
            if ctx.deadline is not None and self.clock.now() > ctx.deadline:
                raise StepTimeout(f"the step ran longer than timeoutSeconds {timeout}")
        except StepFailure as failure:
            record.status = Status.TIMED_OUT if isinstance(failure, StepTimeout) else Status.FAILED
            record.failure_message = str(failure)
            record.outputs = dict(failure.outputs)
            record.child_executions = list(failure.children)
            return None
        record.status, record.failure_message = Status.SUCCESS, None
        record.outputs = outputs
        record.child_executions = list(result.children)
        ctx.step_outputs[step.name] = outputs
        return result

    def _custom_outputs(self, step: Step, payload: Any) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        for spec in step.outputs:
            try:
                value = select(payload, spec.selector)
            except NoMatch:
                continue
            try:
                outputs[spec.name] = convert_output(value, spec.type)
            except ConversionError as err:
                raise StepFailure(f"output {spec.name} ({spec.selector}): {err}") from None
        return outputs

    def _collect_outputs(self, document: Document, ctx: RunContext) -> None:
        for name in document.outputs:
            step, output = name.split(".", 1)
            value = ctx.step_outputs.get(step, {}).get(output)
            ctx.execution.outputs[name] = [NO_OUTPUT] if value is None else to_ssm_strings(value)
