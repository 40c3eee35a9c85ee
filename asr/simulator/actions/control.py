"""aws:sleep and aws:approve -- time and people, both simulated."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from asr.simulator.actions.base import Action, ActionResult, require_type
from asr.simulator.document import Step
from asr.simulator.errors import DocumentError, StepFailure, StepTimeout

if TYPE_CHECKING:
    from asr.simulator.context import RunContext

_DURATION = re.compile(
    r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
MAX_SLEEP = timedelta(days=7)


def parse_duration(text: str) -> timedelta:
    """An ISO-8601 duration such as ``PT10M`` or ``P1DT2H`` (days, hours, minutes, seconds)."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None or text in ("P", "PT") or text.endswith("T"):
        raise StepFailure(f"Duration {text!r} is not an ISO-8601 duration such as PT10M")
    parts = {k: float(v) for k, v in match.groupdict().items() if v is not None}
    return timedelta(**parts)


def _parse_timestamp(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        raise StepFailure(f"Timestamp {text!r} is not an ISO-8601 time such as 2024-01-01T00:00:00Z") from None
    if moment.tzinfo is None:
        raise StepFailure(f"Timestamp {text!r} needs a time zone (e.g. a trailing Z)")
    return moment


def _validate_sleep(step: Step) -> None:
    if ("Duration" in step.inputs) == ("Timestamp" in step.inputs):
        raise DocumentError(f"step {step.name!r} (aws:sleep) needs exactly one of Duration or Timestamp")


def sleep(step: Step, inputs: dict[str, Any], ctx: RunContext) -> ActionResult:
    now = ctx.clock.now()
    if "Duration" in inputs:
        wanted = parse_duration(inputs["Duration"])
    else:
        wanted = max(timedelta(0), _parse_timestamp(inputs["Timestamp"]) - now)
    wanted = min(wanted, MAX_SLEEP)
    if ctx.deadline is not None and now + wanted > ctx.deadline:
        ctx.clock.sleep(max(0.0, (ctx.deadline - now).total_seconds()))
        raise StepTimeout(f"the sleep of {wanted} is longer than timeoutSeconds {step.timeout_seconds}")
    ctx.clock.sleep(wanted.total_seconds())
    return ActionResult()


_DECISIONS = {"approve": "Approved", "approved": "Approved", "reject": "Rejected", "rejected": "Rejected"}


def approve(step: Step, inputs: dict[str, Any], ctx: RunContext) -> ActionResult:
    approvers = inputs["Approvers"]
    approvers = [approvers] if isinstance(approvers, str) else approvers
    require_type(step, "Approvers", approvers, list, "a StringList")
    raw = ctx.approvals.get(step.name, ctx.approvals.get("*"))
    if raw is None:
        raise StepTimeout(f"no approval decision is configured for step {step.name!r}; nobody approved it in time")
    decision = _DECISIONS.get(str(raw).lower())
    if decision is None:
        raise StepFailure(f"approval decision {raw!r} for step {step.name!r} must be 'approve' or 'reject'")
    outputs = {"ApprovalStatus": decision, "ApproverDecisions": [f"{approvers[0]}: {decision}"]}
    if decision == "Rejected":
        raise StepFailure(f"the approval request was rejected (approvers {approvers!r})")
    return ActionResult(outputs=outputs)


SLEEP = Action("aws:sleep", sleep, optional=frozenset({"Duration", "Timestamp"}), validate=_validate_sleep)
APPROVE = Action(
    "aws:approve",
    approve,
    required=frozenset({"Approvers"}),
    optional=frozenset({"MinRequiredApprovals", "Message", "NotificationArn"}),
)
