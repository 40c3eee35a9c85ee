"""The moto extensions the end-to-end tests rely on: fail loudly when moto changes."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto.awslambda.models import LambdaFunction

from asr import solution
from lambdas.orchestrator import notify
from tests.orchestrator.harness import MEMBER, REGION, Harness


def test_the_private_lambda_hook_still_exists():
    assert callable(getattr(LambdaFunction, "_invoke_lambda", None)), (
        "moto.awslambda.models.LambdaFunction._invoke_lambda is gone: the Lambda dispatch adapter in "
        "asr/simulator/orchestration/patches.py must follow moto"
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


def test_an_automation_sees_only_the_account_it_runs_in(harness: Harness):
    """``{{ssm:...}}`` defaults of an automation and of its child (aws:executeAutomation, no
    TargetLocations, no assumeRole) resolve in the account that started it, never in the admin account
    whose credentials are the ambient ones."""
    name = "/asr-test/where"
    harness.client("ssm").put_parameter(Name=name, Value="admin", Type="String")
    member = harness.install_member()
    member.client("ssm").put_parameter(Name=name, Value="member", Type="String")
    where = {"type": "String", "default": "{{ ssm:/asr-test/where }}"}
    child = {
        "schemaVersion": "0.3",
        "parameters": {"Where": where},
        "mainSteps": [{"name": "Read", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}}],
    }
    parent = {
        "schemaVersion": "0.3",
        "parameters": {"Where": where},
        "mainSteps": [
            {"name": "Child", "action": "aws:executeAutomation", "inputs": {"DocumentName": "Fidelity-Child"}},
            {
                "name": "Read",
                "action": "aws:executeAwsApi",
                "inputs": {"Service": "ssm", "Api": "GetParameter", "Name": name},
                "outputs": [{"Name": "Value", "Selector": "$.Parameter.Value", "Type": "String"}],
            },
        ],
    }
    harness.add_runbook(member, "Fidelity-Child", child)
    harness.add_runbook(member, "Fidelity-Parent", parent)

    exec_id = member.client("ssm").start_automation_execution(DocumentName="Fidelity-Parent")["AutomationExecutionId"]

    run = harness.router.runner.get_execution(exec_id)
    assert run.status.value == "Success", run.failure_message
    assert (run.account_id, run.parameters["Where"]) == (MEMBER, "member")
    assert run.step("Read").outputs["Value"] == "member"
    [child_run] = [e for e in harness.router.runner.executions if e.document_name == "Fidelity-Child"]
    assert (child_run.account_id, child_run.parameters["Where"]) == (MEMBER, "member")


def test_patches_apply_and_undo_without_pytest(monkeypatch: pytest.MonkeyPatch):
    import os
    import subprocess
    import sys
    from types import SimpleNamespace

    from asr.simulator.orchestration import Patches

    target = SimpleNamespace(kept=1)
    table = {"a": 1}
    monkeypatch.setenv("ASR_PATCH_GONE", "here")
    monkeypatch.delenv("ASR_PATCH_NEW", raising=False)
    with Patches() as patches:
        patches.setattr(target, "kept", 2)
        patches.setattr(target, "added", 3, raising=False)
        patches.setitem(table, "a", 10)
        patches.setitem(table, "b", 20)
        patches.setenv("ASR_PATCH_NEW", "yes")
        patches.delenv("ASR_PATCH_GONE")
        with pytest.raises(AttributeError, match="missing"):
            patches.setattr(target, "missing", 1)
        assert (target.kept, target.added, table) == (2, 3, {"a": 10, "b": 20})
        assert os.environ["ASR_PATCH_NEW"] == "yes" and "ASR_PATCH_GONE" not in os.environ
    assert target.kept == 1 and not hasattr(target, "added") and table == {"a": 1}
    assert "ASR_PATCH_NEW" not in os.environ and os.environ["ASR_PATCH_GONE"] == "here"
    # the product's emulation never needs pytest
    code = "import sys, asr.simulator.orchestration, asr.simulate; assert 'pytest' not in sys.modules, 'pytest'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])
