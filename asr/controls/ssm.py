"""AWS Systems Manager controls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from asr.controls.base import Context, EvaluationError, Resource, Verdict, control, failed, not_applicable, passed

_DOC = "https://docs.aws.amazon.com/securityhub/latest/userguide/ssm-controls.html"


def _call(control_id: str, resource_id: str, what: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except (ClientError, BotoCoreError) as err:
        raise EvaluationError(f"{control_id}: cannot {what} for {resource_id!r}: {err}") from None


@control("SSM.1", doc=f"{_DOC}#ssm-1", resource_types=("AwsEc2Instance",))
def instance_managed_by_ssm(ctx: Context, resource: Resource) -> Verdict:
    """SSM.1 (Config rule ec2-instance-managed-by-systems-manager): the EC2 instance (running or
    stopped) must be a Systems Manager managed node, i.e. listed by DescribeInstanceInformation.
    As the rule documents, its ``PingStatus`` (ConnectionLost ...) does not change the result.
    Terminated instances are out of scope."""
    instance_id = resource.name
    if not instance_id.startswith("i-"):
        raise EvaluationError(f"SSM.1: {resource.id!r} does not name an EC2 instance")
    ec2 = ctx.client("ec2")
    reservations = _call(
        "SSM.1",
        resource.id,
        "describe the instance",
        lambda: ec2.describe_instances(InstanceIds=[instance_id])["Reservations"],
    )
    instances = [i for r in reservations for i in r["Instances"]]
    if not instances:
        raise EvaluationError(f"SSM.1: instance {instance_id!r} not found")
    state = instances[0]["State"]["Name"]
    if state in ("terminated", "shutting-down"):
        return not_applicable(f"instance State is {state!r}")
    ssm = ctx.client("ssm")
    nodes = _call(
        "SSM.1",
        resource.id,
        "read Systems Manager instance information",
        lambda: ssm.describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": [instance_id]}])[
            "InstanceInformationList"
        ],
    )
    node = next((n for n in nodes if n.get("InstanceId") == instance_id), None)
    if node is None:
        return failed(f"{instance_id} is not a Systems Manager managed instance (not in DescribeInstanceInformation)")
    return passed(f"{instance_id} is a managed instance (PingStatus {node.get('PingStatus')!r})")


@control("SSM.4", doc=f"{_DOC}#ssm-4", resource_types=("AwsSsmDocument",))
def document_not_public(ctx: Context, resource: Resource) -> Verdict:
    """SSM.4 (Config rule ssm-document-not-public): a Systems Manager document owned by the account
    (owner 'Self') must not be shared publicly, i.e. its Share permission must not list ``all``.
    Documents owned by others (Amazon, other accounts) are out of scope."""
    name = resource.id.split(":document/", 1)[1] if ":document/" in resource.id else resource.id
    ssm = ctx.client("ssm")
    document = _call("SSM.4", resource.id, "describe the document", lambda: ssm.describe_document(Name=name))[
        "Document"
    ]
    owner = document.get("Owner")
    if ctx.account and owner != ctx.account:
        return not_applicable(f"document Owner is {owner!r}, not this account ({ctx.account})")
    accounts: list[str] = []

    def collect() -> None:
        kwargs: dict[str, Any] = {"Name": name, "PermissionType": "Share"}
        while True:
            page = ssm.describe_document_permission(**kwargs)
            accounts.extend(page.get("AccountIds", []))
            if not page.get("NextToken"):
                return
            kwargs["NextToken"] = page["NextToken"]

    _call("SSM.4", resource.id, "read the document's Share permission", collect)
    if "all" in accounts:
        return failed("the document's Share permission lists AccountIds 'all' (public)")
    if accounts:
        return passed(f"shared privately with {len(accounts)} account(s), not with 'all'")
    return passed("the document is not shared")
