"""aws:executeScript -- Python scripts run in-process against the execution's session."""

from __future__ import annotations

import json
import re
import sys
import threading
import types
from typing import TYPE_CHECKING, Any

import boto3

from asr.simulator.actions.base import Action, ActionResult, require_type
from asr.simulator.datatypes import to_jsonable
from asr.simulator.document import Step
from asr.simulator.errors import ConversionError, StepFailure, UnsupportedFeatureError

if TYPE_CHECKING:
    from asr.simulator.context import RunContext

_PYTHON = re.compile(r"^python3\.\d+$")


def _load(step: Step, script: str) -> types.ModuleType:
    """Run the script as a real module, as SSM does: registered in ``sys.modules``
    while it executes, so ``dataclasses``, ``typing.get_type_hints`` and pickling,
    which look the module up by name, work as they would in AWS."""
    name = f"ssm_script_{step.name}"
    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        code = compile(script, f"<script of step {step.name}>", "exec")
        exec(code, module.__dict__)
    except Exception as exc:
        raise StepFailure(f"{type(exc).__name__} while loading the script: {exc}") from None
    finally:
        sys.modules.pop(name, None)
    return module


def _handler(step: Step, module: types.ModuleType, name: str) -> Any:
    handler = getattr(module, name, None)
    if not callable(handler):
        raise StepFailure(f"Handler {name!r} is not a function defined in the script of step {step.name!r}")
    return handler


#: The execution's session, per thread: automations of a state machine's Map items run in parallel
#: threads, and a process-wide swap of ``boto3.DEFAULT_SESSION`` raced -- one thread restored what
#: another had set, and a member remediation role's session leaked into every later ``boto3.client``.
_scripts = threading.local()
_process_default_session = boto3._get_default_session


def _default_session() -> boto3.Session:
    """``boto3.client(...)``'s session: the running script's on its thread, else boto3's own."""
    session = getattr(_scripts, "session", None)
    return session if session is not None else _process_default_session()


boto3._get_default_session = _default_session  # boto3.client/resource look it up at each call


def _call(handler: Any, events: Any, context: dict[str, str], session: boto3.Session) -> Any:
    """Call the handler with boto3's default session, on this thread, set to the execution's session."""
    previous = getattr(_scripts, "session", None)
    _scripts.session = session
    try:
        return handler(events, context)
    except (Exception, SystemExit) as exc:
        raise StepFailure(f"{type(exc).__name__}: {exc}") from None
    finally:
        _scripts.session = previous


def run(step: Step, inputs: dict[str, Any], ctx: RunContext) -> ActionResult:
    runtime = inputs["Runtime"]
    if not isinstance(runtime, str) or not _PYTHON.match(runtime):
        raise UnsupportedFeatureError(f"executeScript Runtime {runtime!r} (only python3.x) in step {step.name!r}")
    require_type(step, "Script", inputs["Script"], str, "the script text")
    require_type(step, "Handler", inputs["Handler"], str, "a function name")
    events = inputs.get("InputPayload", {})
    handler = _handler(step, _load(step, inputs["Script"]), inputs["Handler"])
    payload = _call(handler, events, ctx.builtins(), ctx.session)
    try:
        payload = to_jsonable(payload)
    except ConversionError as err:
        raise StepFailure(f"the handler's return value: {err}") from None
    data = {"Payload": payload}
    return ActionResult(outputs={"OutputPayload": json.dumps(data)}, payload=data)


ACTION = Action(
    name="aws:executeScript",
    run=run,
    required=frozenset({"Runtime", "Handler", "Script"}),  # Attachment is unsupported
    optional=frozenset({"InputPayload"}),
    custom_outputs=True,
)
