"""``Custom::ActionTarget``: creates, keeps and deletes a Security Hub custom action.

Properties: ``Name``, ``Description``, ``Id``. Returns ``Arn``.

* Create: CreateActionTarget; on ResourceConflictException (it already exists, e.g.
  from an earlier install) the existing target with that Id is adopted.
* Update: a changed Name/Description updates the target in place; a changed Id
  creates the new one (CloudFormation then deletes the old physical id).
* Delete: DeleteActionTarget; a target that is already gone is success, and so is
  a hub that is no longer enabled.

The answer goes to the pre-signed ResponseURL (no CDK provider framework: one small
function, standard library only).
"""

from __future__ import annotations

import logging
from typing import Any

import boto3
from botocore.exceptions import ClientError

from lambdas.cfn_response import respond, response_body  # noqa: F401 (response_body: tests)

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

GONE = frozenset({"ResourceNotFoundException", "InvalidAccessException"})


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def target_arn(context_arn: str, action_id: str) -> str:
    """``arn:<p>:securityhub:<region>:<account>:action/custom/<Id>`` from the function's ARN."""
    _, partition, _, region, account, *_ = context_arn.split(":")
    return f"arn:{partition}:securityhub:{region}:{account}:action/custom/{action_id}"


def _props(event: dict[str, Any]) -> tuple[str, str, str]:
    props = event.get("ResourceProperties") or {}
    name, description, action_id = props.get("Name"), props.get("Description"), props.get("Id")
    for key, value in (("Name", name), ("Description", description), ("Id", action_id)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"property {key} must be a non-empty string, got {value!r}")
    return name, description, action_id


def create(securityhub: Any, event: dict[str, Any], function_arn: str) -> str:
    name, description, action_id = _props(event)
    try:
        return securityhub.create_action_target(Name=name, Description=description, Id=action_id)["ActionTargetArn"]
    except ClientError as err:
        if _code(err) != "ResourceConflictException":
            raise
    arn = target_arn(function_arn, action_id)
    existing = securityhub.describe_action_targets(ActionTargetArns=[arn]).get("ActionTargets", [])
    if not existing:
        raise RuntimeError(f"custom action {action_id} conflicts with an existing action target, but {arn} is not it")
    if existing[0].get("Name") != name or existing[0].get("Description") != description:
        securityhub.update_action_target(ActionTargetArn=arn, Name=name, Description=description)
    logger.info("adopted existing custom action %s", arn)
    return arn


def update(securityhub: Any, event: dict[str, Any], function_arn: str) -> str:
    name, description, action_id = _props(event)
    old_id = (event.get("OldResourceProperties") or {}).get("Id")
    if old_id != action_id:
        return create(securityhub, event, function_arn)
    arn = event.get("PhysicalResourceId") or target_arn(function_arn, action_id)
    securityhub.update_action_target(ActionTargetArn=arn, Name=name, Description=description)
    return arn


def delete(securityhub: Any, event: dict[str, Any]) -> str:
    arn = event.get("PhysicalResourceId") or ""
    if ":action/custom/" not in arn:
        return arn  # never created (a failed create reports the request id)
    try:
        securityhub.delete_action_target(ActionTargetArn=arn)
    except ClientError as err:
        if _code(err) not in GONE:
            raise
        logger.info("custom action %s already gone (%s)", arn, _code(err))
    return arn


def handle(event: dict[str, Any], function_arn: str, securityhub: Any) -> tuple[str, str, dict[str, str]]:
    kind = event.get("RequestType")
    if kind == "Create":
        arn = create(securityhub, event, function_arn)
    elif kind == "Update":
        arn = update(securityhub, event, function_arn)
    elif kind == "Delete":
        return "SUCCESS", delete(securityhub, event), {}
    else:
        raise ValueError(f"RequestType must be Create, Update or Delete, got {kind!r}")
    return "SUCCESS", arn, {"Arn": arn}


def lambda_handler(event: dict[str, Any], context: Any, securityhub: Any = None) -> None:
    physical_id = event.get("PhysicalResourceId") or event.get("RequestId") or "unknown"
    try:
        client = securityhub or boto3.client("securityhub")
        status, physical_id, data = handle(event, context.invoked_function_arn, client)
        respond(event, status, physical_id, data=data)
    except Exception as err:
        logger.exception("custom action request failed")
        respond(event, "FAILED", physical_id, reason=f"{type(err).__name__}: {err}")
