"""Lambda.1 evaluator on moto: the function policy must not allow public access."""

from __future__ import annotations

import functools
import io
import json
import zipfile
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate

ACCOUNT, REGION = "111111111111", "us-east-1"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn"


@functools.cache
def _session() -> boto3.Session:
    return boto3.Session(region_name=REGION)


class _Session(boto3.Session):
    """A session that hands out a given (stubbed) client for some services."""

    def __init__(self, clients: dict[str, Any]) -> None:
        super().__init__(region_name=REGION)
        self._clients = clients

    def client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return self._clients.get(service_name) or super().client(service_name, *args, **kwargs)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


@pytest.fixture
def lam():
    with mock_aws():
        role = boto3.client("iam").create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        client = boto3.client("lambda", region_name=REGION)
        client.create_function(
            FunctionName="fn", Runtime="python3.12", Role=role, Handler="handler.handler", Code={"ZipFile": _zip()}
        )
        yield client


FUNCTION = Resource.of_arn(FUNCTION_ARN, "AwsLambdaFunction")


def _verdict():
    return evaluate("Lambda.1", _session(), FUNCTION)


def test_function_without_policy_passes(lam):
    verdict = _verdict()
    assert verdict.status is Status.PASSED
    assert "no resource-based policy" in verdict.reason


def test_public_principal_fails_until_the_statement_is_removed(lam):
    lam.add_permission(FunctionName="fn", StatementId="anyone", Action="lambda:InvokeFunction", Principal="*")
    verdict = _verdict()
    assert verdict.status is Status.FAILED
    assert "'anyone'" in verdict.reason
    lam.remove_permission(FunctionName="fn", StatementId="anyone")
    assert _verdict().status is Status.PASSED


def test_account_principal_passes(lam):
    lam.add_permission(FunctionName="fn", StatementId="peer", Action="lambda:InvokeFunction", Principal="222222222222")
    assert _verdict().status is Status.PASSED


def test_wildcard_principal_restricted_by_source_account_or_org_passes(lam):
    lam.add_permission(
        FunctionName="fn", StatementId="acct", Action="lambda:InvokeFunction", Principal="*", SourceAccount=ACCOUNT
    )
    lam.add_permission(
        FunctionName="fn",
        StatementId="org",
        Action="lambda:InvokeFunction",
        Principal="*",
        PrincipalOrgID="o-abcdefghij",
    )
    assert _verdict().status is Status.PASSED


def test_s3_principal_needs_source_account(lam):
    lam.add_permission(
        FunctionName="fn",
        StatementId="bucket",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::some-bucket",
    )
    verdict = _verdict()
    assert verdict.status is Status.FAILED
    assert "SourceAccount" in verdict.reason
    lam.remove_permission(FunctionName="fn", StatementId="bucket")
    lam.add_permission(
        FunctionName="fn",
        StatementId="bucket",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::some-bucket",
        SourceAccount=ACCOUNT,
    )
    assert _verdict().status is Status.PASSED


def test_other_service_principal_without_conditions_passes(lam):
    lam.add_permission(
        FunctionName="fn", StatementId="events", Action="lambda:InvokeFunction", Principal="events.amazonaws.com"
    )
    assert _verdict().status is Status.PASSED


def _policy_verdict(*statements: dict[str, Any]):
    # add_permission cannot write every policy shape (AWS-wildcard maps, wildcard condition values,
    # Deny statements), so get_policy is stubbed with the policy under test.
    client = boto3.client("lambda", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response("get_function_configuration", {"FunctionName": "fn", "FunctionArn": FUNCTION_ARN})
    policy = {"Version": "2012-10-17", "Statement": list(statements)}
    stubber.add_response("get_policy", {"Policy": json.dumps(policy), "RevisionId": "1"})
    with mock_aws(), stubber:  # moto too, so that nothing unstubbed can leave the machine
        return evaluate("Lambda.1", _Session({"lambda": client}), FUNCTION)


def _statement(principal: Any, condition: dict[str, Any] | None = None, effect: str = "Allow") -> dict[str, Any]:
    statement = {"Sid": "s", "Effect": effect, "Principal": principal, "Action": "lambda:InvokeFunction"}
    if condition:
        statement["Condition"] = condition
    return statement


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (_statement({"AWS": "*"}), Status.FAILED),
        (_statement({"AWS": ["arn:aws:iam::222222222222:root", "*"]}), Status.FAILED),
        (_statement({"AWS": "arn:aws:iam::*:root"}), Status.FAILED),
        (_statement("*", {"StringLike": {"AWS:SourceAccount": "*"}}), Status.FAILED),
        (_statement("*", {"StringNotEquals": {"AWS:SourceAccount": ACCOUNT}}), Status.FAILED),
        (_statement("*", {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}), Status.FAILED),
        (_statement("*", {"ArnLike": {"AWS:SourceArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:topic"}}), Status.PASSED),
        (_statement("*", {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}), Status.FAILED),
        (_statement("*", {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}), Status.PASSED),
        (_statement("*", effect="Deny"), Status.PASSED),
        (_statement({"AWS": "arn:aws:iam::222222222222:role/caller"}), Status.PASSED),
    ],
    ids=[
        "aws-wildcard",
        "wildcard-in-list",
        "wildcard-account",
        "wildcard-condition-value",
        "negated-condition",
        "public-function-url",
        "source-arn",
        "source-ip-anywhere",
        "source-ip-range",
        "deny",
        "role",
    ],
)
def test_policy_shapes(statement, expected):
    verdict = _policy_verdict(statement)
    assert verdict.status is expected, verdict.reason


def test_missing_function_is_an_error(lam):
    gone = Resource.of_arn(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:gone", "AwsLambdaFunction")
    with pytest.raises(EvaluationError, match="gone"):
        evaluate("Lambda.1", _session(), gone)
