"""ASR-TagDynamoDBTableResource: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.tag_dynamodb_table_resource import (
    DEFAULT_TAG_KEY,
    RemediationError,
    required_keys,
    tag_table,
)
from tests.conftest import ACCOUNT, REGION

DOC = "TagDynamoDBTableResource"


def table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def make_table(ddb, name: str, tags: dict[str, str] | None = None) -> str:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **({"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]} if tags else {}),
    )
    return table_arn(name)


def tags(ddb, name: str) -> dict[str, str]:
    found, kwargs = {}, {"ResourceArn": table_arn(name)}
    while True:
        page = ddb.list_tags_of_resource(**kwargs)
        found.update({t["Key"]: t["Value"] for t in page.get("Tags", [])})
        if not page.get("NextToken"):
            return found
        kwargs["NextToken"] = page["NextToken"]


# --- script --------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "keys"), [
    (None, [DEFAULT_TAG_KEY]),
    ([], [DEFAULT_TAG_KEY]),
    ([" ", ""], [DEFAULT_TAG_KEY]),
    (["Owner", " CostCenter ", "Owner"], ["Owner", "CostCenter"]),
    ("Owner,CostCenter", ["Owner", "CostCenter"]),
])
def test_required_keys(raw, keys):
    assert required_keys(raw) == keys


def test_reserved_key_is_refused_naming_the_input():
    with pytest.raises(RemediationError, match="RequiredTagKeys 'aws:owner'"):
        required_keys(["Owner", "aws:owner"])


def test_adds_only_missing_keys_and_keeps_existing_values(ddb):
    arn = make_table(ddb, "orders", {"Owner": "alice", "env": "prod"})
    make_table(ddb, "orders-bystander")
    out = tag_table({"ResourceArn": arn, "RequiredTagKeys": ["Owner", "CostCenter"]}, None)
    assert tags(ddb, "orders") == {"Owner": "alice", "env": "prod", "CostCenter": ""}
    assert tags(ddb, "orders-bystander") == {}
    assert out["AddedTagKeys"] == "CostCenter"


def test_too_many_tags_is_refused_before_any_change(ddb):
    existing = {f"k{i}": "v" for i in range(49)}
    arn = make_table(ddb, "full", existing)
    with pytest.raises(RemediationError, match="has 49 tags; adding 2 would exceed 50"):
        tag_table({"ResourceArn": arn, "RequiredTagKeys": ["a", "b"]}, None)
    assert tags(ddb, "full") == existing


def test_missing_table_names_the_input(ddb):
    with pytest.raises(RemediationError, match="ResourceArn .*table/ghost: no such DynamoDB table"):
        tag_table({"ResourceArn": table_arn("ghost"), "RequiredTagKeys": []}, None)


# --- document ------------------------------------------------------------------


def test_document_adds_the_default_key(run_runbook, ddb_doc):
    arn = make_table(ddb_doc, "audit", {"team": "sec"})
    make_table(ddb_doc, "audit-bystander", {"team": "ops"})

    execution = run_runbook(DOC, ResourceArn=arn)

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert tags(ddb_doc, "audit") == {"team": "sec", DEFAULT_TAG_KEY: ""}
    assert tags(ddb_doc, "audit-bystander") == {"team": "ops"}
    assert execution["Outputs"]["TagDynamoDBTableResource.Output"]


def test_document_adds_asked_keys_without_overwriting(run_runbook, ddb_doc):
    arn = make_table(ddb_doc, "billing", {"Owner": "bob"})
    execution = run_runbook(DOC, ResourceArn=arn, RequiredTagKeys=["Owner", "DataClass"])
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert tags(ddb_doc, "billing") == {"Owner": "bob", "DataClass": ""}


def test_document_second_run_changes_nothing(run_runbook, ddb_doc):
    arn = make_table(ddb_doc, "twice")
    first = run_runbook(DOC, ResourceArn=arn, RequiredTagKeys=["Owner"])
    second = run_runbook(DOC, ResourceArn=arn, RequiredTagKeys=["Owner"])
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert tags(ddb_doc, "twice") == {"Owner": ""}
    assert "nothing changed" in str(second["Outputs"])


def test_document_rejects_a_malformed_arn(run_runbook, ddb_doc):
    with pytest.raises(ParameterValidationError, match="ResourceArn"):
        run_runbook(DOC, ResourceArn="arn:aws:dynamodb:us-east-1:111111111111:backup/x")


def test_document_rejects_a_reserved_tag_key(run_runbook, ddb_doc):
    arn = make_table(ddb_doc, "tbl1")
    with pytest.raises(ParameterValidationError, match="RequiredTagKeys"):
        run_runbook(DOC, ResourceArn=arn, RequiredTagKeys=["aws:cloudformation:stack-name"])
    assert tags(ddb_doc, "tbl1") == {}


def test_document_fails_on_a_missing_table_naming_it(run_runbook, ddb_doc):
    execution = run_runbook(DOC, ResourceArn=table_arn("absent"))
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "ResourceArn" in execution["FailureMessage"] and "table/absent" in execution["FailureMessage"]
