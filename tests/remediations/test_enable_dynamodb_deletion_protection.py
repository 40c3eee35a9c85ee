"""ASR-EnableDynamoDBDeletionProtection: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_dynamodb_deletion_protection import (
    RemediationError,
    enable_deletion_protection,
)
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, REGION

DOC = "EnableDynamoDBDeletionProtection"


def table_arn(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:dynamodb:{region}:{account}:table/{name}"


def make_table(ddb, name: str, **extra) -> str:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 7, "WriteCapacityUnits": 3},
        **extra,
    )
    return table_arn(name)


def protected(ddb, name: str) -> bool:
    return ddb.describe_table(TableName=name)["Table"].get("DeletionProtectionEnabled", False)


def settings(ddb, name: str) -> dict:
    table = ddb.describe_table(TableName=name)["Table"]
    return {
        "throughput": {k: table["ProvisionedThroughput"][k] for k in ("ReadCapacityUnits", "WriteCapacityUnits")},
        "stream": table.get("StreamSpecification"),
        "tags": ddb.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags"),
    }


# --- script --------------------------------------------------------------------


def test_protects_the_named_table_only(ddb):
    arn = make_table(ddb, "orders")
    make_table(ddb, "orders-bystander")
    out = enable_deletion_protection({"ResourceArn": arn}, None)
    assert protected(ddb, "orders") is True
    assert protected(ddb, "orders-bystander") is False
    assert out["DeletionProtectionBefore"] == "false" and out["DeletionProtectionAfter"] == "true"


def test_missing_table_names_the_input(ddb):
    with pytest.raises(RemediationError, match="ResourceArn .*table/ghost: no such DynamoDB table"):
        enable_deletion_protection({"ResourceArn": table_arn("ghost")}, None)


def test_table_of_another_account_is_refused_and_the_local_namesake_untouched(ddb):
    make_table(ddb, "shared-name")
    with pytest.raises(RemediationError, match="not in this account and Region"):
        enable_deletion_protection({"ResourceArn": table_arn("shared-name", OTHER_ACCOUNT)}, None)
    assert protected(ddb, "shared-name") is False


def test_table_in_another_region_is_refused(ddb):
    make_table(ddb, "regional")
    with pytest.raises(RemediationError, match="not in this account and Region"):
        enable_deletion_protection({"ResourceArn": table_arn("regional", region="eu-west-1")}, None)


# --- document ------------------------------------------------------------------


def test_document_protects_the_table_and_changes_nothing_else(run_runbook, ddb_doc):
    arn = make_table(ddb_doc, "audit", Tags=[{"Key": "team", "Value": "sec"}],
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    make_table(ddb_doc, "audit-bystander")
    before = settings(ddb_doc, "audit")

    execution = run_runbook(DOC, ResourceArn=arn)

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert protected(ddb_doc, "audit") is True
    assert protected(ddb_doc, "audit-bystander") is False
    assert settings(ddb_doc, "audit") == before
    assert execution["Outputs"]["EnableDeletionProtection.Output"]


def test_document_second_run_changes_nothing(run_runbook, ddb_doc):
    arn = make_table(ddb_doc, "twice")
    first = run_runbook(DOC, ResourceArn=arn)
    second = run_runbook(DOC, ResourceArn=arn)
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert protected(ddb_doc, "twice") is True
    assert "nothing changed" in str(second["Outputs"])


@pytest.mark.parametrize("bad", [
    "orders",
    "arn:aws:dynamodb:us-east-1:111111111111:table/ab",
    "arn:aws:s3:::orders",
    "arn:aws:dynamodb:us-east-1:111111111111:table/orders/stream/2024",
])
def test_document_rejects_a_malformed_arn(run_runbook, ddb_doc, bad):
    make_table(ddb_doc, "orders")
    with pytest.raises(ParameterValidationError, match="ResourceArn"):
        run_runbook(DOC, ResourceArn=bad)
    assert protected(ddb_doc, "orders") is False


def test_document_fails_on_a_missing_table_naming_it(run_runbook, ddb_doc):
    make_table(ddb_doc, "present")
    execution = run_runbook(DOC, ResourceArn=table_arn("absent"))
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "ResourceArn" in execution["FailureMessage"] and "table/absent" in execution["FailureMessage"]
    assert protected(ddb_doc, "present") is False
