"""ASR-ConfigureDynamoDBAutoScaling: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from asr.controls import Resource, Status, evaluate
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


def make_table(ddb, name: str, rcu: int = 5, wcu: int = 5, on_demand: bool = False, gsi: bool = False) -> None:
    capacity = (
        {"BillingMode": "PAY_PER_REQUEST"}
        if on_demand
        else {"ProvisionedThroughput": {"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu}}
    )
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    if gsi:
        attributes.append({"AttributeName": "owner", "AttributeType": "S"})
        index = {"IndexName": "by-owner", "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                 "Projection": {"ProjectionType": "ALL"}}
        if not on_demand:
            index["ProvisionedThroughput"] = {"ReadCapacityUnits": 2, "WriteCapacityUnits": 30}
        capacity["GlobalSecondaryIndexes"] = [index]
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=attributes,
        **capacity,
    )


def targets(aas, table: str, index: str | None = None) -> dict[str, tuple[int, int]]:
    rid = f"table/{table}" + (f"/index/{index}" if index else "")
    found = aas.describe_scalable_targets(ServiceNamespace="dynamodb", ResourceIds=[rid])
    return {t["ScalableDimension"]: (t["MinCapacity"], t["MaxCapacity"]) for t in found["ScalableTargets"]
            if t["ResourceId"] == rid}


def policies(aas, table: str, index: str | None = None) -> dict[str, tuple[str, float]]:
    rid = f"table/{table}" + (f"/index/{index}" if index else "")
    found = aas.describe_scaling_policies(ServiceNamespace="dynamodb", ResourceId=rid)
    return {
        p["PolicyName"]: (
            p["ScalableDimension"],
            p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"],
        )
        for p in found["ScalingPolicies"]
        if p["ResourceId"] == rid  # moto matches ResourceId as a substring
    }


def verdict(table: str, **parameters):
    arn = boto3.client("dynamodb", region_name=REGION).describe_table(TableName=table)["Table"]["TableArn"]
    return evaluate("DynamoDB.1", boto3.Session(), Resource.of_arn(arn, "AwsDynamoDbTable"), parameters or None)


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


def test_scales_each_global_secondary_index_too(clients):
    """The Config rule evaluates the read and write capacity of every GSI of a provisioned table."""
    ddb, aas = clients
    make_table(ddb, "orders", gsi=True)
    configure_auto_scaling(params("orders"), None)
    assert targets(aas, "orders", "by-owner") == {
        "dynamodb:index:ReadCapacityUnits": (5, 10), "dynamodb:index:WriteCapacityUnits": (3, 30)}
    assert policies(aas, "orders", "by-owner") == {
        "SO0111-ASR-ReadCapacity-Scaling-Policy": ("dynamodb:index:ReadCapacityUnits", 70.0),
        "SO0111-ASR-WriteCapacity-Scaling-Policy": ("dynamodb:index:WriteCapacityUnits", 60.0),
    }
    assert verdict("orders").status is Status.PASSED


CONTROL = {"minProvisionedReadCapacity": 4, "maxProvisionedReadCapacity": 80, "targetReadUtilization": 55,
           "minProvisionedWriteCapacity": 2, "maxProvisionedWriteCapacity": 40, "targetWriteUtilization": 65}
AS_INPUTS = {"MinProvisionedReadCapacity": "4", "MaxProvisionedReadCapacity": "80", "TargetReadUtilization": "55",
             "MinProvisionedWriteCapacity": "2", "MaxProvisionedWriteCapacity": "40",
             "TargetWriteUtilization": "65"}


def test_control_parameters_are_the_configuration_set(clients):
    """Given by the control, min, max and target are what the table must have: an existing range that
    differs is set to them (the evaluator compares MinCapacity/MaxCapacity/TargetValue exactly)."""
    ddb, aas = clients
    make_table(ddb, "orders", gsi=True)
    aas.register_scalable_target(ServiceNamespace="dynamodb", ResourceId="table/orders", ScalableDimension=READ,
                                 MinCapacity=10, MaxCapacity=20)
    assert verdict("orders", **CONTROL).status is Status.FAILED
    configure_auto_scaling({"TableId": "orders", **AS_INPUTS}, None)
    assert targets(aas, "orders") == {READ: (4, 80), WRITE: (2, 40)}
    assert targets(aas, "orders", "by-owner") == {
        "dynamodb:index:ReadCapacityUnits": (4, 80), "dynamodb:index:WriteCapacityUnits": (2, 40)}
    verdict_after = verdict("orders", **CONTROL)
    assert verdict_after.status is Status.PASSED, verdict_after.reason


def test_without_control_parameters_defaults_apply_and_existing_ranges_stay(clients):
    ddb, aas = clients
    make_table(ddb, "orders")
    aas.register_scalable_target(ServiceNamespace="dynamodb", ResourceId="table/orders", ScalableDimension=READ,
                                 MinCapacity=10, MaxCapacity=50)
    blank = dict.fromkeys(AS_INPUTS, "")
    configure_auto_scaling({"TableId": "orders", **blank}, None)
    assert targets(aas, "orders") == {READ: (10, 50), WRITE: (5, 10)}
    assert {v[1] for v in policies(aas, "orders").values()} == {70.0}
    assert verdict("orders").status is Status.PASSED


def test_a_maximum_below_the_minimum_is_refused_naming_both(clients):
    ddb, aas = clients
    make_table(ddb, "orders")
    refused = "MinProvisionedReadCapacity 50 is more than MaxProvisionedReadCapacity 20"
    with pytest.raises(RemediationError, match=refused):
        configure_auto_scaling(params("orders", MinProvisionedReadCapacity="50", MaxProvisionedReadCapacity="20"), None)
    assert targets(aas, "orders") == {}


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
    ("MaxProvisionedReadCapacity", "0"),
    ("MaxProvisionedWriteCapacity", "x"),
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


# --- the control runbook: Security Hub control parameters reach the remediation ------------------


@pytest.fixture
def control_world(monkeypatch):
    """moto as the playbook tests run it (Security Hub BatchUpdateFindings, the solution's parameters)."""
    from tests.conftest import ACCOUNT, multi_account_moto
    from tests.playbooks import securityhub
    from tests.playbooks.harness import CLIENTS, solution_parameters

    CLIENTS.clear()
    securityhub.install(monkeypatch)
    with multi_account_moto(monkeypatch):
        solution_parameters(ACCOUNT, REGION)
        yield
    CLIENTS.clear()


def test_control_runbook_applies_the_control_parameters(control_world):
    import json

    from asr.playbooks import data
    from asr.simulator.execution import Status as Run
    from tests.conftest import ACCOUNT
    from tests.playbooks.harness import client, finding_for, import_finding, real_registry, run_control

    ddb = client("dynamodb")
    make_table(ddb, "orders", gsi=True)
    client("config").put_config_rule(ConfigRule={
        "ConfigRuleName": "securityhub-dynamodb-autoscaling-enabled-abc123",
        "Source": {"Owner": "AWS", "SourceIdentifier": "DYNAMODB_AUTOSCALING_ENABLED"},
        "InputParameters": json.dumps({k: str(v) for k, v in CONTROL.items()}),
    })
    std = data.load_standard("SC")
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"
    finding = finding_for(std, "DynamoDB.1", arn, resource_type="AwsDynamoDbTable",
                          config_rule_name="securityhub-dynamodb-autoscaling-enabled-abc123")
    import_finding(finding)
    _, execution = run_control(real_registry(), std, "DynamoDB.1", finding)
    assert execution.status is Run.SUCCESS, execution.failure_message
    after = evaluate("DynamoDB.1", boto3.Session(), Resource.of_arn(arn, "AwsDynamoDbTable"), CONTROL)
    assert after.status is Status.PASSED, after.reason
