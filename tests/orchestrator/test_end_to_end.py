"""The synthesized state machine on moto's interpreter, with our handlers and runbooks.

Every outcome is reached through the real definition; each test also checks what the
execution cost (state transitions from the history, Lambda invocations from the
dispatcher) against the design bounds: <= 10 transitions, <= 3 invocations.
"""

from __future__ import annotations

import json

import pytest

from asr import solution
from asr.simulator.findings import custom_action_event, imported_event, make_finding
from tests.orchestrator.harness import AFSBP, MEMBER, TICKET_FUNCTION, Harness
from tests.orchestrator.scenarios import (
    SC_RUNBOOK,
    is_public,
    lambda1_finding,
    lambda1_runbook,
    member_with_lambda1,
    public_function,
)

#: outcome -> (transitions, Lambda invocations) measured by the tests below
MEASURED: dict[str, tuple[int, int]] = {}


def _measure(name: str, harness: Harness, result) -> None:
    MEASURED[name] = (result.transitions, harness.dispatcher.count())


def auto_trigger_event(findings: list[dict]) -> dict:
    """What a playbook's AutoTrigger rule delivers (its input transformer adds actionName "None")."""
    event = imported_event(findings)
    event["detail"]["actionName"] = "None"
    return event


def _statuses(harness: Harness) -> list[str]:
    return [n["Remediation_Status"] for n in harness.notifications()]


def test_lambda1_from_the_custom_action_is_remediated(harness: Harness):
    harness.install_playbook()
    session, function_arn = member_with_lambda1(harness)
    finding = lambda1_finding(function_arn)
    harness.import_finding(finding)

    result = harness.run(custom_action_event([finding]))

    assert result.status == "SUCCEEDED", result.history[-5:]
    assert not is_public(session)
    notes = harness.notifications()
    assert [(n["Remediation_Status"], n["severity"]) for n in notes] == [("QUEUED", "INFO"), ("SUCCESS", "INFO")]
    assert notes[1]["finding"]["standard_control"] == "Lambda.1"
    assert notes[1]["finding"]["account"] == MEMBER
    assert harness.finding(finding["Id"])["Workflow"]["Status"] == "RESOLVED"
    assert result.states() == [
        "Event Has Findings?",
        "Process Findings",
        "Resolve Target",
        "Ready to Remediate?",
        "Schedule and Run Remediation",
        "Ticket Requested?",
        "Remediation Complete",
    ]
    assert result.transitions <= 10
    assert harness.dispatcher.count() == 3  # resolve, worker (schedule + start), worker (status)
    # the remediation ran in the member account, started through the member role
    assert [s.account for s in harness.router.started] == [MEMBER]
    _measure("SUCCESS", harness, result)


def test_every_status_poll_costs_one_invocation_and_no_transition(harness: Harness):
    harness.install_playbook()
    member_with_lambda1(harness)
    harness.router.pending_default = 3  # the execution reports InProgress three times
    finding = lambda1_finding(f"arn:aws:lambda:us-east-1:{MEMBER}:function:public-fn")

    result = harness.run(custom_action_event([finding]))

    assert result.status == "SUCCEEDED"
    assert _statuses(harness) == ["QUEUED", "SUCCESS"]
    assert result.transitions == 7
    assert harness.dispatcher.count() == 3 + 3


def test_a_finding_that_is_not_new_is_not_remediated(harness: Harness):
    harness.install_playbook()
    member_with_lambda1(harness)
    finding = lambda1_finding(f"arn:aws:lambda:us-east-1:{MEMBER}:function:public-fn")
    finding["Workflow"] = {"Status": "SUPPRESSED"}
    harness.import_finding(finding)

    result = harness.run(auto_trigger_event([finding]))

    assert result.status == "SUCCEEDED"
    notes = harness.notifications()
    assert [n["Remediation_Status"] for n in notes] == ["NOT_NEW"]
    assert "(SUPPRESSED)" in notes[0]["message"]
    stored = harness.finding(finding["Id"])
    assert stored["Workflow"]["Status"] == "SUPPRESSED"  # the user's decision stands
    assert "NOT_NEW" in stored["Note"]["Text"]
    assert harness.router.started == []
    _measure("NOT_NEW", harness, result)


def test_no_runbook_in_the_member_account(harness: Harness):
    harness.install_playbook()
    harness.install_member()
    finding = lambda1_finding(f"arn:aws:lambda:us-east-1:{MEMBER}:function:f")
    harness.import_finding(finding)

    result = harness.run(custom_action_event([finding]))

    notes = harness.notifications()
    assert [(n["Remediation_Status"], n["severity"]) for n in notes] == [("NO_RUNBOOK", "ERROR")]
    assert SC_RUNBOOK in notes[0]["message"] and MEMBER in notes[0]["message"]
    stored = harness.finding(finding["Id"])
    assert stored["Workflow"]["Status"] == "NOTIFIED"
    _measure("NO_RUNBOOK", harness, result)


def test_playbook_not_enabled(harness: Harness):
    harness.install_playbook(enabled=False)
    member_with_lambda1(harness)
    finding = lambda1_finding(f"arn:aws:lambda:us-east-1:{MEMBER}:function:public-fn")

    result = harness.run(custom_action_event([finding]))

    notes = harness.notifications()
    assert [n["Remediation_Status"] for n in notes] == ["PLAYBOOK_NOT_ENABLED"]
    assert "is not enabled" in notes[0]["message"]
    _measure("PLAYBOOK_NOT_ENABLED", harness, result)


def test_unknown_standard_is_playbook_not_enabled(harness: Harness):
    member_with_lambda1(harness)
    finding = make_finding(
        "Lambda.1",
        "arn:aws:lambda:us-east-1:111111111111:function:public-fn",
        resource_type="AwsLambdaFunction",
        standard_name=AFSBP[0],
        standard_version=AFSBP[1],
        account_id=MEMBER,
    )

    harness.run(custom_action_event([finding]))

    notes = harness.notifications()
    assert [n["Remediation_Status"] for n in notes] == ["PLAYBOOK_NOT_ENABLED"]
    assert "not installed" in notes[0]["message"]


def test_member_role_missing_is_assume_role_failure(harness: Harness):
    harness.install_playbook()
    finding = lambda1_finding("arn:aws:lambda:us-east-1:333333333333:function:f", account="333333333333")

    result = harness.run(custom_action_event([finding]))

    notes = harness.notifications()
    assert [n["Remediation_Status"] for n in notes] == ["ASSUME_ROLE_FAILURE"]
    assert solution.ORCHESTRATOR_MEMBER_ROLE in notes[0]["message"]
    metrics = harness.client("cloudwatch").list_metrics(Namespace="ASR", MetricName="AssumeRoleFailure")["Metrics"]
    assert metrics
    _measure("ASSUME_ROLE_FAILURE", harness, result)


def test_runbook_not_active(harness: Harness):
    from moto.ssm.models import ssm_backends

    harness.install_playbook()
    member_with_lambda1(harness)
    ssm_backends[MEMBER]["us-east-1"]._documents[SC_RUNBOOK].get_default_version().status = "Updating"
    finding = lambda1_finding(f"arn:aws:lambda:us-east-1:{MEMBER}:function:public-fn")

    result = harness.run(custom_action_event([finding]))

    notes = harness.notifications()
    assert [n["Remediation_Status"] for n in notes] == ["RUNBOOK_NOT_ACTIVE"]
    assert "Updating" in notes[0]["message"]
    _measure("RUNBOOK_NOT_ACTIVE", harness, result)


def test_a_failing_runbook_is_failed(harness: Harness):
    harness.install_playbook()
    session, _ = member_with_lambda1(harness)
    # the finding names a function that does not exist: the remediation fails
    finding = lambda1_finding(f"arn:aws:lambda:us-east-1:{MEMBER}:function:no-such-function")
    harness.import_finding(finding)

    result = harness.run(custom_action_event([finding]))

    assert result.status == "SUCCEEDED"
    notes = harness.notifications()
    assert [(n["Remediation_Status"], n["severity"]) for n in notes] == [("QUEUED", "INFO"), ("FAILED", "ERROR")]
    assert "Remediation failed" in notes[1]["message"]
    assert harness.finding(finding["Id"])["Workflow"]["Status"] == "NOTIFIED"
    assert is_public(session)  # the other function was not touched
    _measure("FAILED", harness, result)


@pytest.mark.parametrize("status, outcome", [("TimedOut", "TIMEDOUT"), ("Cancelled", "CANCELLED")])
def test_timed_out_and_cancelled_automations(harness: Harness, status, outcome):
    harness.install_playbook()
    _, function_arn = member_with_lambda1(harness)
    harness.router.status_override = status
    finding = lambda1_finding(function_arn)
    harness.import_finding(finding)

    result = harness.run(custom_action_event([finding]))

    notes = harness.notifications()
    assert [(n["Remediation_Status"], n["severity"]) for n in notes] == [("QUEUED", "INFO"), (outcome, "ERROR")]
    assert "forced by the test" in notes[1]["message"]
    assert harness.finding(finding["Id"])["Workflow"]["Status"] == "NOTIFIED"
    _measure(outcome, harness, result)


def test_a_crashed_lambda_is_lambda_error(harness: Harness):
    harness.install_playbook()
    member_with_lambda1(harness)
    harness.dispatcher.crash[solution.RESOLVE_FUNCTION] = "Task timed out after 60.00 seconds"
    finding = lambda1_finding(f"arn:aws:lambda:us-east-1:{MEMBER}:function:public-fn")

    result = harness.run(custom_action_event([finding]))

    assert result.status == "SUCCEEDED"
    notes = harness.notifications()
    assert [n["Remediation_Status"] for n in notes] == ["LAMBDA_ERROR"]
    assert "Task timed out" in notes[0]["message"]
    assert "Notify Orchestrator Failure" in result.states()
    _measure("LAMBDA_ERROR", harness, result)


def test_a_runbook_that_cannot_start_fails_the_task_token(harness: Harness):
    harness.install_playbook()
    session = harness.install_member()
    content, _ = lambda1_runbook()
    # in SSM (so Resolve finds it Active) but rejected by StartAutomationExecution
    session.client("ssm").create_document(
        Name=SC_RUNBOOK, Content=json.dumps(content), DocumentType="Automation", DocumentFormat="JSON"
    )
    finding = lambda1_finding(f"arn:aws:lambda:us-east-1:{MEMBER}:function:f")

    result = harness.run(custom_action_event([finding]))

    assert result.status == "SUCCEEDED"
    notes = harness.notifications()
    assert [n["Remediation_Status"] for n in notes] == ["LAMBDA_ERROR"]
    assert "ASR.RemediationNotStarted" in notes[0]["message"] and SC_RUNBOOK in notes[0]["message"]
    assert result.states()[-1] == "Notify Orchestrator Failure"


@pytest.mark.stack_parameters(TicketGenFunctionName=TICKET_FUNCTION)  # as the harness deploys
def test_a_failing_ticket_generator_is_reported_in_the_notification(ticket_harness: Harness):
    harness = ticket_harness
    harness.install_playbook()
    _, function_arn = member_with_lambda1(harness)
    harness.dispatcher.crash[TICKET_FUNCTION] = "Jira said 401"

    harness.run(
        custom_action_event(
            [lambda1_finding(function_arn)],
            action_name=solution.TICKETING_ACTION_NAME,
            action_id=solution.TICKETING_ACTION_ID,
        )
    )

    notes = harness.notifications()
    assert [n["Remediation_Status"] for n in notes] == ["QUEUED", "SUCCESS"]
    assert notes[1]["Ticket_URL"].startswith("Error generating ticket: ")
    assert "Jira said 401" in notes[1]["Ticket_URL"]


def test_two_findings_in_one_event(harness: Harness):
    harness.install_playbook()
    session, function_arn = member_with_lambda1(harness)
    remediated = lambda1_finding(function_arn)
    elsewhere = lambda1_finding("arn:aws:lambda:us-east-1:333333333333:function:f", account="333333333333")

    result = harness.run(custom_action_event([remediated, elsewhere]))

    assert result.status == "SUCCEEDED"
    assert sorted(_statuses(harness)) == ["ASSUME_ROLE_FAILURE", "QUEUED", "SUCCESS"]
    assert not is_public(session)


@pytest.mark.stack_parameters(TicketGenFunctionName=TICKET_FUNCTION)  # as the harness deploys
def test_remediate_and_ticket(ticket_harness: Harness):
    harness = ticket_harness
    harness.install_playbook()
    _, function_arn = member_with_lambda1(harness)
    finding = lambda1_finding(function_arn)

    result = harness.run(
        custom_action_event(
            [finding], action_name=solution.TICKETING_ACTION_NAME, action_id=solution.TICKETING_ACTION_ID
        )
    )

    assert result.status == "SUCCEEDED"
    notes = harness.notifications()
    assert [n["Remediation_Status"] for n in notes] == ["QUEUED", "SUCCESS"]
    assert notes[1]["Ticket_URL"] == "https://tickets.example.com/ASR-Lambda.1"
    assert "Generate Ticket" in result.states()
    _measure("SUCCESS+ticket", harness, result)


@pytest.mark.stack_parameters(CustomRunbookPrefix="Custom-")
def test_custom_runbook_for_a_config_finding(harness: Harness):
    session = harness.install_member()
    content, _ = lambda1_runbook()
    harness.add_runbook(session, "Custom-RemediateMyRule", content)
    harness.client("ssm").put_parameter(
        Name="/Solutions/SO0111/my-config-rule",
        Type="String",
        Value=json.dumps({"RunbookName": "Custom-RemediateMyRule"}),
    )
    public_function(session, "fn2")
    finding = lambda1_finding(f"arn:aws:lambda:us-east-1:{MEMBER}:function:fn2", title="my-config-rule")
    finding["ProductFields"]["aws/securityhub/ProductName"] = "Config"
    finding["ProductName"] = "Config"

    harness.run(custom_action_event([finding]))

    assert [s.document for s in harness.router.started] == ["Custom-RemediateMyRule"]


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    if MEASURED:
        print("\noutcome: transitions / Lambda invocations")
        for name, (transitions, invocations) in sorted(MEASURED.items()):
            print(f"  {name}: {transitions} / {invocations}")
