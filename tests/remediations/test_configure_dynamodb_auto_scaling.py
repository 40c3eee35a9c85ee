"""ASR-ConfigureDynamoDBAutoScaling: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.configure_dynamodb_auto_scaling import (
    RemediationError,
    capacity_range,
    configure_auto_scaling,
)
from tests.conftest import REGION

DOC = "ConfigureDynamoDBAutoScaling"
READ = "dynamodb:table:ReadCapacityUnits"
WRITE = "dynamodb:table:WriteCapacityUnits"


def params(table: str, **overrides) -> dict[str, str]:
    base = {
        "TableId": table,
        "MinProvisionedReadCapacity": "5",
        "TargetReadUtilization": "70",
        "MinProvisionedWriteCapacity": "3",
        "TargetWriteUtilization": "60",
    }
    return base | overrides


def make_table(ddb, name: str, rcu: int = 5, wcu: int = 5, on_demand: bool = False) -> None:
    capacity = (
        {"BillingMode": "PAY_PER_REQUEST"}
        if on_demand
        else {"ProvisionedThroughput": {"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu}}
    )
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        **capacity,
    )


def targets(aas, table: str) -> dict[str, tuple[int, int]]:
    found = aas.describe_scalable_targets(ServiceNamespace="dynamodb", ResourceIds=[f"table/{table}"])
    return {t["ScalableDimension"]: (t["MinCapacity"], t["MaxCapacity"]) for t in found["ScalableTargets"]}


def policies(aas, table: str) -> dict[str, tuple[str, float]]:
    found = aas.describe_scaling_policies(ServiceNamespace="dynamodb", ResourceId=f"table/{table}")
    return {
        p["PolicyName"]: (
            p["ScalableDimension"],
            p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"],
        )
        for p in found["ScalingPolicies"]
        if p["ResourceId"] == f"table/{table}"  # moto matches ResourceId as a substring
    }


@pytest.fixture
def clients():
    with mock_aws():
        yield (boto3.client("dynamodb", region_name=REGION),
               boto3.client("application-autoscaling", region_name=REGION))


@pytest.fixture
def doc_clients(run_runbook):
    return (boto3.client("dynamodb", region_name=REGION),
            boto3.client("application-autoscaling", region_name=REGION))


# --- script --------------------------------------------------------------------


@pytest.mark.parametrize(("minimum", "provisioned", "existing", "expected"), [
    (5, 5, None, (5, 10)),
    (5, 400, None, (5, 400)),  # never a ceiling below today's capacity
    (5, 5, {"MinCapacity": 10, "MaxCapacity": 50}, (10, 50)),  # an existing range is kept
    (20, 5, {"MinCapacity": 10, "MaxCapacity": 15}, (20, 20)),  # only a low min is raised
])
def test_capacity_range(minimum, provisioned, existing, expected):
    assert capacity_range(minimum, provisioned, existing) == expected


def test_registers_read_and_write_with_their_own_values(clients):
    ddb, aas = clients
    make_table(ddb, "orders")
    make_table(ddb, "orders-bystander")
    configure_auto_scaling(params("orders"), None)
    # the reference registered write capacity with the read minimum; each uses its own here
    assert targets(aas, "orders") == {READ: (5, 10), WRITE: (3, 6)}
    assert policies(aas, "orders") == {
        "SO0111-ASR-ReadCapacity-Scaling-Policy": (READ, 70.0),
        "SO0111-ASR-WriteCapacity-Scaling-Policy": (WRITE, 60.0),
    }
    assert targets(aas, "orders-bystander") == {}


def test_on_demand_table_is_refused(clients):
    ddb, aas = clients
    make_table(ddb, "ondemand", on_demand=True)
    with pytest.raises(RemediationError, match="TableId ondemand: billing mode is PAY_PER_REQUEST"):
        configure_auto_scaling(params("ondemand"), None)
    assert targets(aas, "ondemand") == {}


def test_missing_table_names_the_input(clients):
    with pytest.raises(RemediationError, match="TableId ghost: no such DynamoDB table"):
        configure_auto_scaling(params("ghost"), None)


def test_out_of_range_target_names_the_input(clients):
    ddb, _aas = clients
    make_table(ddb, "orders")
    with pytest.raises(RemediationError, match="TargetWriteUtilization 95: must be between 20 and 90"):
        configure_auto_scaling(params("orders", TargetWriteUtilization="95"), None)


# --- document ------------------------------------------------------------------


def test_document_scales_the_table_and_keeps_other_policies(run_runbook, doc_clients):
    ddb, aas = doc_clients
    make_table(ddb, "audit", rcu=40, wcu=2)
    make_table(ddb, "audit-bystander")
    aas.register_scalable_target(ServiceNamespace="dynamodb", ResourceId="table/audit-bystander",
                                 ScalableDimension=READ, MinCapacity=1, MaxCapacity=2)

    execution = run_runbook(DOC, **params("audit"))

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert targets(aas, "audit") == {READ: (5, 40), WRITE: (3, 6)}
    assert set(policies(aas, "audit")) == {
        "SO0111-ASR-ReadCapacity-Scaling-Policy", "SO0111-ASR-WriteCapacity-Scaling-Policy"}
    assert targets(aas, "audit-bystander") == {READ: (1, 2)}
    assert policies(aas, "audit-bystander") == {}
    table = ddb.describe_table(TableName="audit")["Table"]["ProvisionedThroughput"]
    assert (table["ReadCapacityUnits"], table["WriteCapacityUnits"]) == (40, 2)
    assert "ConfigureAutoScaling.Output" in execution["Outputs"]


def test_document_second_run_changes_nothing(run_runbook, doc_clients):
    ddb, aas = doc_clients
    make_table(ddb, "twice")
    first = run_runbook(DOC, **params("twice"))
    state = (targets(aas, "twice"), policies(aas, "twice"))
    second = run_runbook(DOC, **params("twice"))
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert (targets(aas, "twice"), policies(aas, "twice")) == state
    assert "nothing changed" in str(second["Outputs"])


@pytest.mark.parametrize(("name", "value"), [
    ("TableId", "a/b"),
    ("TableId", "arn:aws:dynamodb:us-east-1:111111111111:table/orders"),
    ("MinProvisionedReadCapacity", "0"),
    ("MinProvisionedWriteCapacity", "-1"),
    ("TargetReadUtilization", "95"),
    ("TargetWriteUtilization", "10"),
])
def test_document_rejects_malformed_input(run_runbook, doc_clients, name, value):
    ddb, aas = doc_clients
    make_table(ddb, "orders")
    with pytest.raises(ParameterValidationError, match=name):
        run_runbook(DOC, **params("orders", **{name: value}))
    assert targets(aas, "orders") == {}


def test_document_fails_on_an_on_demand_table_naming_it(run_runbook, doc_clients):
    ddb, aas = doc_clients
    make_table(ddb, "ondemand", on_demand=True)
    execution = run_runbook(DOC, **params("ondemand"))
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "TableId ondemand" in execution["FailureMessage"]
    assert targets(aas, "ondemand") == {}
