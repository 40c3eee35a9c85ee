"""``ASR:Remediate&Ticket`` end to end: the synthesized state machine on moto, the real ticket
generators (lambdas/ticketing) deployed as their blueprint stacks deploy them, talking to a
Jira- or ServiceNow-like HTTP server on 127.0.0.1.

The harness deploys the admin stack with ``TicketGenFunctionName`` = ``TICKET_FUNCTION``; each
test re-deploys that function as the blueprint template defines ``SO0111-ASR-Jira-TicketGenerator``
(or the ServiceNow one): its handler, its execution role (the IAM enforcer checks its calls
against the blueprint's synthesized policy, ``SecretArn`` being the test's secret) and its
environment, resolved from the template with the test server as ``InstanceURI``. The function
keeps the harness's name because the state machine role may invoke only that one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from asr import limits, solution
from asr.iam.template import Location, Resolver
from asr.simulator.findings import custom_action_event
from lambdas.orchestrator import notifications, notify, outcomes
from lambdas.orchestrator.notifications import Notification
from tests.lambdas.ticket_server import CREATED_ISSUE, CREATED_RECORD, SYS_ID, Answer, Service, basic, loopback
from tests.orchestrator.harness import ADMIN, MEMBER, REGION, TICKET_FUNCTION, Harness
from tests.orchestrator.scenarios import is_public, lambda1_finding, member_with_lambda1

pytestmark = pytest.mark.stack_parameters(TicketGenFunctionName=TICKET_FUNCTION)  # as the harness deploys

EMAIL = "secops@example.com"
TOKEN = "ATATT3xFfGF0-e2e-jira-token-Qw7"
API_KEY = "now-e2e-api-key-5c2a9d"

#: product -> (blueprint template, its settings parameters, the secret)
BLUEPRINTS = {
    "jira": (
        "blueprints/JiraBlueprintStack.template",
        {"JiraProjectKey": "SEC"},
        {"Username": EMAIL, "Password": TOKEN},
    ),
    "servicenow": (
        "blueprints/ServiceNowBlueprintStack.template",
        {"ServiceNowTableName": "incident"},
        {"API_Key": API_KEY},
    ),
}


@dataclass
class Generator:
    harness: Harness
    service: Service
    secret_arn: str
    role_arn: str
    sleeps: list[float]

    def invocations(self) -> list[Any]:
        return [i for i in self.harness.dispatcher.invocations if i.function == TICKET_FUNCTION]


@pytest.fixture
def service() -> Iterator[Service]:
    svc = Service()
    yield svc
    svc.close()


def deploy_generator(
    product: str, harness: Harness, service: Service, iam_enforcer: Any, iam_roles: Any, monkeypatch: Any
) -> Generator:
    """Deploy the blueprint's ticket generator as ``TICKET_FUNCTION`` in the admin account."""
    template_name, settings, secret = BLUEPRINTS[product]
    sleeps = loopback(monkeypatch)
    arn = harness.client("secretsmanager").create_secret(Name=f"asr/{product}", SecretString=json.dumps(secret))["ARN"]
    # The blueprint stack deployed with SecretArn = this secret (its role may read exactly that ARN).
    roles = iam_roles.with_parameters({"TicketGenFunctionName": TICKET_FUNCTION, "SecretArn": arn})
    iam_enforcer.roles = roles
    source = roles.source(template_name)
    parameters = {**source.parameter_sets[0], "InstanceURI": service.url, "SecretArn": arn, **settings}
    resolver = Resolver(source.template, Location(ADMIN, REGION), parameters)
    (function,) = (
        r["Properties"] for r in source.template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    )
    role_arn = resolver.value(function["Role"])
    environment = resolver.value(function["Environment"]["Variables"])
    assert environment["SECRET_ARN"] == arn and environment["INSTANCE_URI"] == service.url
    harness.client("iam").create_role(
        RoleName=role_arn.rsplit("/", 1)[1],
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )
    harness.client("lambda").update_function_configuration(
        FunctionName=TICKET_FUNCTION,
        Handler=function["Handler"],
        Role=role_arn,
        Environment={"Variables": environment},
    )
    # The dispatcher runs handlers in this process: the function's environment is the process's.
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    return Generator(harness, service, arn, role_arn, sleeps)


@pytest.fixture
def jira(ticket_harness: Harness, service: Service, iam_enforcer, iam_roles, monkeypatch) -> Generator:
    return deploy_generator("jira", ticket_harness, service, iam_enforcer, iam_roles, monkeypatch)


@pytest.fixture
def servicenow(ticket_harness: Harness, service: Service, iam_enforcer, iam_roles, monkeypatch) -> Generator:
    return deploy_generator("servicenow", ticket_harness, service, iam_enforcer, iam_roles, monkeypatch)


def remediate_and_ticket(harness: Harness) -> tuple[dict[str, Any], Any, Any]:
    """A public function in the member account, its finding, and one Remediate&Ticket run."""
    harness.install_playbook()
    session, function_arn = member_with_lambda1(harness)
    finding = lambda1_finding(function_arn)
    harness.import_finding(finding)
    result = harness.run(
        custom_action_event(
            [finding], action_name=solution.TICKETING_ACTION_NAME, action_id=solution.TICKETING_ACTION_ID
        )
    )
    assert result.status == "SUCCEEDED", result.history[-5:]
    assert not is_public(session), "the remediation ran whatever the ticket does"
    return finding, result, session


def solution_log(harness: Harness) -> str:
    events = harness.client("logs").filter_log_events(logGroupName=solution.SOLUTION_LOG_GROUP)["events"]
    return "\n".join(e["message"] for e in events)


# --- Jira ----------------------------------------------------------------------------------------


def test_jira_ticket_url_reaches_the_notification_and_the_finding_note(jira: Generator, service: Service):
    harness = jira.harness
    service.answers(CREATED_ISSUE)

    finding, result, _ = remediate_and_ticket(harness)

    assert result.states()[-2:] == ["Generate Ticket", "Send Ticket Notification"]
    # the cost docs/orchestrator.md states: 8 transitions, 5 invocations (resolve, worker x2, ticket, notify)
    assert (result.transitions, harness.dispatcher.count()) == (8, 5)
    # the issue was created through Jira's REST API, with the secret's credentials
    (request,) = service.requests
    assert (request.method, request.path) == ("POST", "/rest/api/2/issue")
    assert request.headers["authorization"] == basic(EMAIL, TOKEN)
    fields = request.json()["fields"]
    assert fields["project"] == {"key": "SEC"} and fields["priority"] == {"name": "High"}
    assert fields["summary"] == f"ASR: Remediation completed for Lambda.1 in account {MEMBER}"
    assert "Remediation succeeded for SC control Lambda.1" in fields["description"]
    assert "Affected resource: AwsLambdaFunction public-fn" in fields["description"]  # the runbook's AffectedObject
    assert finding["Description"] in fields["description"]
    (invocation,) = jira.invocations()
    assert not invocation.errored and invocation.result["Ok"] is True
    url = f"{service.url}/browse/SEC-42"
    # the notification
    notes = harness.notifications()
    assert [(n["Remediation_Status"], n["severity"]) for n in notes] == [("QUEUED", "INFO"), ("SUCCESS", "INFO")]
    assert notes[1]["Ticket_URL"] == url
    assert "Ticket_URL" not in notes[0]
    # the finding: its Note ends with the URL; its workflow stays as the control runbook set it
    stored = harness.finding(finding["Id"])
    assert stored["Note"]["Text"].startswith("SUCCESS: ")
    assert stored["Note"]["Text"].endswith(f"{notifications.TICKET_LABEL}{url}")
    assert stored["Note"]["UpdatedBy"] == notifications.NOTE_AUTHOR
    assert stored["Workflow"]["Status"] == "RESOLVED"
    # the solution log
    assert f"Ticket: {url}" in solution_log(harness)
    assert jira.sleeps == []


def test_jira_500_still_notifies_and_names_the_ticket_failure(jira: Generator, service: Service):
    harness = jira.harness
    service.answers(Answer(500, {"errorMessages": ["Internal server error"]}))

    finding, result, _ = remediate_and_ticket(harness)

    assert result.states()[-2:] == ["Generate Ticket", "Send Ticket Notification"]
    assert len(service.requests) == 3 and jira.sleeps == [1.0, 2.0], "bounded retries, never slept for real"
    notes = harness.notifications()
    assert [n["Remediation_Status"] for n in notes] == ["QUEUED", "SUCCESS"], "the remediation's outcome stands"
    ticket = notes[1]["Ticket_URL"]
    assert ticket.startswith("Error generating ticket: HTTP 500")
    assert "Internal server error" in ticket and "gave up after 3 attempts" in ticket
    assert ticket.endswith(" - check ticket_generator lambda logs for details")
    stored = harness.finding(finding["Id"])
    assert stored["Note"]["Text"].startswith("SUCCESS: ")
    assert f"{notifications.TICKET_LABEL}Error generating ticket: HTTP 500" in stored["Note"]["Text"]
    assert stored["Workflow"]["Status"] == "RESOLVED"
    (invocation,) = jira.invocations()
    assert invocation.result["Ok"] is False and invocation.result["ResponseCode"] == 500


def test_jira_unreadable_secret_is_named_in_the_notification(jira: Generator, service: Service, iam_enforcer):
    """The generator's role may read only the blueprint's secret: pointed at another one it is
    denied (as AWS would), and the notification says which secret and why."""
    harness = jira.harness
    other = harness.client("secretsmanager").create_secret(Name="someone-elses", SecretString="{}")["ARN"]
    jira.harness.monkeypatch.setenv("SECRET_ARN", other)

    with iam_enforcer.expect_denial(lambda d: d.resource == other) as denied:
        remediate_and_ticket(harness)

    assert [d.action for d in denied] == ["secretsmanager:GetSecretValue"]
    assert service.requests == []
    ticket = harness.notifications()[1]["Ticket_URL"]
    assert ticket.startswith(f"Error generating ticket: secret {other}: AccessDeniedException")


def test_a_url_too_long_for_the_note_is_cut_visibly(jira: Generator, service: Service):
    """A Note holds 512 characters: a ticket URL longer than the Note's room for it is cut
    (visibly), the outcome still leads, and the notification keeps the whole URL."""
    harness = jira.harness
    key = "SEC-" + "7" * 600
    service.answers(Answer(201, {"id": "1", "key": key}))

    finding, _, _ = remediate_and_ticket(harness)

    url = f"{service.url}/browse/{key}"
    assert harness.notifications()[1]["Ticket_URL"] == url
    text = harness.finding(finding["Id"])["Note"]["Text"]
    assert limits.utf16_len(text) <= limits.NOTE_TEXT_CHARS
    assert text.startswith("SUCCESS: ")
    assert f"{notifications.TICKET_LABEL}{url[:300]}" in text
    assert text.endswith(" characters]") and "\u2026[truncated " in text


# --- ServiceNow ------------------------------------------------------------------------------------


def test_servicenow_ticket_url_reaches_the_notification_and_the_finding_note(servicenow: Generator, service: Service):
    harness = servicenow.harness
    service.answers(CREATED_RECORD)

    finding, _, _ = remediate_and_ticket(harness)

    (request,) = service.requests
    assert (request.method, request.path) == ("POST", "/api/now/table/incident")
    assert request.headers["x-sn-apikey"] == API_KEY and "authorization" not in request.headers
    record = request.json()
    assert record["short_description"] == f"ASR: Remediation completed for Lambda.1 in account {MEMBER}"
    assert (record["impact"], record["urgency"]) == ("1", "1")
    url = f"{service.url}/nav_to.do?uri=incident.do%3Fsys_id%3D{SYS_ID}"
    assert harness.notifications()[1]["Ticket_URL"] == url
    stored = harness.finding(finding["Id"])
    assert stored["Note"]["Text"].endswith(f"{notifications.TICKET_LABEL}{url}")
    assert stored["Workflow"]["Status"] == "RESOLVED"


def test_servicenow_timeouts_still_notify(servicenow: Generator, service: Service):
    harness = servicenow.harness
    service.answers(Answer(hang=True))

    remediate_and_ticket(harness)

    assert len(service.requests) == 3 and servicenow.sleeps == [1.0, 2.0]
    ticket = harness.notifications()[1]["Ticket_URL"]
    assert ticket.startswith("Error generating ticket: ") and "timed out" in ticket


# --- the Note's 512 characters -------------------------------------------------------------------


def _note(message: str, ticket: str | None, outcome: str = outcomes.SUCCESS) -> str:
    return notifications.note_text(Notification(outcome, message, exec_id="e-1", ticket_url=ticket))


URL = "https://acme.atlassian.net/browse/SEC-4242"


@pytest.mark.parametrize(
    "message",
    [
        "short",
        "x" * 600,
        "\U0001f512" * 300,  # astral: 2 UTF-16 units each, as AWS counts
        "\u00e9" * 1000,
        "a" * 491,  # exactly full with the URL, then one more
        "a" * 492,
    ],
)
def test_the_url_survives_the_truncation_of_the_message(message):
    text = _note(message, URL)
    assert limits.utf16_len(text) <= limits.NOTE_TEXT_CHARS
    assert text.endswith(f"{notifications.TICKET_LABEL}{URL}")
    assert text.startswith("SUCCESS: e-1: ")
    head = text[: -len(notifications.TICKET_LABEL + URL)]
    full = f"SUCCESS: e-1: {message}"
    assert head == full or ("[truncated " in head and len(head) < len(full))


def test_the_note_is_full_when_it_can_be():
    message = "a" * (limits.NOTE_TEXT_CHARS - len("SUCCESS: e-1: ") - len(notifications.TICKET_LABEL + URL))
    text = _note(message, URL)
    assert limits.utf16_len(text) == limits.NOTE_TEXT_CHARS and "[truncated" not in text
    text = _note(message + "b", URL)
    assert limits.utf16_len(text) <= limits.NOTE_TEXT_CHARS and "[truncated" in text and text.endswith(URL)


@pytest.mark.parametrize("length", [440, 512, 5000])
def test_a_url_that_alone_exceeds_the_room_is_cut_visibly(length):
    url = "https://t.example/" + "u" * length
    text = _note("the remediation message", url)
    assert limits.utf16_len(text) <= limits.NOTE_TEXT_CHARS
    assert text.startswith("SUCCESS: ")
    tail = notifications.TICKET_LABEL + url
    assert len(tail) > limits.NOTE_TEXT_CHARS - notifications.NOTE_HEAD_MIN
    cut = re.search(r"(?s) Ticket: (https://t\.example/u+)\u2026\[truncated (\d+) characters\]$", text)
    assert cut, text
    kept, dropped = cut.group(1), int(cut.group(2))
    assert url.startswith(kept) and len(kept) + dropped == len(url), "the marker counts what was cut"
    assert text[: cut.start()] == "SUCCESS: e-1: the remediation message", "the head keeps its room"


def test_without_a_ticket_the_note_is_unchanged():
    assert _note("m" * 600, None, outcomes.FAILED) == limits.note_text(f"FAILED: e-1: {'m' * 600}")


# --- what the generator answered -> the ticket line ----------------------------------------------


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ({"TicketAnswer": {"Payload": {"TicketURL": " https://t/1 ", "Ok": True}}}, "https://t/1"),
        ({"TicketAnswer": {"Payload": {"TicketURL": "https://t/1"}}}, "https://t/1"),  # Ok absent: true
        ({"TicketAnswer": {"Payload": {"Ok": True, "ResponseReason": "Created"}}}, "Ok is true but TicketURL is None"),
        ({"TicketAnswer": {"Payload": {"TicketURL": "", "Ok": True}}}, "Ok is true but TicketURL is ''"),
        ({"TicketAnswer": {"Payload": {"TicketURL": "https://t/1", "Ok": "false"}}}, "Ok is 'false', not true or"),
        ({"TicketAnswer": {"Payload": {"Ok": False, "ResponseCode": 403}}}, "ResponseCode 403 and no Response"),
        ({"TicketAnswer": {"Payload": {"Ok": False, "ResponseReason": "HTTP 401"}}}, "ticket: HTTP 401 - check"),
        ({"TicketAnswer": {"Payload": "done"}}, "answered 'done', not {TicketURL, Ok, ...}"),
        ({"TicketError": {"Error": "States.Timeout", "Cause": ""}}, "ticket: States.Timeout - check"),
        (
            {"TicketError": {"Error": "Runtime.ExitError", "Cause": json.dumps({"errorMessage": "killed"})}},
            "ticket: Runtime.ExitError: killed - check",
        ),
        ({}, "ticket: no answer from the ticket generator - check"),
    ],
)
def test_ticket_line(state, expected):
    line = notify.ticket_url(state)
    assert expected in line
    if not expected.startswith("https://"):
        assert line.startswith("Error generating ticket: ") and line.endswith("lambda logs for details")


def test_the_minimal_notification_keeps_the_ticket(moto_admin, monkeypatch):
    """When the full notification cannot be sent, the minimal one still carries the ticket."""
    monkeypatch.setenv("SNS_TOPIC_ARN", f"arn:aws:sns:{REGION}:{ADMIN}:{solution.SNS_TOPIC}")
    published: list[dict[str, Any]] = []

    def publish(topic: str, body: dict[str, Any]) -> None:
        if not published:
            published.append({})  # the full message: refused
            raise ValueError("SNS message of 300000 bytes exceeds 262144")
        published.append(body)

    monkeypatch.setattr(notifications, "publish", publish)
    state = {
        "TicketRequested": True,
        "Outcome": outcomes.SUCCESS,
        "Message": "Remediation succeeded",
        "TicketAnswer": {"Payload": {"TicketURL": "https://acme.atlassian.net/browse/SEC-1", "Ok": True}},
    }

    answer = notify.handle(state)

    assert len(published) == 2
    minimal = published[1]
    assert "minimal notification" in minimal["message"] and minimal["Remediation_Status"] == outcomes.SUCCESS
    assert minimal["Ticket_URL"] == "https://acme.atlassian.net/browse/SEC-1"
    assert answer["Ticket_URL"] == "https://acme.atlassian.net/browse/SEC-1"
    huge = notifications.minimal_message(outcomes.SUCCESS, "m", None, "r", "https://t/" + "x" * 5000)["Ticket_URL"]
    assert limits.json_len(huge) <= 1024 and huge.startswith("https://t/xxx") and "[truncated " in huge
