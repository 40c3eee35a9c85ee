"""aws:executeAutomation -- a child execution, optionally in other accounts and Regions."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from asr.simulator import aws
from asr.simulator.actions.base import Action, ActionResult, require_type
from asr.simulator.document import Step
from asr.simulator.errors import (
    UNSUPPORTED_PREFIX,
    DocumentNotFoundError,
    ParameterValidationError,
    StepFailure,
    UnsupportedFeatureError,
)
from asr.simulator.execution import AutomationExecution, Status

if TYPE_CHECKING:
    from asr.simulator.context import RunContext

DEFAULT_EXECUTION_ROLE = "AWS-SystemsManager-AutomationExecutionRole"
_LOCATION_FIELDS = frozenset({"Accounts", "Regions", "ExecutionRoleName"})


def _locations(step: Step, raw: Any) -> list[tuple[str, str, str]]:
    """(account, Region, role name) for every pair of every TargetLocation."""
    require_type(step, "TargetLocations", raw, list, "a list of locations")
    pairs = []
    for location in raw:
        require_type(step, "TargetLocations", location, dict, "a list of mappings")
        for key in location:
            if key not in _LOCATION_FIELDS:
                raise UnsupportedFeatureError(f"TargetLocations field {key!r} in step {step.name!r}")
        role = location.get("ExecutionRoleName", DEFAULT_EXECUTION_ROLE)
        for account in location.get("Accounts", []):
            for region in location.get("Regions", []):
                try:
                    aws.check_location(str(account), str(region))
                except ValueError as err:
                    raise UnsupportedFeatureError(f"TargetLocations entry in step {step.name!r}: {err}") from None
                pairs.append((str(account), str(region), role))
    if not pairs:
        raise StepFailure(f"TargetLocations of step {step.name!r} name no account and Region")
    return pairs


def _start(ctx: RunContext, name: str, params: dict[str, Any], **where: Any) -> AutomationExecution:
    try:
        return ctx.runner.start_child(name, params, parent=ctx, **where)
    except (DocumentNotFoundError, ParameterValidationError) as err:
        raise StepFailure(f"cannot start {name}: {err}") from None


def _in_location(
    ctx: RunContext, name: str, params: dict[str, Any], location: tuple[str, str, str]
) -> AutomationExecution:
    account, region, role = location
    role_arn = f"arn:{aws.partition_of(region)}:iam::{account}:role/{role}"
    session = aws.assume_role(ctx.session, role_arn, region, f"ssm-automation-{ctx.execution_id}")
    # In the target account the execution role starts the document and passes its AutomationAssumeRole.
    aws.authorize(session, region, "ssm", "StartAutomationExecution", _start_params(name, params))
    target = {"Accounts": [account], "Regions": [region], "ExecutionRoleName": role}
    return _start(ctx, name, params, account_id=account, region=region, session=session, target_location=target)


def _aggregate(ctx: RunContext, name: str, children: list[AutomationExecution]) -> AutomationExecution:
    """The multi-account parent execution SSM creates for TargetLocations."""
    parent = ctx.runner.record_aggregate(name, ctx, children)
    failed = [c for c in children if c.status is not Status.SUCCESS]
    parent.status = Status.FAILED if failed else Status.SUCCESS
    if failed:
        parent.failure_message = "; ".join(
            f"{c.account_id}/{c.region} {c.automation_execution_id}: {c.failure_message}" for c in failed
        )
    parent.outputs = {
        "Output": [json.dumps([{"Account": c.account_id, "Region": c.region, "Outputs": c.outputs} for c in children])]
    }
    return parent


def _start_params(name: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """StartAutomationExecution's arguments for a child, as SSM authorizes them."""
    call: dict[str, Any] = {"DocumentName": name}
    if params:
        call["Parameters"] = {k: v if isinstance(v, list) else [v] for k, v in params.items()}
    return call


def run(step: Step, inputs: dict[str, Any], ctx: RunContext) -> ActionResult:
    name = inputs["DocumentName"]
    params = inputs.get("RuntimeParameters") or {}
    require_type(step, "RuntimeParameters", params, dict, "a mapping of parameter names to values")
    # The running automation's role starts the child (SSM checks ssm:StartAutomationExecution, and
    # iam:PassRole for a role it is handed, as for any caller).
    where = "TargetLocations" in inputs
    aws.authorize(
        ctx.session, ctx.region, "ssm", "StartAutomationExecution", _start_params(name, None if where else params)
    )
    if "TargetLocations" in inputs:
        children = [_in_location(ctx, name, params, loc) for loc in _locations(step, inputs["TargetLocations"])]
        child = _aggregate(ctx, name, children)
    else:
        child = _start(ctx, name, params, account_id=ctx.account_id, region=ctx.region, session=ctx.session)
        children = [child]
    output = child.outputs["Output"][0] if "TargetLocations" in inputs else json.dumps(child.outputs)
    outputs = {"ExecutionId": child.automation_execution_id, "Status": str(child.status), "Output": output}
    _raise_for(name, child, children, outputs)
    return ActionResult(outputs=outputs, children=children)


def _raise_for(
    name: str, child: AutomationExecution, children: list[AutomationExecution], outputs: dict[str, Any]
) -> None:
    if child.status is Status.SUCCESS:
        return
    for each in children:
        if (each.failure_message or "").startswith(UNSUPPORTED_PREFIX):
            raise UnsupportedFeatureError(
                f"{each.failure_message} (in child execution {each.automation_execution_id} of {name})"
            )
    message = child.failure_message or str(child.status)
    raise StepFailure(
        f"{name} execution {child.automation_execution_id} ended {child.status}: {message}",
        outputs=outputs,
        children=children,
    )


ACTION = Action(
    "aws:executeAutomation",
    run,
    required=frozenset({"DocumentName"}),
    optional=frozenset({"DocumentVersion", "RuntimeParameters", "TargetLocations"}),
)
