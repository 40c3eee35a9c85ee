"""Actions that call AWS APIs: executeAwsApi, assert/waitFor resource property, createTags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from asr.simulator import aws
from asr.simulator.actions.base import Action, ActionResult, require_type
from asr.simulator.datatypes import to_text
from asr.simulator.document import Step
from asr.simulator.errors import StepFailure, StepTimeout
from asr.simulator.jsonpath import NoMatch, select

if TYPE_CHECKING:
    from asr.simulator.context import RunContext

_CALL_INPUTS = frozenset({"Service", "Api"})
_PROPERTY_INPUTS = frozenset({"PropertySelector", "DesiredValues"})
WAIT_DEFAULT_TIMEOUT = 3600


def _api_call(inputs: dict[str, Any], ctx: RunContext, exclude: frozenset[str]) -> dict[str, Any]:
    service, api = inputs["Service"], inputs["Api"]
    params = {k: v for k, v in inputs.items() if k not in exclude}
    return aws.call(ctx.client(service), service, api, params)


def execute_aws_api(step: Step, inputs: dict[str, Any], ctx: RunContext) -> ActionResult:
    return ActionResult(payload=_api_call(inputs, ctx, _CALL_INPUTS))


def _equal(actual: Any, desired: Any) -> bool:
    if isinstance(actual, bool):
        return to_text(actual) == str(desired).lower()
    return to_text(actual) == to_text(desired)


def _property(inputs: dict[str, Any], ctx: RunContext) -> tuple[Any, bool]:
    """The selected property and whether it has one of the desired values."""
    response = _api_call(inputs, ctx, _CALL_INPUTS | _PROPERTY_INPUTS)
    try:
        value = select(response, inputs["PropertySelector"])
    except NoMatch:
        return None, False
    values = value if isinstance(value, list) else [value]
    desired = inputs["DesiredValues"]
    matched = bool(values) and all(any(_equal(v, d) for d in desired) for v in values)
    return value, matched


def _check_desired(step: Step, inputs: dict[str, Any]) -> None:
    require_type(step, "DesiredValues", inputs["DesiredValues"], list, "a list")
    require_type(step, "PropertySelector", inputs["PropertySelector"], str, "a JSONPath selector")


def assert_property(step: Step, inputs: dict[str, Any], ctx: RunContext) -> ActionResult:
    _check_desired(step, inputs)
    value, matched = _property(inputs, ctx)
    if not matched:
        raise StepFailure(
            f"{inputs['PropertySelector']} is {_shown(value)}, not one of the DesiredValues {inputs['DesiredValues']!r}"
        )
    return ActionResult()


def wait_for_property(step: Step, inputs: dict[str, Any], ctx: RunContext) -> ActionResult:
    _check_desired(step, inputs)
    assert ctx.deadline is not None
    while True:
        value, matched = _property(inputs, ctx)
        if matched:
            return ActionResult()
        remaining = (ctx.deadline - ctx.clock.now()).total_seconds()
        if remaining <= 0:
            raise StepTimeout(
                f"{inputs['PropertySelector']} was still {_shown(value)}, not one of the DesiredValues "
                f"{inputs['DesiredValues']!r}, after {step.timeout_seconds or WAIT_DEFAULT_TIMEOUT} seconds"
            )
        ctx.clock.sleep(min(ctx.runner.poll_interval, remaining))


def _shown(value: Any) -> str:
    return "missing" if value is None else repr(value)


_TAG_TARGETS = {"ManagedInstance", "MaintenanceWindow", "Parameter"}


def create_tags(step: Step, inputs: dict[str, Any], ctx: RunContext) -> ActionResult:
    ids, tags = inputs["ResourceIds"], inputs["Tags"]
    ids = [ids] if isinstance(ids, str) else ids
    require_type(step, "ResourceIds", ids, list, "a StringList")
    require_type(step, "Tags", tags, list, "a MapList of {Key, Value}")
    resource_type = inputs.get("ResourceType", "EC2")
    if resource_type == "EC2":
        aws.call(ctx.client("ec2"), "ec2", "CreateTags", {"Resources": ids, "Tags": tags})
    elif resource_type in _TAG_TARGETS:
        for resource_id in ids:
            params = {"ResourceType": resource_type, "ResourceId": resource_id, "Tags": tags}
            aws.call(ctx.client("ssm"), "ssm", "AddTagsToResource", params)
    else:
        raise StepFailure(
            f"ResourceType {resource_type!r} of step {step.name!r} must be EC2, {', '.join(sorted(_TAG_TARGETS))}"
        )
    return ActionResult()


EXECUTE_AWS_API = Action(
    "aws:executeAwsApi", execute_aws_api, required=_CALL_INPUTS, api_params=True, custom_outputs=True
)
ASSERT_PROPERTY = Action(
    "aws:assertAwsResourceProperty", assert_property, required=_CALL_INPUTS | _PROPERTY_INPUTS, api_params=True
)
WAIT_FOR_PROPERTY = Action(
    "aws:waitForAwsResourceProperty",
    wait_for_property,
    required=_CALL_INPUTS | _PROPERTY_INPUTS,
    api_params=True,
    default_timeout=WAIT_DEFAULT_TIMEOUT,
)
CREATE_TAGS = Action(
    "aws:createTags", create_tags, required=frozenset({"ResourceIds", "Tags"}), optional=frozenset({"ResourceType"})
)
