"""AWS CloudFormation change sets that update an existing stack, as AWS runs them. moto 5.2:

* refuses CreateChangeSet (UPDATE) with "No updates are to be performed." when the template and the
  parameter values are unchanged, even if the change set changes the stack's notification ARNs
  (AWS creates the change set; one that changes nothing at all is created with Status FAILED);
* finds the stack of an UPDATE change set by name only, so a stack ARN (the stack's unique ID, which the
  API accepts) is "not found";
* finds a change set by name across every stack (ignoring StackName) in DescribeChangeSet,
  ExecuteChangeSet and DeleteChangeSet, and fails with an internal error for an unknown one;
* applies only the template when executing: the change set's notification ARNs, parameters, tags and
  role never reach the stack; it executes a change set whatever its execution status.

AWS CloudFormation API Reference:
* CreateChangeSet: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateChangeSet.html
  (StackName "the name or the unique ID of the stack"; NotificationARNs at most 5 -- "To remove all
  associated notification topics, specify an empty list", omitted keeps them; a parameter cannot have
  both UsePreviousValue and ParameterValue; AlreadyExistsException for a change set name the stack has).
* DescribeChangeSet: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeChangeSet.html
  (ChangeSetName "the name or ARN"; "If you specified the name of a change set, specify the stack name
  or ID (ARN) of the change set you want to describe"; ChangeSetNotFound, HTTP 404).
* ExecuteChangeSet: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ExecuteChangeSet.html
  ("CloudFormation deletes all other change sets associated with the stack"; InvalidChangeSetStatus,
  HTTP 400, when the change set is not AVAILABLE; ChangeSetNotFound).
* DeleteChangeSet: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeleteChangeSet.html
* Updating a stack's notification options only is an update with no resource change:
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets.html
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import AlreadyExistsException, CloudFormationError, ValidationError
from moto.cloudformation.models import ChangeSet, CloudFormationBackend, Stack
from moto.cloudformation.responses import CloudFormationResponse
from moto.cloudformation.utils import generate_changeset_id, validate_create_change_set
from moto.core.responses import ActionResult, EmptyResult

from asr.simulator.emulation import extends

UPDATABLE = {
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
}
MAX_NOTIFICATION_ARNS = 5
NO_CHANGES = "The submitted information didn't contain changes. Submit different information to create a change set."

# moto's own methods, for what this module does not change (change sets that create or import a stack).
_moto_create_change_set = CloudFormationResponse.create_change_set
_moto_execute_change_set = CloudFormationResponse.execute_change_set


class ChangeSetNotFound(CloudFormationError):
    code = "ChangeSetNotFoundException"  # the model's shape: error code ChangeSetNotFound, HTTP 404

    def __init__(self, name: str) -> None:
        super().__init__(f"ChangeSet [{name}] does not exist")


class InvalidChangeSetStatus(CloudFormationError):
    code = "InvalidChangeSetStatusException"  # the model's shape: error code InvalidChangeSetStatus, HTTP 400


def _find(backend: CloudFormationBackend, stack_name: str | None, name: str) -> ChangeSet:
    """The change set ``name`` (an ARN, or a name within the stack ``stack_name``)."""
    if name.startswith("arn:"):
        found = backend.change_sets.get(name)
        if found is None:
            raise ChangeSetNotFound(name)
        return found
    if not stack_name:
        raise ValidationError(
            message=f"StackName must be specified if ChangeSetName is not specified as an ARN: {name}"
        )
    stack = backend.get_stack(stack_name)
    for change_set in backend.change_sets.values():
        if change_set.stack_id == stack.stack_id and change_set.change_set_name == name:
            return change_set
    raise ChangeSetNotFound(name)


def _parameters(stack: Stack, given: list[dict[str, Any]]) -> dict[str, str]:
    previous = stack.stack_parameters
    values = {}
    for parameter in given:
        key = parameter["ParameterKey"]
        use_previous = str(parameter.get("UsePreviousValue", "false")).lower() == "true"
        if use_previous and parameter.get("ParameterValue") is not None:
            raise ValidationError(
                message=f"Invalid input for parameter key {key}. Cannot specify usePreviousValue as true and "
                "non empty value for a parameter"
            )
        if use_previous:
            if key not in previous:
                raise ValidationError(
                    message=f"Invalid input for parameter key {key}. Cannot specify "
                    "usePreviousValue as true for a parameter key not in the previous template"
                )
            values[key] = previous[key]
        else:
            values[key] = parameter.get("ParameterValue", "")
    return values


@extends(CloudFormationResponse, replaces=True)
def create_change_set(self: CloudFormationResponse) -> ActionResult:
    """CreateChangeSet; an UPDATE change set as AWS makes it, others as moto does."""
    if self._get_param("ChangeSetType", "UPDATE") != "UPDATE":
        return _moto_create_change_set(self)
    backend = self.cloudformation_backend
    name = self._get_param("ChangeSetName")
    validate_create_change_set(name)
    stack = backend.get_stack(self._get_param("StackName"))  # by name or ID, ValidationError when unknown
    if stack.status not in UPDATABLE:
        raise ValidationError(message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated.")
    if any(cs.stack_id == stack.stack_id and cs.change_set_name == name for cs in backend.change_sets.values()):
        raise AlreadyExistsException(f"ChangeSet {name} already exists")
    self.validate_template_and_stack_body()
    if self._get_bool_param("UsePreviousTemplate", False):
        template = stack.template
    elif self._get_param("TemplateURL"):
        template = self._get_stack_from_s3_url(self._get_param("TemplateURL"))
    else:
        template = self._get_param("TemplateBody")
    parameters = _parameters(stack, self._get_param("Parameters") or [])
    notifications = self._get_param("NotificationARNs")
    if notifications is not None and len(notifications) > MAX_NOTIFICATION_ARNS:
        raise ValidationError(
            message=f"NotificationARNs: at most {MAX_NOTIFICATION_ARNS} topics, got {len(notifications)}"
        )
    given_tags = self._get_param("Tags")
    tags = {t["Key"]: t["Value"] for t in given_tags} if given_tags is not None else None
    change_set = ChangeSet(
        change_set_type="UPDATE",
        change_set_id=generate_changeset_id(name, backend.region_name, backend.account_id),
        change_set_name=name,
        stack=stack,
        template=template,
        parameters=parameters,
        description=self._get_param("Description"),
        notification_arns=notifications,
        tags=tags,
        role_arn=self._get_param("RoleARN"),
    )
    change_set.capabilities = self._get_param("Capabilities") or []
    unchanged = (
        not change_set.changes
        and stack.has_template(template)
        and all(stack.stack_parameters.get(k) == v for k, v in parameters.items())
        and (notifications is None or list(notifications) == list(stack.notification_arns))
        and (tags is None or tags == stack.tags)
    )
    change_set.status = "FAILED" if unchanged else "CREATE_COMPLETE"
    change_set.execution_status = "UNAVAILABLE" if unchanged else "AVAILABLE"
    change_set.status_reason = NO_CHANGES if unchanged else None
    backend.change_sets[change_set.change_set_id] = change_set
    return ActionResult({"Id": change_set.change_set_id, "StackId": stack.stack_id})


@extends(CloudFormationResponse, replaces=True)
def describe_change_set(self: CloudFormationResponse) -> ActionResult:
    """DescribeChangeSet of the change set named within its stack (or by ARN)."""
    return ActionResult(
        _find(self.cloudformation_backend, self._get_param("StackName"), self._get_param("ChangeSetName"))
    )


@extends(CloudFormationResponse, replaces=True)
def delete_change_set(self: CloudFormationResponse) -> EmptyResult:
    change_set = _find(self.cloudformation_backend, self._get_param("StackName"), self._get_param("ChangeSetName"))
    if change_set.execution_status == "EXECUTE_IN_PROGRESS":
        raise InvalidChangeSetStatus(
            f"Cannot delete ChangeSet [{change_set.change_set_id}] while its execution is in progress"
        )
    del self.cloudformation_backend.change_sets[change_set.change_set_id]
    return EmptyResult()


@extends(CloudFormationResponse, replaces=True)
def execute_change_set(self: CloudFormationResponse) -> EmptyResult:
    """ExecuteChangeSet: an UPDATE change set applies its template, parameters, notification ARNs (when
    it names them), tags and role to the stack; the stack's other change sets are deleted."""
    backend = self.cloudformation_backend
    change_set = _find(backend, self._get_param("StackName"), self._get_param("ChangeSetName"))
    if change_set.change_set_type != "UPDATE":
        return _moto_execute_change_set(self)
    if change_set.execution_status != "AVAILABLE":
        raise InvalidChangeSetStatus(
            f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current execution status of "
            f"[{change_set.execution_status}]"
        )
    stack = backend.stacks[change_set.stack_id]
    stack._add_stack_event("UPDATE_IN_PROGRESS", resource_status_reason="User Initiated")
    change_set.apply()
    stack.template = change_set.template
    stack._parse_template()
    stack.parameters = dict(change_set.parameters)
    if change_set.notification_arns is not None:
        stack.notification_arns = list(change_set.notification_arns)
    if change_set.tags is not None:
        stack.tags = dict(change_set.tags)
    if change_set.role_arn:
        stack.role_arn = change_set.role_arn
    stack.status = "UPDATE_COMPLETE"
    stack._add_stack_event("UPDATE_COMPLETE")
    change_set.execution_status = "EXECUTE_COMPLETE"
    for other in [cs for cs in backend.change_sets.values() if cs.stack_id == stack.stack_id and cs is not change_set]:
        del backend.change_sets[other.change_set_id]
    return EmptyResult()
