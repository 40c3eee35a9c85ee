"""ASR-RemoveLambdaPublicAccess: what 'public' means, the script on moto, the document through the runner."""

from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest
from moto import mock_aws

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.remove_lambda_public_access import (
    RemediationError,
    is_public,
    lets_s3_invoke_without_source_account,
    remove_public_access,
)
from tests.remediations.helpers import step_output

DOC = "RemoveLambdaPublicAccess"
ACCOUNT = "111111111111"


def _allow(principal, condition=None) -> dict:
    stmt = {"Sid": "s", "Effect": "Allow", "Principal": principal, "Action": "lambda:InvokeFunction", "Resource": "*"}
    if condition:
        stmt["Condition"] = condition
    return stmt


@pytest.mark.parametrize(
    "statement, public",
    [
        (_allow("*"), True),
        (_allow({"AWS": "*"}), True),
        (_allow({"AWS": ["arn:aws:iam::222222222222:root", "*"]}), True),
        (_allow("*", {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}), True),
        (_allow("*", {"StringEquals": {"AWS:SourceAccount": ACCOUNT}}), False),
        (_allow("*", {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::my-bucket"}}), False),
        (_allow({"AWS": "*"}, {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}), False),
        (_allow("*", {"StringLike": {"AWS:SourceAccount": "*"}}), True),
        (_allow("*", {"StringNotEquals": {"AWS:SourceAccount": ACCOUNT}}), True),
        (_allow("*", {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}), True),
        (_allow({"Service": "sns.amazonaws.com"}), False),
        (_allow({"AWS": "arn:aws:iam::222222222222:root"}), False),
        ({**_allow("*"), "Effect": "Deny"}, False),
    ],
)
def test_what_public_means(statement, public):
    assert is_public(statement) is public


S3_BUCKET = {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::my-bucket"}}


@pytest.mark.parametrize(
    "statement, offending",
    [
        # Lambda.1 (Config rule lambda-function-public-access-prohibited): "NON_COMPLIANT if a Lambda
        # function is invoked from Amazon S3, and the policy doesn't include a condition to limit public
        # access, such as AWS:SourceAccount" -- a bucket ARN names no account.
        (_allow({"Service": "s3.amazonaws.com"}), True),
        (_allow({"Service": "s3.amazonaws.com"}, S3_BUCKET), True),
        (_allow("*", S3_BUCKET), True),
        (_allow({"Service": "s3.amazonaws.com"}, {**S3_BUCKET, "StringEquals": {"AWS:SourceAccount": ACCOUNT}}), False),
        (_allow("*", {**S3_BUCKET, "StringEquals": {"AWS:SourceAccount": ACCOUNT}}), False),
        (_allow({"Service": "s3.amazonaws.com"}, {"StringLike": {"AWS:SourceAccount": "*"}}), True),
        (_allow({"Service": "sns.amazonaws.com"}, {"ArnLike": {"AWS:SourceArn": "arn:aws:sns:us-east-1:1:t"}}), False),
        ({**_allow({"Service": "s3.amazonaws.com"}), "Effect": "Deny"}, False),
    ],
)
def test_what_an_s3_statement_without_source_account_means(statement, offending):
    assert lets_s3_invoke_without_source_account(statement) is offending


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.py", "def handler(e, c):\n    return 1\n")
    return buf.getvalue()


def _function(name: str) -> None:
    iam = boto3.client("iam")
    try:
        role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName="fn-role")["Role"]["Arn"]
    lam = boto3.client("lambda")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": _zip()},
        Tags={"team": "blue"},
    )
    lam.add_permission(FunctionName=name, StatementId="public", Action="lambda:InvokeFunction", Principal="*")
    lam.add_permission(
        FunctionName=name,
        StatementId="public-url",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    lam.add_permission(
        FunctionName=name,
        StatementId="s3-trigger",
        Action="lambda:InvokeFunction",
        Principal="*",
        SourceAccount=ACCOUNT,
    )
    lam.add_permission(
        FunctionName=name,
        StatementId="sns-trigger",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:topic",
    )
    lam.add_permission(
        FunctionName=name, StatementId="partner", Action="lambda:InvokeFunction", Principal="222222222222"
    )


def _policy(name: str) -> dict:
    try:
        statements = json.loads(boto3.client("lambda").get_policy(FunctionName=name)["Policy"])["Statement"]
    except boto3.client("lambda").exceptions.ResourceNotFoundException:
        return {}
    return {s["Sid"]: s for s in statements}


def test_script_removes_only_public_statements():
    with mock_aws():
        _function("fn")
        before = _policy("fn")
        out = remove_public_access({"FunctionName": "fn"}, None)
        after = _policy("fn")
    assert sorted(out["RemovedStatements"]) == ["public", "public-url"]
    assert after == {k: v for k, v in before.items() if k not in ("public", "public-url")}


def test_script_function_without_policy_is_left_alone():
    with mock_aws():
        _function("fn")
        for sid in _policy("fn"):
            boto3.client("lambda").remove_permission(FunctionName="fn", StatementId=sid)
        out = remove_public_access({"FunctionName": "fn"}, None)
    assert out["RemovedStatements"] == [] and "nothing changed" in out["Message"]


def test_script_missing_function_names_the_input():
    with mock_aws(), pytest.raises(RemediationError, match="FunctionName nope: no such Lambda function"):
        remove_public_access({"FunctionName": "nope"}, None)


# --- the document, through the runner ------------------------------------------------


def _s3_triggers(name: str) -> None:
    """S3 may invoke the function with only a bucket ARN (no account), as the S3 console used to grant."""
    lam = boto3.client("lambda")
    lam.add_permission(
        FunctionName=name,
        StatementId="s3-bucket",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::uploads",
    )
    lam.add_permission(
        FunctionName=name,
        StatementId="any-caller-from-bucket",
        Action="lambda:InvokeFunction",
        Principal="*",
        SourceArn="arn:aws:s3:::reports",
    )


def test_document_remediates_then_changes_nothing(run_runbook):
    _function("fn")
    _function("bystander")
    before, bystander = _policy("fn"), _policy("bystander")

    first = run_runbook(DOC, FunctionName=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn")
    assert first["AutomationExecutionStatus"] == "Success", first.get("FailureMessage")
    after = _policy("fn")
    assert set(after) == {"s3-trigger", "sns-trigger", "partner"}
    assert after == {k: before[k] for k in after}
    assert _policy("bystander") == bystander
    assert boto3.client("lambda").list_tags(Resource=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn")["Tags"] == {
        "team": "blue"
    }
    assert sorted(step_output(first, "RemovePublicStatements.Output")["RemovedStatements"]) == ["public", "public-url"]

    second = run_runbook(DOC, FunctionName="fn")
    assert second["AutomationExecutionStatus"] == "Success"
    assert step_output(second, "RemovePublicStatements.Output")["RemovedStatements"] == []
    assert _policy("fn") == after


@pytest.mark.parametrize(
    "bad",
    [
        "fn:alias",
        "my function",
        "arn:aws:lambda:us-east-1:111111111111:function:fn:1",
        "arn:aws:sns:us-east-1:111111111111:fn",
    ],
)
def test_document_rejects_a_malformed_name(run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="FunctionName"):
        run_runbook(DOC, FunctionName=bad)


def test_document_fails_on_a_missing_function_and_changes_nothing(run_runbook):
    _function("bystander")
    bystander = _policy("bystander")
    out = run_runbook(DOC, FunctionName="missing")
    assert out["AutomationExecutionStatus"] == "Failed"
    assert "FunctionName missing: no such Lambda function" in out["FailureMessage"]
    assert _policy("bystander") == bystander


def test_document_restates_s3_triggers_with_the_functions_account(run_runbook):
    """Kept before (the defect): S3 statements without aws:SourceAccount. Each is replaced by the same
    permission restricted to the function's own account, so the trigger keeps working."""
    _function("fn")
    _s3_triggers("fn")
    _function("bystander")
    _s3_triggers("bystander")
    before, bystander = _policy("fn"), _policy("bystander")

    first = run_runbook(DOC, FunctionName="fn")
    assert first["AutomationExecutionStatus"] == "Success", first.get("FailureMessage")
    after = _policy("fn")
    assert set(after) == {"s3-trigger", "sns-trigger", "partner", "s3-bucket-SourceAccount",
                          "any-caller-from-bucket-SourceAccount"}  # fmt: skip
    for old in ("s3-bucket", "any-caller-from-bucket"):
        new = after[f"{old}-SourceAccount"]
        assert new["Principal"] == before[old]["Principal"]
        assert new["Action"] == before[old]["Action"]
        assert new["Condition"]["ArnLike"] == before[old]["Condition"]["ArnLike"]
        assert new["Condition"]["StringEquals"] == {"AWS:SourceAccount": ACCOUNT}
        assert not lets_s3_invoke_without_source_account(new) and not is_public(new)
    assert {k: after[k] for k in ("s3-trigger", "sns-trigger", "partner")} == {
        k: before[k] for k in ("s3-trigger", "sns-trigger", "partner")
    }
    assert _policy("bystander") == bystander
    out = step_output(first, "RemovePublicStatements.Output")
    assert sorted(out["RestatedStatements"]) == ["any-caller-from-bucket", "s3-bucket"]

    second = run_runbook(DOC, FunctionName="fn")
    assert second["AutomationExecutionStatus"] == "Success"
    assert _policy("fn") == after


def test_script_refuses_an_s3_statement_it_cannot_restate():
    """A condition AddPermission cannot express is never dropped silently: the run fails, naming it."""
    from remediation_runbooks.scripts import remove_lambda_public_access as script

    statement = {
        "Sid": "odd",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn",
        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    }
    with pytest.raises(RemediationError, match="statement 'odd'.*IpAddress aws:SourceIp"):
        script.restated_permission(statement, ACCOUNT)
