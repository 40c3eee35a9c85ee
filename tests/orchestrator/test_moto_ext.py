"""The moto extensions the end-to-end tests rely on: fail loudly when moto changes."""

from __future__ import annotations

import json

import boto3
import pytest
from moto.awslambda.models import LambdaFunction

from asr import solution
from lambdas.orchestrator import notify
from tests.orchestrator.harness import MEMBER, REGION, Harness


def test_the_private_lambda_hook_still_exists():
    assert callable(getattr(LambdaFunction, "_invoke_lambda", None)), (
        "moto.awslambda.models.LambdaFunction._invoke_lambda is gone: the Lambda dispatch adapter in "
        "tests/orchestrator/moto_ext.py must follow moto"
    )


def test_moto_still_lacks_what_we_emulate():
    """When moto implements these, the emulation can go (and these checks will say so)."""
    from moto.securityhub.responses import SecurityHubResponse
    from moto.ssm.responses import SimpleSystemManagerResponse

    assert not hasattr(SimpleSystemManagerResponse, "start_automation_execution")
    assert not hasattr(SecurityHubResponse, "batch_update_findings")


def test_dispatcher_runs_handlers_and_reports_errors(harness: Harness):
    lam = boto3.client("lambda", region_name=REGION)
    out = lam.invoke(FunctionName=solution.NOTIFY_FUNCTION, Payload=json.dumps("not an object"))
    assert "FunctionError" not in out  # the handler turns garbage into a LAMBDA_ERROR notification
    assert json.loads(out["Payload"].read())["Outcome"] == "LAMBDA_ERROR"
    harness.dispatcher.crash[solution.NOTIFY_FUNCTION] = "boom"
    out = lam.invoke(FunctionName=solution.NOTIFY_FUNCTION, Payload=b"{}")
    assert out["FunctionError"] == "Handled"
    assert harness.dispatcher.count(solution.NOTIFY_FUNCTION) == 2


def test_member_role_must_exist(harness: Harness):
    sts = boto3.client("sts", region_name=REGION)
    with pytest.raises(sts.exceptions.ClientError, match="AccessDenied"):
        sts.assume_role(RoleArn=f"arn:aws:iam::{MEMBER}:role/{solution.ORCHESTRATOR_MEMBER_ROLE}", RoleSessionName="xx")
    harness.install_member()
    sts.assume_role(RoleArn=f"arn:aws:iam::{MEMBER}:role/{solution.ORCHESTRATOR_MEMBER_ROLE}", RoleSessionName="xx")


def test_notify_handler_paths(harness: Harness):
    assert notify.ticket_url({"TicketAnswer": {"Payload": {"TicketURL": "https://t/1", "Ok": True}}}) == "https://t/1"
    assert "boom" in notify.ticket_url({"TicketError": {"Error": "E", "Cause": json.dumps({"errorMessage": "boom"})}})
    assert "HTTP 500" in notify.ticket_url({"TicketAnswer": {"Payload": {"Ok": False, "ResponseReason": "HTTP 500"}}})
    # an input that is neither is itself notified (never a silent end): LAMBDA_ERROR naming the keys
    out = notify.handle({"Outcome": "SUCCESS"})
    assert out["Outcome"] == "LAMBDA_ERROR" and "TicketRequested" in out["Message"] and "Outcome" in out["Message"]
    out = notify.handle({"Finding": {"bad": 1}, "Error": {"Error": "States.Timeout", "Cause": "late"}})
    assert out["Outcome"] == "LAMBDA_ERROR" and "States.Timeout" in out["Message"]
