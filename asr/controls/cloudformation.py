"""AWS CloudFormation controls."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from asr.controls.base import Context, EvaluationError, Resource, Verdict, control, failed, not_applicable, passed


@control(
    "CloudFormation.1",
    doc="https://docs.aws.amazon.com/securityhub/latest/userguide/cloudformation-controls.html#cloudformation-1",
    resource_types=("AwsCloudFormationStack",),
)
def stack_has_sns_notification(ctx: Context, resource: Resource) -> Verdict:
    """CloudFormation.1 (Config rule cloudformation-stack-notification-check): the stack must send
    its events to an Amazon SNS topic (``NotificationARNs`` is not empty). A deleted stack is out of
    scope."""
    cloudformation = ctx.client("cloudformation")
    try:
        stacks = cloudformation.describe_stacks(StackName=resource.id)["Stacks"]
    except (ClientError, BotoCoreError) as err:
        raise EvaluationError(f"CloudFormation.1: cannot describe stack {resource.id!r}: {err}") from None
    if not stacks:
        raise EvaluationError(f"CloudFormation.1: stack {resource.id!r} not found")
    stack = stacks[0]
    if stack.get("StackStatus") == "DELETE_COMPLETE":
        return not_applicable("StackStatus is 'DELETE_COMPLETE'")
    topics = stack.get("NotificationARNs") or []
    if topics:
        return passed(f"NotificationARNs is {topics}")
    return failed("NotificationARNs is empty")
