"""Amazon DynamoDB controls (tables)."""

from __future__ import annotations

from typing import Any

from asr.controls.base import Context, EvaluationError, Resource, Verdict, control, failed, passed
from asr.controls.base import api_call as _call

DOC = "https://docs.aws.amazon.com/securityhub/latest/userguide/dynamodb-controls.html"

# DynamoDB.1 parameters: all optional, Security Hub has no default for any of them.
CAPACITY_PARAMETERS = (
    "minProvisionedReadCapacity",
    "maxProvisionedReadCapacity",
    "targetReadUtilization",
    "minProvisionedWriteCapacity",
    "maxProvisionedWriteCapacity",
    "targetWriteUtilization",
)


def _table(control_id: str, ctx: Context, resource: Resource) -> dict[str, Any]:
    dynamodb = ctx.client("dynamodb")
    return _call(control_id, resource, dynamodb.describe_table, TableName=resource.name)["Table"]


def _number(control_id: str, name: str, value: Any, kind: type) -> Any:
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise EvaluationError(f"{control_id}: {name} must be a number, got {value!r}") from None


@control(
    "DynamoDB.1",
    doc=f"{DOC}#dynamodb-1",
    resource_types=("AwsDynamoDbTable",),
    defaults=dict.fromkeys(CAPACITY_PARAMETERS),
)
def table_autoscaling(ctx: Context, resource: Resource) -> Verdict:
    """DynamoDB.1 (Config rule dynamodb-autoscaling-enabled): a table (and each of its global
    secondary indexes) must use on-demand capacity, or provisioned capacity with auto scaling
    on for both read and write capacity: an Application Auto Scaling scalable target with a
    scaling policy. When set, the capacity parameters are the configuration auto scaling
    must have: the targets' MinCapacity/MaxCapacity and the target-tracking TargetValue."""
    wanted = {
        "Read": (
            ctx.parameters.get("minProvisionedReadCapacity"),
            ctx.parameters.get("maxProvisionedReadCapacity"),
            ctx.parameters.get("targetReadUtilization"),
        ),
        "Write": (
            ctx.parameters.get("minProvisionedWriteCapacity"),
            ctx.parameters.get("maxProvisionedWriteCapacity"),
            ctx.parameters.get("targetWriteUtilization"),
        ),
    }
    for side, (low, high, target) in wanted.items():
        for name, value, kind in (
            (f"minProvisioned{side}Capacity", low, int),
            (f"maxProvisioned{side}Capacity", high, int),
            (f"target{side}Utilization", target, float),
        ):
            if value is not None:
                _number("DynamoDB.1", name, value, kind)

    table = _table("DynamoDB.1", ctx, resource)
    name = table["TableName"]
    mode = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    if mode == "PAY_PER_REQUEST":
        return passed("BillingMode is PAY_PER_REQUEST (on-demand capacity)")

    scalables = [(f"table/{name}", "table")] + [
        (f"table/{name}/index/{gsi['IndexName']}", "index") for gsi in table.get("GlobalSecondaryIndexes", [])
    ]
    autoscaling = ctx.client("application-autoscaling")
    targets: dict[tuple[str, str], dict[str, Any]] = {}
    token: str | None = None
    while True:
        page = _call(
            "DynamoDB.1",
            resource,
            autoscaling.describe_scalable_targets,
            ServiceNamespace="dynamodb",
            ResourceIds=[rid for rid, _ in scalables],
            **({"NextToken": token} if token else {}),
        )
        for target in page.get("ScalableTargets", []):
            targets[(target["ResourceId"], target["ScalableDimension"])] = target
        token = page.get("NextToken")
        if not token:
            break

    problems: list[str] = []
    for rid, level in scalables:
        for side, (low, high, utilization) in wanted.items():
            dimension = f"dynamodb:{level}:{side}CapacityUnits"
            target = targets.get((rid, dimension))
            if target is None:
                problems.append(f"{rid} {dimension} has no scalable target (BillingMode PROVISIONED, no auto scaling)")
                continue
            policies = _call(
                "DynamoDB.1",
                resource,
                autoscaling.describe_scaling_policies,
                ServiceNamespace="dynamodb",
                ResourceId=rid,
                ScalableDimension=dimension,
            ).get("ScalingPolicies", [])
            if not policies:
                problems.append(f"{rid} {dimension} has a scalable target but no scaling policy")
                continue
            if low is not None and target.get("MinCapacity") != int(low):
                problems.append(f"{rid} {dimension} MinCapacity is {target.get('MinCapacity')}, not {int(low)}")
            if high is not None and target.get("MaxCapacity") != int(high):
                problems.append(f"{rid} {dimension} MaxCapacity is {target.get('MaxCapacity')}, not {int(high)}")
            if utilization is not None:
                values = [
                    p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]
                    for p in policies
                    if "TargetTrackingScalingPolicyConfiguration" in p
                ]
                if not any(abs(float(v) - float(utilization)) < 1e-9 for v in values):
                    shown = values or "absent"
                    problems.append(
                        f"{rid} {dimension} target-tracking TargetValue is {shown}, not {float(utilization)}"
                    )
    if problems:
        return failed("; ".join(problems))
    indexes = len(scalables) - 1
    return passed(
        f"BillingMode is PROVISIONED with auto scaling on read and write capacity of the table"
        f"{f' and its {indexes} global secondary index(es)' if indexes else ''}"
    )


@control(
    "DynamoDB.5",
    doc=f"{DOC}#dynamodb-5",
    resource_types=("AwsDynamoDbTable",),
    defaults={"requiredTagKeys": None},
)
def table_tagged(ctx: Context, resource: Resource) -> Verdict:
    """DynamoDB.5 (Config rule tagged-dynamodb-table, a Security Hub custom rule): the table
    must carry every key in ``requiredTagKeys`` (no Security Hub default); without that
    parameter, it must carry at least one tag. System tags (``aws:`` prefix) are ignored."""
    required = ctx.parameters.get("requiredTagKeys") or []
    if isinstance(required, str):
        required = [k.strip() for k in required.split(",") if k.strip()]
    table = _table("DynamoDB.5", ctx, resource)
    dynamodb = ctx.client("dynamodb")
    keys: set[str] = set()
    token: str | None = None
    while True:
        page = _call(
            "DynamoDB.5",
            resource,
            dynamodb.list_tags_of_resource,
            ResourceArn=table["TableArn"],
            **({"NextToken": token} if token else {}),
        )
        keys.update(t["Key"] for t in page.get("Tags", []) if not t["Key"].startswith("aws:"))
        token = page.get("NextToken")
        if not token:
            break
    if required:
        missing = [k for k in required if k not in keys]
        if missing:
            return failed(f"tag key(s) {missing} missing (table tag keys: {sorted(keys)})")
        return passed(f"table has every required tag key {list(required)}")
    if not keys:
        return failed("table has no tags (system aws: tags are not counted)")
    return passed(f"table has tag key(s) {sorted(keys)}")


@control("DynamoDB.6", doc=f"{DOC}#dynamodb-6", resource_types=("AwsDynamoDbTable",))
def table_deletion_protection(ctx: Context, resource: Resource) -> Verdict:
    """DynamoDB.6 (Config rule dynamodb-table-deletion-protection-enabled): NON_COMPLIANT if
    the table's ``DeletionProtectionEnabled`` is false."""
    table = _table("DynamoDB.6", ctx, resource)
    if table.get("DeletionProtectionEnabled"):
        return passed("DeletionProtectionEnabled is true")
    return failed("DeletionProtectionEnabled is false")
