"""ASR-ConfigureDynamoDBAutoScaling: target-tracking auto scaling of a table's read and write capacity,
and of each of its global secondary indexes.

DynamoDB.1 (Config rule dynamodb-autoscaling-enabled) judges the table and every GSI; its optional
parameters (minProvisioned*/maxProvisioned*Capacity, target*Utilization) are the auto scaling
configuration the table must have:
https://docs.aws.amazon.com/config/latest/developerguide/dynamodb-autoscaling-enabled.html
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
NAMESPACE = "dynamodb"
#: side -> (capacity key, predefined metric, ASR policy name)
SIDES = {
    "Read": ("ReadCapacityUnits", "DynamoDBReadCapacityUtilization", "SO0111-ASR-ReadCapacity-Scaling-Policy"),
    "Write": ("WriteCapacityUnits", "DynamoDBWriteCapacityUtilization", "SO0111-ASR-WriteCapacity-Scaling-Policy"),
}
DEFAULT_MIN = 5  # capacity units, when the control sets no minimum
DEFAULT_TARGET = 70.0  # percent, when the control sets no target utilization
CAPACITY_RANGE = (1, 40000)
TARGET_RANGE = (20.0, 90.0)  # what Application Auto Scaling accepts for DynamoDB target tracking


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _optional_number(event: dict[str, Any], name: str, kind: type, low: float, high: float) -> Any:
    """The input as ``kind``, or None when it is absent or empty (the control does not set it)."""
    raw = event.get(name)
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = kind(str(raw).strip())
    except ValueError:
        raise RemediationError(f"{name} {raw!r}: not a {'whole ' if kind is int else ''}number") from None
    if not low <= value <= high:
        raise RemediationError(f"{name} {value:g}: must be between {low:g} and {high:g}")
    return value


def _asked(event: dict[str, Any], side: str) -> tuple[int | None, int | None, float | None]:
    """(min, max, target) the control asks for one side; None where it asks nothing."""
    low = _optional_number(event, f"MinProvisioned{side}Capacity", int, *CAPACITY_RANGE)
    high = _optional_number(event, f"MaxProvisioned{side}Capacity", int, *CAPACITY_RANGE)
    target = _optional_number(event, f"Target{side}Utilization", float, *TARGET_RANGE)
    if low is not None and high is not None and low > high:
        raise RemediationError(
            f"MinProvisioned{side}Capacity {low} is more than MaxProvisioned{side}Capacity {high}"
        )
    return low, high, target


def provisioned_table(dynamodb: Any, table_id: str) -> dict[str, Any]:
    try:
        table = dynamodb.describe_table(TableName=table_id)["Table"]
    except dynamodb.exceptions.ResourceNotFoundException:
        raise RemediationError(f"TableId {table_id}: no such DynamoDB table in this account and Region") from None
    mode = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    if mode != "PROVISIONED":
        raise RemediationError(f"TableId {table_id}: billing mode is {mode}; only provisioned tables are auto scaled")
    if table["TableStatus"] != "ACTIVE":
        raise RemediationError(f"TableId {table_id}: table is {table['TableStatus']}; retry when it is ACTIVE")
    inactive = [g["IndexName"] for g in table.get("GlobalSecondaryIndexes", []) if g.get("IndexStatus") != "ACTIVE"]
    if inactive:
        raise RemediationError(f"TableId {table_id}: global secondary index(es) {inactive} not ACTIVE; retry later")
    return table


def scalables(table: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(resource id, level, provisioned throughput) of the table and of each global secondary index."""
    name = table["TableName"]
    found = [(f"table/{name}", "table", table["ProvisionedThroughput"])]
    for gsi in table.get("GlobalSecondaryIndexes", []):
        found.append((f"table/{name}/index/{gsi['IndexName']}", "index", gsi.get("ProvisionedThroughput", {})))
    return found


def _target(aas: Any, resource_id: str, dimension: str) -> dict[str, Any] | None:
    targets = aas.describe_scalable_targets(
        ServiceNamespace=NAMESPACE, ResourceIds=[resource_id], ScalableDimension=dimension
    )["ScalableTargets"]
    mine = [t for t in targets if t["ResourceId"] == resource_id and t["ScalableDimension"] == dimension]
    return mine[0] if mine else None


def _policies(aas: Any, resource_id: str, dimension: str) -> list[dict[str, Any]]:
    policies = aas.describe_scaling_policies(
        ServiceNamespace=NAMESPACE, ResourceId=resource_id, ScalableDimension=dimension
    )["ScalingPolicies"]
    return [p for p in policies if p["ResourceId"] == resource_id and p["ScalableDimension"] == dimension]


def capacity_range(
    minimum: int, provisioned: int, existing: dict[str, Any] | None, maximum: int | None = None, exact: bool = False
) -> tuple[int, int]:
    """(min, max) to register.

    Without control parameters (``exact`` False, no ``maximum``): a new target gets max = 2 x min, but
    never less than the capacity the table has now (so scaling never throttles today's traffic); an
    existing target keeps its range, only a min below ``minimum`` is raised (and max with it if needed).
    A minimum the control sets (``exact``) and a ``maximum`` it sets are taken as they are.
    """
    low = minimum if exact or not existing else max(minimum, existing["MinCapacity"])
    if maximum is not None:
        return min(low, maximum), maximum
    if existing:
        return low, max(low, existing["MaxCapacity"])
    return low, max(2 * low, provisioned)


def configure_dimension(
    aas: Any, resource_id: str, level: str, side: str, provisioned: dict[str, Any], asked: tuple[Any, Any, Any]
) -> str:
    """Register one dimension and make sure a target-tracking policy scales it; what changed, or ''."""
    capacity_key, metric, policy_name = SIDES[side]
    dimension = f"dynamodb:{level}:{capacity_key}"
    low_asked, high_asked, target_asked = asked
    existing = _target(aas, resource_id, dimension)
    low, high = capacity_range(
        DEFAULT_MIN if low_asked is None else low_asked,
        int(provisioned.get(capacity_key) or 0),
        existing,
        maximum=high_asked,
        exact=low_asked is not None,
    )
    changes = []
    if not existing or (existing["MinCapacity"], existing["MaxCapacity"]) != (low, high):
        aas.register_scalable_target(
            ServiceNamespace=NAMESPACE, ResourceId=resource_id, ScalableDimension=dimension,
            MinCapacity=low, MaxCapacity=high,
        )
        changes.append(f"{resource_id} {capacity_key} min {low} max {high}")
    policies = _policies(aas, resource_id, dimension)
    ours = next((p for p in policies if p["PolicyName"] == policy_name), None)
    if target_asked is None:
        # the control asks no target: any scaling policy of the dimension will do; ours only if there is none
        target = None if policies else DEFAULT_TARGET
    else:
        current = (ours or {}).get("TargetTrackingScalingPolicyConfiguration", {})
        same = current.get("TargetValue") == target_asked and current.get(
            "PredefinedMetricSpecification", {}
        ).get("PredefinedMetricType") == metric
        target = None if same else target_asked
    if target is not None:
        aas.put_scaling_policy(
            PolicyName=policy_name, ServiceNamespace=NAMESPACE, ResourceId=resource_id,
            ScalableDimension=dimension, PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": float(target), "PredefinedMetricSpecification": {"PredefinedMetricType": metric},
            },
        )
        changes.append(f"{resource_id} {policy_name} target {target:g}%")
    problem = _unmet(aas, resource_id, dimension, asked)
    if problem:
        raise RemediationError(f"TableId {resource_id.split('/')[1]}: {problem} after the change")
    return "; ".join(changes)


def _unmet(aas: Any, resource_id: str, dimension: str, asked: tuple[Any, Any, Any]) -> str:
    """What the control would still find wrong with the dimension, or ''."""
    low, high, target = asked
    registered = _target(aas, resource_id, dimension)
    if not registered:
        return f"{resource_id} {dimension} is not registered"
    policies = _policies(aas, resource_id, dimension)
    if not policies:
        return f"{resource_id} {dimension} has no scaling policy"
    if low is not None and registered["MinCapacity"] != low:
        return f"{resource_id} {dimension} MinCapacity is {registered['MinCapacity']}, not {low}"
    if high is not None and registered["MaxCapacity"] != high:
        return f"{resource_id} {dimension} MaxCapacity is {registered['MaxCapacity']}, not {high}"
    values = [p.get("TargetTrackingScalingPolicyConfiguration", {}).get("TargetValue") for p in policies]
    if target is not None and float(target) not in values:
        return f"{resource_id} {dimension} has no target-tracking policy at {target:g}%"
    return ""


def configure_auto_scaling(event: dict[str, Any], _context: Any) -> dict[str, str]:
    table_id = event["TableId"]
    asked = {side: _asked(event, side) for side in SIDES}
    table = provisioned_table(boto3.client("dynamodb", config=BOTO_CONFIG), table_id)
    aas = boto3.client("application-autoscaling", config=BOTO_CONFIG)
    changes = []
    for resource_id, level, provisioned in scalables(table):
        for side in SIDES:
            change = configure_dimension(aas, resource_id, level, side, provisioned, asked[side])
            if change:
                changes.append(change)
    indexes = len(table.get("GlobalSecondaryIndexes", []))
    return {
        "TableArn": table["TableArn"],
        "GlobalSecondaryIndexes": str(indexes),
        "Changes": "; ".join(changes) or "none",
        "Message": "Auto scaling configured: " + "; ".join(changes) + "."
        if changes
        else "Auto scaling was already configured as asked; nothing changed.",
    }
