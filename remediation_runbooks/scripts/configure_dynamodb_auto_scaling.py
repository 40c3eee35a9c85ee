"""ASR-ConfigureDynamoDBAutoScaling: target-tracking auto scaling of a table's read and write capacity."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
NAMESPACE = "dynamodb"
#: dimension -> (input prefix, capacity key of the table, predefined metric, ASR policy name)
DIMENSIONS = {
    "dynamodb:table:ReadCapacityUnits": (
        "Read", "ReadCapacityUnits", "DynamoDBReadCapacityUtilization", "SO0111-ASR-ReadCapacity-Scaling-Policy",
    ),
    "dynamodb:table:WriteCapacityUnits": (
        "Write", "WriteCapacityUnits", "DynamoDBWriteCapacityUtilization", "SO0111-ASR-WriteCapacity-Scaling-Policy",
    ),
}


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _int_input(event: dict[str, Any], name: str, low: int, high: int) -> int:
    raw = event[name]
    try:
        value = int(str(raw))
    except ValueError:
        raise RemediationError(f"{name} {raw!r}: not a whole number") from None
    if not low <= value <= high:
        raise RemediationError(f"{name} {value}: must be between {low} and {high}")
    return value


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
    return table


def _target(aas: Any, resource_id: str, dimension: str) -> dict[str, Any] | None:
    targets = aas.describe_scalable_targets(
        ServiceNamespace=NAMESPACE, ResourceIds=[resource_id], ScalableDimension=dimension
    )["ScalableTargets"]
    mine = [t for t in targets if t["ResourceId"] == resource_id and t["ScalableDimension"] == dimension]
    return mine[0] if mine else None


def _policy(aas: Any, resource_id: str, dimension: str, name: str) -> dict[str, Any] | None:
    policies = aas.describe_scaling_policies(
        ServiceNamespace=NAMESPACE, ResourceId=resource_id, ScalableDimension=dimension, PolicyNames=[name]
    )["ScalingPolicies"]
    mine = [p for p in policies if p["ResourceId"] == resource_id and p["PolicyName"] == name]
    return mine[0] if mine else None


def capacity_range(minimum: int, provisioned: int, existing: dict[str, Any] | None) -> tuple[int, int]:
    """(min, max) to register. A new target gets max = 2 x min, but never less than the capacity
    the table has now (so scaling never throttles today's traffic). An existing target keeps
    its range; only a min below the asked one is raised (and max with it if needed)."""
    if existing:
        low = max(minimum, existing["MinCapacity"])
        return low, max(low, existing["MaxCapacity"])
    return minimum, max(2 * minimum, provisioned)


def configure_dimension(aas: Any, table: dict[str, Any], dimension: str, minimum: int, target: int) -> str:
    """Register one dimension and put its target-tracking policy; what changed, or ''."""
    _prefix, capacity_key, metric, policy_name = DIMENSIONS[dimension]
    resource_id = f"table/{table['TableName']}"
    existing = _target(aas, resource_id, dimension)
    low, high = capacity_range(minimum, table["ProvisionedThroughput"][capacity_key], existing)
    changes = []
    if not existing or (existing["MinCapacity"], existing["MaxCapacity"]) != (low, high):
        aas.register_scalable_target(
            ServiceNamespace=NAMESPACE, ResourceId=resource_id, ScalableDimension=dimension,
            MinCapacity=low, MaxCapacity=high,
        )
        changes.append(f"{capacity_key} min {low} max {high}")
    config = {"TargetValue": float(target), "PredefinedMetricSpecification": {"PredefinedMetricType": metric}}
    policy = _policy(aas, resource_id, dimension, policy_name)
    current = (policy or {}).get("TargetTrackingScalingPolicyConfiguration", {})
    if not policy or current.get("TargetValue") != config["TargetValue"] or current.get(
        "PredefinedMetricSpecification", {}
    ).get("PredefinedMetricType") != metric:
        aas.put_scaling_policy(
            PolicyName=policy_name, ServiceNamespace=NAMESPACE, ResourceId=resource_id,
            ScalableDimension=dimension, PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration=config,
        )
        changes.append(f"{policy_name} target {target}%")
    if not _target(aas, resource_id, dimension) or not _policy(aas, resource_id, dimension, policy_name):
        raise RemediationError(f"TableId {table['TableName']}: {dimension} is not registered after the change")
    return "; ".join(changes)


def configure_auto_scaling(event: dict[str, Any], _context: Any) -> dict[str, str]:
    table_id = event["TableId"]
    asked = {
        "Read": (_int_input(event, "MinProvisionedReadCapacity", 1, 40000),
                 _int_input(event, "TargetReadUtilization", 20, 90)),
        "Write": (_int_input(event, "MinProvisionedWriteCapacity", 1, 40000),
                  _int_input(event, "TargetWriteUtilization", 20, 90)),
    }
    table = provisioned_table(boto3.client("dynamodb", config=BOTO_CONFIG), table_id)
    aas = boto3.client("application-autoscaling", config=BOTO_CONFIG)
    changes = []
    for dimension, (prefix, *_rest) in DIMENSIONS.items():
        minimum, target = asked[prefix]
        change = configure_dimension(aas, table, dimension, minimum, target)
        if change:
            changes.append(change)
    return {
        "TableArn": table["TableArn"],
        "Changes": "; ".join(changes) or "none",
        "Message": "Auto scaling configured: " + "; ".join(changes) + "."
        if changes
        else "Auto scaling was already configured as asked; nothing changed.",
    }
