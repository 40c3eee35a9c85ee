"""What the orchestrator needs of AWS and moto 5.2 lacks: small, explicit patches, applied and undone.

moto 5.2 runs Step Functions definitions, but it cannot run Lambda code without Docker, has no
SSM Automation API, no BatchUpdateFindings, and lets anyone assume any role. Each gap is closed
here for the duration of one emulation (a ``Patches`` block, or a pytest ``monkeypatch``: both
offer ``setattr``/``setitem``/``setenv``/``delenv``):

* ``LambdaDispatcher`` replaces ``LambdaFunction._invoke_lambda`` (a private moto method:
  ``check_moto()`` fails loudly if it disappears) and calls our handler in-process by its
  handler path, as the function's execution role; it records every invocation and can crash one.
* ``AutomationRouter`` adds StartAutomationExecution, GetAutomationExecution and
  DescribeAutomationExecutions to moto's SSM, backed by the local runner (asr.simulator), in the
  calling account and Region, with the caller's own credentials: an automation (its
  ``{{ssm:...}}`` parameter defaults, its steps, its children) sees only the account it runs in.
* ``batch_update_findings`` updates the stored finding wherever moto holds it (as the Security
  Hub aggregator does for a member account's update).
* ``send_task_failure`` passes the ``cause`` on (moto 5.2 drops it).
* ``strict_member_role`` makes AssumeRole of ``SO0111-ASR-Orchestrator-Member`` fail with
  AccessDenied when that role does not exist in the target account.
* the waits of the state machine's Retry policies are recorded, never slept (moto sleeps them).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Protocol
from unittest import mock

import boto3
from moto.awslambda.models import LambdaFunction
from moto.core.exceptions import JsonRESTError
from moto.iam.models import iam_backends
from moto.securityhub import urls as securityhub_urls
from moto.securityhub.models import securityhub_backends
from moto.securityhub.responses import SecurityHubResponse
from moto.ssm.responses import SimpleSystemManagerResponse
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.responses import StepFunctionResponse
from moto.sts.exceptions import STSClientError
from moto.sts.models import STSBackend, sts_backends

from asr import solution
from asr.simulator import AutomationRunner, DocumentNotFoundError, FakeClock, ParameterValidationError
from asr.simulator.aws import new_session

__all__ = [
    "AutomationRouter",
    "Invocation",
    "LambdaDispatcher",
    "Patcher",
    "Patches",
    "batch_update_findings",
    "check_moto",
    "install_all",
    "record_retry_waits",
    "send_task_failure",
    "strict_member_role",
]


class Patcher(Protocol):
    """What the emulation needs to patch: ``Patches`` below, or pytest's ``monkeypatch``."""

    def setattr(self, target: Any, name: str, value: Any, raising: bool = True) -> None: ...
    def setitem(self, mapping: MutableMapping[Any, Any], name: Any, value: Any) -> None: ...
    def setenv(self, name: str, value: str, prepend: str | None = None) -> None: ...
    def delenv(self, name: str, raising: bool = True) -> None: ...


class Patches:
    """Patches applied now and undone together, in reverse order, by ``undo()`` (or leaving the block).

    The same four calls as pytest's ``monkeypatch``, without pytest: the product's ``asr simulate``
    uses this, the tests pass their ``monkeypatch``.
    """

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()

    def setattr(self, target: Any, name: str, value: Any, raising: bool = True) -> None:
        if raising and not hasattr(target, name):
            raise AttributeError(f"{target!r} has no attribute {name!r}")
        self._stack.enter_context(mock.patch.object(target, name, value, create=not raising))

    def setitem(self, mapping: MutableMapping[Any, Any], name: Any, value: Any) -> None:
        self._stack.enter_context(mock.patch.dict(mapping, {name: value}))

    def setenv(self, name: str, value: str, prepend: str | None = None) -> None:
        if prepend and name in os.environ:
            value = value + prepend + os.environ[name]
        self._stack.enter_context(mock.patch.dict(os.environ, {name: str(value)}))

    def delenv(self, name: str, raising: bool = True) -> None:
        if name not in os.environ:
            if raising:
                raise KeyError(f"environment variable {name} is not set")
            return
        self._stack.enter_context(mock.patch.dict(os.environ))  # restores the whole environment on undo
        del os.environ[name]

    def callback(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` on undo (in reverse order with the patches)."""
        self._stack.callback(fn)

    def undo(self) -> None:
        self._stack.close()

    def __enter__(self) -> Patches:
        return self

    def __exit__(self, *exc: object) -> None:
        self.undo()


def check_moto() -> None:
    """The moto internals the patches rely on; fails loudly when moto changes under them."""
    if not callable(getattr(LambdaFunction, "_invoke_lambda", None)):
        raise RuntimeError(
            "moto's LambdaFunction._invoke_lambda is gone: update asr/simulator/orchestration/patches.py"
        )
    for cls, name in ((SimpleSystemManagerResponse, "start_automation_execution"),):
        if name in vars(cls):
            raise RuntimeError(f"moto now has {cls.__name__}.{name}: remove the emulation of it")


def _acting_as(role_arn: str) -> Any:
    from asr.iam.enforcer import active

    enforcer = active()
    return enforcer.acting_as(role_arn) if enforcer is not None else contextlib.nullcontext()


@dataclass
class Invocation:
    function: str
    event: Any
    result: Any = None
    errored: bool = False


@dataclass
class LambdaDispatcher:
    """Runs moto Lambda functions as in-process calls of our handlers."""

    invocations: list[Invocation] = field(default_factory=list)
    crash: dict[str, str] = field(default_factory=dict)  # function name -> error message
    #: function name -> how many of its next invocations crash (with ``crash_message``)
    crash_times: dict[str, int] = field(default_factory=dict)
    crash_message: str = "Runtime exited with error: signal: killed"
    extra_handlers: dict[str, Callable[..., Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: called with each finished invocation (progress, traces)
    on_invoke: Callable[[Invocation], None] | None = None

    def handler(self, path: str) -> Callable[..., Any]:
        if path in self.extra_handlers:
            return self.extra_handlers[path]
        module, _, name = path.rpartition(".")
        return getattr(importlib.import_module(module), name)

    def invoke(self, function: LambdaFunction, event: Any) -> tuple[str, bool, str]:
        record = Invocation(function.function_name, event)
        with self.lock:
            self.invocations.append(record)
        try:
            return self._invoke(function, event, record)
        finally:
            if self.on_invoke is not None:
                self.on_invoke(record)

    def _invoke(self, function: LambdaFunction, event: Any, record: Invocation) -> tuple[str, bool, str]:
        context = SimpleNamespace(
            invoked_function_arn=function.function_arn,
            function_name=function.function_name,
            aws_request_id=str(uuid.uuid4()),
        )
        message = self.crash.get(function.function_name)
        with self.lock:
            if message is None and self.crash_times.get(function.function_name, 0) > 0:
                self.crash_times[function.function_name] -= 1
                message = self.crash_message
        if message is not None:
            record.errored = True
            error = {"errorMessage": message, "errorType": "Runtime.ExitError"}
            return json.dumps(error), True, ""
        try:
            with _acting_as(function.role):  # the handler's calls are its execution role's (IAM enforced)
                record.result = self.handler(function.handler)(event, context)
        except Exception as err:
            record.errored = True
            return json.dumps({"errorMessage": str(err), "errorType": type(err).__name__}), True, ""
        return json.dumps(record.result), False, ""

    def install(self, patcher: Patcher) -> None:
        check_moto()
        dispatcher = self

        def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
            return dispatcher.invoke(self, event if event is not None else {})

        patcher.setattr(LambdaFunction, "_invoke_lambda", _invoke_lambda)

    def count(self, function: str | None = None) -> int:
        return sum(1 for i in self.invocations if function is None or i.function == function)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass
class _Started:
    execution_id: str
    account: str
    region: str
    document: str
    tags: dict[str, str]


def caller_session(access_key: str, account: str, region: str) -> boto3.Session:
    """A session with the credentials of the request that used ``access_key`` (moto's STS issued them).

    What an automation started without an assume role runs as, in AWS: the caller, in the caller's
    account -- so its ``{{ssm:...}}`` defaults and steps see that account, never the ambient one.
    Credentials moto did not issue by AssumeRole (plain keys): a session acting in ``account``.
    """
    for by_partition in list(sts_backends.values()):
        for backend in list(by_partition.values()):
            for assumed in list(backend.assumed_roles):
                if assumed.access_key_id == access_key and assumed.account_id == account:
                    return new_session(
                        aws_access_key_id=assumed.access_key_id,
                        aws_secret_access_key=assumed.secret_access_key,
                        aws_session_token=assumed.session_token,
                        region_name=region,
                    )
    return _account_session(account, region)


class AutomationRouter:
    """SSM Automation API on moto, executed by the local runner in the caller's account and Region."""

    def __init__(self, runner: AutomationRunner | None = None, registry: Any = None) -> None:
        self.runner = runner or AutomationRunner(registry, clock=FakeClock())
        self.started: list[_Started] = []
        #: execution id -> number of GetAutomationExecution calls still answered "InProgress"
        self.pending_polls: dict[str, int] = {}
        self.pending_default = 0
        #: when set, every execution reports this terminal status (e.g. "TimedOut", "Cancelled")
        self.status_override: str | None = None
        #: called with (account, region, document) when an automation starts (progress, traces)
        self.on_start: Callable[[str, str, str], None] | None = None
        self._caller = threading.local()  # the session of the StartAutomationExecution being served

    def start(self, account: str, region: str, name: str, parameters: dict[str, Any], tags: list[dict]) -> str:
        """Run ``name`` in ``account``/``region`` as the caller of StartAutomationExecution (when the call
        came through the emulated API), else as a session acting in ``account``."""
        if self.on_start is not None:
            self.on_start(account, region, name)
        session = getattr(self._caller, "session", None) or _account_session(account, region)
        try:
            execution = self.runner.run(name, parameters, account_id=account, region=region, session=session)
        except DocumentNotFoundError as err:
            raise JsonRESTError("AutomationDefinitionNotFoundException", str(err)) from None
        except ParameterValidationError as err:
            raise JsonRESTError("InvalidAutomationExecutionParametersException", str(err)) from None
        exec_id = execution.automation_execution_id
        self.started.append(_Started(exec_id, account, region, name, {t["Key"]: t["Value"] for t in tags or []}))
        self.pending_polls[exec_id] = self.pending_default
        return exec_id

    def get(self, exec_id: str) -> dict[str, Any]:
        try:
            record = self.runner.get_execution(exec_id).to_dict()
        except KeyError:
            raise JsonRESTError("AutomationExecutionNotFoundException", f"{exec_id} not found") from None
        if self.pending_polls.get(exec_id, 0) > 0:
            self.pending_polls[exec_id] -= 1
            record = {**record, "AutomationExecutionStatus": "InProgress", "Outputs": {}}
        elif self.status_override:
            record = {
                **record,
                "AutomationExecutionStatus": self.status_override,
                "FailureMessage": f"Execution {self.status_override} (forced by the test)",
            }
        return _jsonable(record)

    def describe(self, account: str, region: str, filters: list[dict]) -> list[dict[str, Any]]:
        found = []
        for started in self.started:
            if (started.account, started.region) != (account, region):
                continue
            ok = True
            for f in filters or []:
                if f["Key"] == "TagKey":
                    ok &= any(v in started.tags for v in f["Values"])
                elif f["Key"] == "ExecutionId":
                    ok &= started.execution_id in f["Values"]
                else:
                    raise JsonRESTError("InvalidFilterKey", f"filter {f['Key']} is not emulated")
            if ok:
                found.append({"AutomationExecutionId": started.execution_id, "DocumentName": started.document})
        return found

    def install(self, patcher: Patcher) -> None:
        router = self

        def start_automation_execution(self: SimpleSystemManagerResponse) -> str:
            account, region = self.current_account, self.region
            router._caller.session = caller_session(self.get_access_key(), account, region)
            try:
                exec_id = router.start(
                    account,
                    region,
                    self._get_param("DocumentName"),
                    self._get_param("Parameters") or {},
                    self._get_param("Tags") or [],
                )
            finally:
                router._caller.session = None
            return json.dumps({"AutomationExecutionId": exec_id})

        def get_automation_execution(self: SimpleSystemManagerResponse) -> str:
            return json.dumps({"AutomationExecution": router.get(self._get_param("AutomationExecutionId"))})

        def describe_automation_executions(self: SimpleSystemManagerResponse) -> str:
            found = router.describe(self.current_account, self.region, self._get_param("Filters") or [])
            return json.dumps({"AutomationExecutionMetadataList": found})

        for fn in (start_automation_execution, get_automation_execution, describe_automation_executions):
            patcher.setattr(SimpleSystemManagerResponse, fn.__name__, fn, raising=False)


def _account_session(account: str, region: str) -> boto3.Session:
    """A session acting in ``account`` (moto maps assumed-role credentials to the role's account)."""
    from asr.iam.enforcer import active
    from asr.simulator.aws import assume_role

    enforcer = active()
    with enforcer.bypass() if enforcer is not None else contextlib.nullcontext():  # the emulation's own session
        return assume_role(
            new_session(region_name=region), f"arn:aws:iam::{account}:role/asr-simulator", region, "setup"
        )


def _apply_update(data: dict[str, Any], params: dict[str, Any]) -> None:
    if "Note" in params:
        data["Note"] = {**params["Note"], "UpdatedAt": datetime.now().isoformat()}
    if "Workflow" in params:
        data["Workflow"] = dict(params["Workflow"])
        data["WorkflowState"] = params["Workflow"].get("Status", data.get("WorkflowState"))
    for key in ("VerificationState", "Confidence", "Criticality", "Types", "UserDefinedFields"):
        if key in params:
            data[key] = params[key]


def batch_update_findings(self: SecurityHubResponse) -> str:
    """BatchUpdateFindings (moto 5.2 lacks it):
    https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchUpdateFindings.html"""
    params = json.loads(self.body) if self.body else {}
    processed, unprocessed = [], []
    for ident in params.get("FindingIdentifiers", []):
        hits = 0
        for _account, regions in list(securityhub_backends.items()):
            for _region, backend in list(regions.items()):
                for stored in backend.findings:
                    if stored.id == ident.get("Id") and stored.data.get("ProductArn") == ident.get("ProductArn"):
                        _apply_update(stored.data, params)
                        hits += 1
        if hits:
            processed.append(ident)
        else:
            unprocessed.append(
                {"FindingIdentifier": ident, "ErrorCode": "FindingNotFound", "ErrorMessage": "not found"}
            )
    return json.dumps({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed})


def strict_member_role(patcher: Patcher) -> None:
    original = STSBackend.assume_role

    def assume_role(self: STSBackend, **kwargs: Any) -> Any:
        arn = kwargs.get("role_arn", "")
        account, name = arn.split(":")[4], arn.rsplit("/", 1)[-1]
        if name == solution.ORCHESTRATOR_MEMBER_ROLE:
            try:
                iam_backends[account]["aws"].get_role(name)
            except Exception:
                raise STSClientError(
                    "AccessDenied", f"User is not authorized to perform: sts:AssumeRole on resource: {arn}"
                ) from None
        return original(self, **kwargs)

    patcher.setattr(STSBackend, "assume_role", assume_role)


def send_task_failure(self: StepFunctionResponse) -> Any:
    """SendTaskFailure with its ``cause`` (moto 5.2 drops it):
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskFailure.html"""
    from moto.core.responses import EmptyResult

    self.stepfunction_backend.send_task_failure(
        self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
    )
    return EmptyResult()


def record_retry_waits(patcher: Patcher) -> list[float]:
    """The waits of the state machine's Retry policies: recorded in the returned list, never slept."""
    waits: list[float] = []
    patcher.setattr(retrier_decl, "time", SimpleNamespace(sleep=waits.append))
    return waits


def install_all(patcher: Patcher, dispatcher: LambdaDispatcher, router: AutomationRouter) -> None:
    dispatcher.install(patcher)
    router.install(patcher)
    patcher.setattr(SecurityHubResponse, "batch_update_findings", batch_update_findings, raising=False)
    patcher.setitem(securityhub_urls.url_paths, "{0}/findings/batchupdate$", SecurityHubResponse.dispatch)
    strict_member_role(patcher)
    patcher.setattr(StepFunctionResponse, "send_task_failure", send_task_failure)


@contextlib.contextmanager
def applied() -> Iterator[Patches]:
    """A ``Patches`` block: ``with applied() as patches: ...``."""
    with Patches() as patches:
        yield patches
