"""DynamoDB.1, .5, .6 evaluators on moto."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate

ACCOUNT, REGION = "111111111111", "us-east-1"
KEY = [{"AttributeName": "pk", "KeyType": "HASH"}]
THROUGHPUT = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}


@pytest.fixture
def dynamodb():
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)


def _table(dynamodb, name: str = "orders", gsi: bool = False, **kwargs) -> Resource:
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    if gsi:
        attributes.append({"AttributeName": "gk", "AttributeType": "S"})
        kwargs["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "by-gk",
                "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "ProvisionedThroughput": THROUGHPUT,
            }
        ]
    if kwargs.get("BillingMode") != "PAY_PER_REQUEST":
        kwargs.setdefault("ProvisionedThroughput", THROUGHPUT)
    arn = dynamodb.create_table(TableName=name, AttributeDefinitions=attributes, KeySchema=KEY, **kwargs)[
        "TableDescription"
    ]["TableArn"]
    return Resource.of_arn(arn, "AwsDynamoDbTable")


def _autoscale(resource_id: str, level: str, minimum: int = 5, maximum: int = 100, target: float = 70.0) -> None:
    autoscaling = boto3.client("application-autoscaling", region_name=REGION)
    for side in ("Read", "Write"):
        dimension = f"dynamodb:{level}:{side}CapacityUnits"
        autoscaling.register_scalable_target(
            ServiceNamespace="dynamodb",
            ResourceId=resource_id,
            ScalableDimension=dimension,
            MinCapacity=minimum,
            MaxCapacity=maximum,
        )
        autoscaling.put_scaling_policy(
            PolicyName=f"{side}-scaling",
            ServiceNamespace="dynamodb",
            ResourceId=resource_id,
            ScalableDimension=dimension,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": target,
                "PredefinedMetricSpecification": {"PredefinedMetricType": f"DynamoDB{side}CapacityUtilization"},
            },
        )


def _verdict(control_id: str, resource: Resource, parameters=None):
    return evaluate(control_id, boto3.Session(), resource, parameters)


# ----------------------------------------------------------------------------- DynamoDB.1


def test_dynamodb1_on_demand_table_passes(dynamodb):
    verdict = _verdict("DynamoDB.1", _table(dynamodb, BillingMode="PAY_PER_REQUEST"))
    assert verdict.status is Status.PASSED
    assert "PAY_PER_REQUEST" in verdict.reason


def test_dynamodb1_provisioned_table_without_auto_scaling_fails_then_passes(dynamodb):
    table = _table(dynamodb)
    verdict = _verdict("DynamoDB.1", table)
    assert verdict.status is Status.FAILED
    assert "no scalable target" in verdict.reason
    _autoscale("table/orders", "table")
    verdict = _verdict("DynamoDB.1", table)
    assert verdict.status is Status.PASSED, verdict.reason


def test_dynamodb1_provisioned_global_secondary_index_needs_auto_scaling_too(dynamodb):
    table = _table(dynamodb, gsi=True)
    _autoscale("table/orders", "table")
    verdict = _verdict("DynamoDB.1", table)
    assert verdict.status is Status.FAILED
    assert "table/orders/index/by-gk" in verdict.reason
    _autoscale("table/orders/index/by-gk", "index")
    verdict = _verdict("DynamoDB.1", table)
    assert verdict.status is Status.PASSED, verdict.reason
    assert "global secondary index" in verdict.reason


def test_dynamodb1_scalable_target_without_policy_is_not_auto_scaling(dynamodb):
    table = _table(dynamodb)
    autoscaling = boto3.client("application-autoscaling", region_name=REGION)
    for side in ("Read", "Write"):
        autoscaling.register_scalable_target(
            ServiceNamespace="dynamodb",
            ResourceId="table/orders",
            ScalableDimension=f"dynamodb:table:{side}CapacityUnits",
            MinCapacity=5,
            MaxCapacity=10,
        )
    verdict = _verdict("DynamoDB.1", table)
    assert verdict.status is Status.FAILED
    assert "no scaling policy" in verdict.reason


def test_dynamodb1_capacity_parameters_are_honoured(dynamodb):
    table = _table(dynamodb)
    _autoscale("table/orders", "table", minimum=5, maximum=100, target=70.0)
    matching = {"minProvisionedReadCapacity": 5, "maxProvisionedWriteCapacity": 100, "targetReadUtilization": 70}
    assert _verdict("DynamoDB.1", table, matching).status is Status.PASSED
    verdict = _verdict("DynamoDB.1", table, {"minProvisionedWriteCapacity": 10, "targetWriteUtilization": 50.0})
    assert verdict.status is Status.FAILED
    assert "MinCapacity is 5, not 10" in verdict.reason
    assert "TargetValue is [70.0], not 50.0" in verdict.reason


def test_dynamodb1_missing_table_is_an_evaluation_error(dynamodb):
    gone = Resource.of_arn(f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/gone", "AwsDynamoDbTable")
    with pytest.raises(EvaluationError, match="gone"):
        _verdict("DynamoDB.1", gone)


# ----------------------------------------------------------------------------- DynamoDB.5


def test_dynamodb5_untagged_table_fails_tagged_one_passes(dynamodb):
    verdict = _verdict("DynamoDB.5", _table(dynamodb, "bare"))
    assert verdict.status is Status.FAILED
    assert "no tags" in verdict.reason
    tagged = _table(dynamodb, "tagged", Tags=[{"Key": "team", "Value": "payments"}])
    assert _verdict("DynamoDB.5", tagged).status is Status.PASSED


def test_dynamodb5_required_tag_keys_parameter(dynamodb):
    table = _table(dynamodb, Tags=[{"Key": "team", "Value": "payments"}])
    verdict = _verdict("DynamoDB.5", table, {"requiredTagKeys": ["team", "env"]})
    assert verdict.status is Status.FAILED
    assert "'env'" in verdict.reason
    dynamodb.tag_resource(ResourceArn=table.id, Tags=[{"Key": "env", "Value": "prod"}])
    assert _verdict("DynamoDB.5", table, {"requiredTagKeys": "team,env"}).status is Status.PASSED


def test_dynamodb5_system_tags_do_not_count(dynamodb):
    # moto accepts an aws: tag key that AWS itself would reserve; it stands in for a system tag.
    table = _table(dynamodb, Tags=[{"Key": "aws:cloudformation:stack-name", "Value": "s"}])
    verdict = _verdict("DynamoDB.5", table)
    assert verdict.status is Status.FAILED
    assert "no tags" in verdict.reason


# ----------------------------------------------------------------------------- DynamoDB.6


def test_dynamodb6_deletion_protection(dynamodb):
    open_table = _table(dynamodb, "open")
    safe = _table(dynamodb, "safe", DeletionProtectionEnabled=True)
    verdict = _verdict("DynamoDB.6", open_table)
    assert verdict.status is Status.FAILED
    assert verdict.reason == "DeletionProtectionEnabled is false"
    assert _verdict("DynamoDB.6", safe).status is Status.PASSED
