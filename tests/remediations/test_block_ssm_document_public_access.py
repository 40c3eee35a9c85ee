"""ASR-BlockSSMDocumentPublicAccess: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import json

import boto3
import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.block_ssm_document_public_access import RemediationError, block_public_access
from tests.conftest import ACCOUNT, OTHER_ACCOUNT
from tests.remediations.helpers.stubs import stub_every_boto3_client

NAME = "BlockSSMDocumentPublicAccess"
CONTENT = json.dumps(
    {
        "schemaVersion": "2.2",
        "description": "x",
        "mainSteps": [{"action": "aws:runShellScript", "name": "run", "inputs": {"runCommand": ["echo hi"]}}],
    }
)


def _arn(name, account=ACCOUNT, region="us-east-1"):
    return f"arn:aws:ssm:{region}:{account}:document/{name}"


@pytest.fixture
def ssm(aws):
    client = boto3.client("ssm", region_name="us-east-1")
    for name in ("Target.Doc", "Bystander-Doc"):
        client.create_document(Content=CONTENT, Name=name, DocumentType="Command")
        client.modify_document_permission(Name=name, PermissionType="Share", AccountIdsToAdd=["all"])
    client.create_document(Content=CONTENT, Name="Partner-Doc", DocumentType="Command")
    client.modify_document_permission(Name="Partner-Doc", PermissionType="Share", AccountIdsToAdd=[OTHER_ACCOUNT])
    return client


def _shared(ssm, name="Target.Doc"):
    return sorted(ssm.describe_document_permission(Name=name, PermissionType="Share")["AccountIds"])


def _event(arn=None):
    return {"DocumentArn": arn or _arn("Target.Doc"), "AccountId": ACCOUNT, "Region": "us-east-1"}


# --- script ------------------------------------------------------------------------


def test_script_removes_public_sharing(ssm):
    out = block_public_access(_event(), None)
    assert _shared(ssm) == []
    assert out["SharedWithBefore"] == ["all"]


def test_script_removes_only_the_public_share(monkeypatch):
    # moto keeps "all" and account shares mutually exclusive and clears every share when
    # "all" is removed; the exact request (remove "all" only) is proven with Stubber.
    stub = stub_every_boto3_client(monkeypatch, "ssm")
    stub.add_response(
        "describe_document_permission",
        {"AccountIds": ["all", OTHER_ACCOUNT]},
        {"Name": "Target.Doc", "PermissionType": "Share"},
    )
    stub.add_response(
        "modify_document_permission",
        {},
        {"Name": "Target.Doc", "PermissionType": "Share", "AccountIdsToRemove": ["all"]},
    )
    stub.add_response("describe_document_permission", {"AccountIds": [OTHER_ACCOUNT]})
    out = block_public_access(_event(), None)
    stub.assert_no_pending_responses()
    assert out["SharedWithAfter"] == [OTHER_ACCOUNT]


def test_script_refuses_another_account_or_region(ssm):
    with pytest.raises(RemediationError, match=f"DocumentArn .*: the document is in {OTHER_ACCOUNT}/us-east-1"):
        block_public_access(_event(_arn("Target.Doc", OTHER_ACCOUNT)), None)
    with pytest.raises(RemediationError, match="the document is in 111111111111/eu-west-1"):
        block_public_access(_event(_arn("Target.Doc", region="eu-west-1")), None)
    assert _shared(ssm) == ["all"]


def test_script_missing_document(ssm):
    with pytest.raises(RemediationError, match="DocumentArn .*document/No-Such-Doc: no such document"):
        block_public_access(_event(_arn("No-Such-Doc")), None)


# --- document ----------------------------------------------------------------------


def test_document_makes_the_document_private_and_touches_nothing_else(ssm, run_runbook):
    result = run_runbook(NAME, DocumentArn=_arn("Target.Doc"))
    assert result["AutomationExecutionStatus"] == "Success", result.get("FailureMessage")
    assert _shared(ssm) == []
    assert _shared(ssm, "Bystander-Doc") == ["all"]
    assert _shared(ssm, "Partner-Doc") == [OTHER_ACCOUNT]
    assert json.loads(ssm.get_document(Name="Target.Doc")["Content"]) == json.loads(CONTENT)
    assert "no longer public" in str(result["Outputs"]["BlockSSMDocumentPublicAccess.Output"])


def test_document_second_run_changes_nothing(ssm, run_runbook):
    assert run_runbook(NAME, DocumentArn=_arn("Target.Doc"))["AutomationExecutionStatus"] == "Success"
    result = run_runbook(NAME, DocumentArn=_arn("Target.Doc"))
    assert result["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in str(result["Outputs"])
    assert _shared(ssm) == []


@pytest.mark.parametrize(
    "bad",
    [
        "Target.Doc",
        "arn:aws:ssm:us-east-1:111111111111:parameter/x",
        "arn:aws:ssm:us-east-1:111111111111:document/Bad Name",
        "arn:aws:ssm:us-east-1:1111:document/Target.Doc",
    ],
)
def test_document_rejects_a_malformed_arn(ssm, run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="parameter 'DocumentArn'"):
        run_runbook(NAME, DocumentArn=bad)
    assert _shared(ssm) == ["all"]


def test_document_missing_document_fails_naming_it(ssm, run_runbook):
    result = run_runbook(NAME, DocumentArn=_arn("No-Such-Doc"))
    assert result["AutomationExecutionStatus"] == "Failed"
    assert (
        "DocumentArn arn:aws:ssm:us-east-1:111111111111:document/No-Such-Doc: no such document"
        in result["FailureMessage"]
    )


def test_document_refuses_a_document_of_another_account(ssm, run_runbook):
    result = run_runbook(NAME, DocumentArn=_arn("Target.Doc", OTHER_ACCOUNT))
    assert result["AutomationExecutionStatus"] == "Failed"
    assert "it only changes documents of its own account and Region" in result["FailureMessage"]
    assert _shared(ssm) == ["all"]
