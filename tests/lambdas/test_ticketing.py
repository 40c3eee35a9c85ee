"""Ticket generators (lambdas/ticketing) against real HTTP servers on 127.0.0.1.

Each test deploys a blueprint's function as the stack would: its environment, its
credentials secret in (moto) Secrets Manager, and its synthesized execution role (the
handler runs under the IAM enforcer as that role, the stack's SecretArn being the
test's secret). The ticketing service is an ``http.server`` in a thread on an
ephemeral port that records every request and answers from a script. Retries never
sleep for real (``core.sleep`` records the delays); timeouts use a 0.25 s budget.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from asr import solution
from asr.iam.roles import SynthesizedRoles, TemplateSource
from lambdas.ticketing import core, jira, servicenow
from tests.conftest import ACCOUNT, REGION
from tests.lambdas.ticket_server import CREATED_ISSUE, CREATED_RECORD, SYS_ID, Answer, Service, basic, loopback

EMAIL = "secops@example.com"
TOKEN = "ATATT3xFfGF0-jira-token-Zq9"
API_KEY = "now-api-key-7f3b1c9e2d"
SN_PASSWORD = "sn-basic-password-4411"


# --- the ticketing service -------------------------------------------------------------


@pytest.fixture
def service() -> Iterator[Service]:
    svc = Service()
    yield svc
    svc.close()


@pytest.fixture
def other_host() -> Iterator[Service]:
    """Another origin (another port): where a hostile redirect points."""
    svc = Service()
    svc.answers(Answer(201, {"key": "EVIL-1"}))
    yield svc
    svc.close()


# --- deploying a generator -----------------------------------------------------------------


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    return loopback(monkeypatch)


@pytest.fixture
def secrets() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)


@dataclass
class Deployed:
    module: Any
    service: Service
    secret_arn: str
    sleeps: list[float]

    def invoke(self, event: Any | None = None) -> dict[str, Any]:
        return self.module.lambda_handler(remediation_event() if event is None else event, None)


@pytest.fixture
def deploy(monkeypatch, iam_enforcer, iam_roles, as_function, secrets, service, sleeps):
    """``deploy(jira, {"Username": ..}, PROJECT_NAME="SEC")``: the blueprint's function, stack-deployed."""

    def run(module: Any, secret: Any, **environment: str) -> Deployed:
        name = f"ticketing-{module.PRODUCT.name.lower()}"
        text = secret if isinstance(secret, str) else json.dumps(secret)
        arn = secrets.create_secret(Name=name, SecretString=text)["ARN"]
        # the blueprint stacks deployed with SecretArn = this secret (the role grants exactly that ARN)
        iam_enforcer.roles = SynthesizedRoles(
            [
                TemplateSource(s.name, s.template, [{**p, "SecretArn": arn} for p in s.parameter_sets])
                for s in iam_roles.synthesized.sources
                if s.name.startswith("blueprints/")
            ]
        )
        function = {jira: solution.JIRA_TICKET_FUNCTION, servicenow: solution.SERVICENOW_TICKET_FUNCTION}[module]
        as_function(module, function)
        env = {"INSTANCE_URI": service.url, "SECRET_ARN": arn, **environment}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return Deployed(module, service, arn, sleeps)

    return run


@pytest.fixture
def jira_fn(deploy) -> Deployed:
    return deploy(jira, {"Username": EMAIL, "Password": TOKEN}, PROJECT_NAME="SEC")


@pytest.fixture
def now_fn(deploy) -> Deployed:
    return deploy(servicenow, {"API_Key": API_KEY}, TABLE_NAME="incident")


def remediation_event(**changes: Any) -> dict[str, Any]:
    info = {
        "Message": "Remediation succeeded for SC control S3.5 in account 111111111111: bucket policy updated",
        "FindingDescription": "S3 general purpose buckets should require requests to use SSL",
        "FindingSeverity": "HIGH",
        "SecurityControlId": "S3.5",
        "FindingAccountId": ACCOUNT,
        "AffectedResource": "AwsS3Bucket arn:aws:s3:::asr-test-bucket",
    }
    info.update(changes)
    return {"RemediationInfo": {k: v for k, v in info.items() if v is not ...}}


# --- Jira ------------------------------------------------------------------------------------


def test_jira_creates_an_issue_through_the_rest_api(jira_fn: Deployed, service: Service):
    service.answers(CREATED_ISSUE)

    result = jira_fn.invoke()

    assert result == {
        "TicketURL": f"{service.url}/browse/SEC-42",
        "Ok": True,
        "ResponseCode": 201,
        "ResponseReason": "Created",
    }
    (request,) = service.requests
    assert (request.method, request.path) == ("POST", "/rest/api/2/issue")
    assert request.headers["authorization"] == basic(EMAIL, TOKEN)
    assert request.headers["content-type"].startswith("application/json")
    assert request.headers["accept"] == "application/json"
    fields = request.json()["fields"]
    assert fields["project"] == {"key": "SEC"}
    assert fields["issuetype"] == {"name": "Bug"}
    assert fields["priority"] == {"name": "High"}
    assert fields["summary"] == "ASR: Remediation completed for S3.5 in account 111111111111"
    for text in ("bucket policy updated", "require requests to use SSL", "arn:aws:s3:::asr-test-bucket", ACCOUNT):
        assert text in fields["description"]
    assert jira_fn.sleeps == []


@pytest.mark.parametrize(
    ("severity", "priority"),
    [("INFORMATIONAL", "Lowest"), ("LOW", "Low"), ("MEDIUM", "Medium"), ("CRITICAL", "Highest"), ("", None)],
)
def test_jira_priority_follows_the_finding_severity(jira_fn: Deployed, service: Service, severity, priority):
    service.answers(CREATED_ISSUE)
    assert jira_fn.invoke(remediation_event(FindingSeverity=severity))["Ok"] is True
    fields = service.requests[0].json()["fields"]
    assert fields.get("priority") == ({"name": priority} if priority else None)


def test_jira_4xx_is_final_and_says_why(jira_fn: Deployed, service: Service):
    service.answers(Answer(400, {"errorMessages": ["Bad request"], "errors": {"project": "valid project is required"}}))

    result = jira_fn.invoke()

    assert result["Ok"] is False and result["ResponseCode"] == 400 and result["TicketURL"] == ""
    assert "HTTP 400 Bad Request" in result["ResponseReason"]
    assert "project: valid project is required" in result["ResponseReason"]
    assert len(service.requests) == 1 and jira_fn.sleeps == []


def test_jira_401_points_at_the_credentials(jira_fn: Deployed, service: Service):
    service.answers(
        Answer(401, "Client must be authenticated to access this resource.", {"Content-Type": "text/plain"})
    )
    result = jira_fn.invoke()
    assert (result["Ok"], result["ResponseCode"]) == (False, 401)
    assert "check the credentials in the secret" in result["ResponseReason"]
    assert len(service.requests) == 1


def test_jira_project_without_priority_gets_the_issue_anyway(jira_fn: Deployed, service: Service):
    refused = {"errorMessages": [], "errors": {"priority": "Field 'priority' cannot be set."}}
    service.answers(Answer(400, refused), CREATED_ISSUE)

    result = jira_fn.invoke()

    assert result["Ok"] is True and result["TicketURL"].endswith("/browse/SEC-42")
    first, second = (r.json()["fields"] for r in service.requests)
    assert "priority" in first and "priority" not in second
    assert {k: v for k, v in first.items() if k != "priority"} == second


def test_jira_5xx_is_retried_with_backoff(jira_fn: Deployed, service: Service):
    service.answers(Answer(503, "<html>down</html>"), Answer(502, "bad gateway"), CREATED_ISSUE)

    result = jira_fn.invoke()

    assert result["Ok"] is True
    assert len(service.requests) == 3
    assert jira_fn.sleeps == [1.0, 2.0]
    bodies = {r.body for r in service.requests}
    assert len(bodies) == 1, "every attempt sends the same issue"
    assert all(r.headers["authorization"] == basic(EMAIL, TOKEN) for r in service.requests)


def test_jira_5xx_gives_up_after_the_bounded_attempts(jira_fn: Deployed, service: Service):
    service.answers(Answer(500, {"errorMessages": ["Internal server error"]}))

    result = jira_fn.invoke()

    assert (result["Ok"], result["ResponseCode"]) == (False, 500)
    assert "Internal server error" in result["ResponseReason"]
    assert "gave up after 3 attempts" in result["ResponseReason"]
    assert len(service.requests) == core.POLICY.attempts == 3
    assert jira_fn.sleeps == [1.0, 2.0]


def test_jira_429_waits_as_the_server_asks(jira_fn: Deployed, service: Service):
    service.answers(Answer(429, {"errorMessages": ["Rate limit exceeded"]}, {"Retry-After": "7"}), CREATED_ISSUE)
    assert jira_fn.invoke()["Ok"] is True
    assert jira_fn.sleeps == [7.0]


def test_jira_429_with_a_long_retry_after_is_not_waited_for(jira_fn: Deployed, service: Service):
    service.answers(Answer(429, {"errorMessages": ["Rate limit exceeded"]}, {"Retry-After": "3600"}))
    result = jira_fn.invoke()
    assert (result["Ok"], result["ResponseCode"]) == (False, 429)
    assert "retry after 3600 s" in result["ResponseReason"]
    assert len(service.requests) == 1 and jira_fn.sleeps == []


def test_jira_timeouts_are_retried_then_reported(jira_fn: Deployed, service: Service):
    service.answers(Answer(hang=True))

    result = jira_fn.invoke()

    assert (result["Ok"], result["ResponseCode"]) == (False, 0)
    assert "timed out" in result["ResponseReason"] and "gave up after 3 attempts" in result["ResponseReason"]
    assert len(service.requests) == 3
    assert jira_fn.sleeps == [1.0, 2.0]


def test_jira_a_timeout_then_success(jira_fn: Deployed, service: Service):
    service.answers(Answer(hang=True), CREATED_ISSUE)
    result = jira_fn.invoke()
    assert result["Ok"] is True and len(service.requests) == 2 and jira_fn.sleeps == [1.0]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_jira_redirect_to_another_host_is_not_followed(
    jira_fn: Deployed, service: Service, other_host: Service, status: int
):
    """urllib itself would follow a 301/302/303 as a GET with the Authorization header: never here."""
    service.answers(Answer(status, "", {"Location": f"{other_host.url}/rest/api/2/issue"}))

    result = jira_fn.invoke()

    assert (result["Ok"], result["ResponseCode"]) == (False, status)
    assert "redirects to another host (127.0.0.1:" in result["ResponseReason"]
    assert other_host.requests == [], "the credentials never reach another host"
    assert len(service.requests) == 1


def test_jira_same_origin_307_is_followed_with_the_same_post(jira_fn: Deployed, service: Service):
    service.answers(Answer(307, "", {"Location": "/jira/rest/api/2/issue"}), CREATED_ISSUE)

    result = jira_fn.invoke()

    assert result["Ok"] is True
    first, second = service.requests
    assert [r.path for r in service.requests] == ["/rest/api/2/issue", "/jira/rest/api/2/issue"]
    assert second.method == "POST" and second.body == first.body
    assert second.headers["authorization"] == basic(EMAIL, TOKEN)
    assert jira_fn.sleeps == []


def test_jira_302_is_not_followed(jira_fn: Deployed, service: Service):
    """A 302 would turn the POST into a GET (no issue created): an error, not a silent success."""
    service.answers(Answer(302, "", {"Location": "/login.jsp"}))
    result = jira_fn.invoke()
    assert (result["Ok"], result["ResponseCode"]) == (False, 302)
    assert "'/login.jsp' not followed" in result["ResponseReason"]
    assert [r.method for r in service.requests] == ["POST"]


def test_jira_non_json_success_is_not_a_ticket(jira_fn: Deployed, service: Service):
    service.answers(Answer(201, "<html><body>Welcome to Jira</body></html>"))
    result = jira_fn.invoke()
    assert (result["Ok"], result["ResponseCode"], result["TicketURL"]) == (False, 201, "")
    assert "no issue key" in result["ResponseReason"]
    assert "not JSON, Content-Type text/html" in result["ResponseReason"]
    assert "Welcome to Jira" in result["ResponseReason"]


def test_jira_non_json_4xx_is_reported_as_text(jira_fn: Deployed, service: Service):
    service.answers(Answer(404, "<html><title>Page not found</title></html>"))
    result = jira_fn.invoke()
    assert (result["Ok"], result["ResponseCode"]) == (False, 404)
    assert "Page not found" in result["ResponseReason"] and "check INSTANCE_URI" in result["ResponseReason"]


def test_jira_json_success_without_a_key_is_not_a_ticket(jira_fn: Deployed, service: Service):
    service.answers(Answer(201, {"id": "1", "key": "not a key"}))
    result = jira_fn.invoke()
    assert result["Ok"] is False and "no issue key" in result["ResponseReason"]


# --- ServiceNow -------------------------------------------------------------------------------


def test_servicenow_creates_a_record_through_the_table_api(now_fn: Deployed, service: Service):
    service.answers(CREATED_RECORD)

    result = now_fn.invoke()

    assert result == {
        "TicketURL": f"{service.url}/nav_to.do?uri=incident.do%3Fsys_id%3D{SYS_ID}",
        "Ok": True,
        "ResponseCode": 201,
        "ResponseReason": "Created",
    }
    (request,) = service.requests
    assert (request.method, request.path) == ("POST", "/api/now/table/incident")
    assert request.headers["x-sn-apikey"] == API_KEY
    assert "authorization" not in request.headers
    record = request.json()
    assert record["short_description"] == "ASR: Remediation completed for S3.5 in account 111111111111"
    assert "bucket policy updated" in record["description"] and "asr-test-bucket" in record["description"]
    assert (record["impact"], record["urgency"], record["severity"], record["category"]) == ("1", "1", "1", "software")


def test_servicenow_basic_auth_and_a_custom_table(deploy, service: Service):
    fn = deploy(servicenow, {"Username": "asr.integration", "Password": SN_PASSWORD}, TABLE_NAME="u_security_ticket")
    service.answers(CREATED_RECORD)

    result = fn.invoke(remediation_event(FindingSeverity="LOW"))

    assert result["Ok"] is True and "u_security_ticket.do%3Fsys_id%3D" in result["TicketURL"]
    (request,) = service.requests
    assert request.path == "/api/now/table/u_security_ticket"
    assert request.headers["authorization"] == basic("asr.integration", SN_PASSWORD)
    assert "x-sn-apikey" not in request.headers
    assert request.json()["impact"] == "3"


def test_servicenow_error_answer_is_final_and_says_why(now_fn: Deployed, service: Service):
    service.answers(
        Answer(
            403,
            {"error": {"message": "Operation Failed", "detail": "ACL Exception Insert Failed"}, "status": "failure"},
        )
    )
    result = now_fn.invoke()
    assert (result["Ok"], result["ResponseCode"]) == (False, 403)
    assert "Operation Failed - ACL Exception Insert Failed" in result["ResponseReason"]
    assert "may not create tickets" in result["ResponseReason"]
    assert len(service.requests) == 1 and now_fn.sleeps == []


def test_servicenow_5xx_retried_then_created(now_fn: Deployed, service: Service):
    service.answers(Answer(503, "<html>Instance hibernating</html>", {"Retry-After": "3"}), CREATED_RECORD)
    result = now_fn.invoke()
    assert result["Ok"] is True and len(service.requests) == 2 and now_fn.sleeps == [3.0]


def test_servicenow_timeouts_and_redirects(now_fn: Deployed, service: Service, other_host: Service):
    service.answers(Answer(hang=True), Answer(308, "", {"Location": f"{other_host.url}/api/now/table/incident"}))
    result = now_fn.invoke()
    assert (result["Ok"], result["ResponseCode"]) == (False, 308)
    assert other_host.requests == [] and len(service.requests) == 2 and now_fn.sleeps == [1.0]


def test_servicenow_non_json_success_is_not_a_ticket(now_fn: Deployed, service: Service):
    service.answers(Answer(200, "<html>Login</html>"))
    result = now_fn.invoke()
    assert (result["Ok"], result["ResponseCode"]) == (False, 200)
    assert "no sys_id" in result["ResponseReason"] and "Login" in result["ResponseReason"]


# --- secrets never leak -----------------------------------------------------------------------


@pytest.mark.parametrize("product", ["jira", "servicenow-key", "servicenow-basic"])
def test_secrets_never_reach_a_log_line_or_the_answer(deploy, service: Service, caplog, product):
    """The server echoes what it got (header, password, key) in its error: none of it comes out."""
    module, secret, env, sensitive = {
        "jira": (jira, {"Username": EMAIL, "Password": TOKEN}, {"PROJECT_NAME": "SEC"}, [TOKEN]),
        "servicenow-key": (servicenow, {"API_Key": API_KEY}, {"TABLE_NAME": "incident"}, [API_KEY]),
        "servicenow-basic": (
            servicenow,
            {"Username": "asr", "Password": SN_PASSWORD},
            {"TABLE_NAME": "incident"},
            [SN_PASSWORD],
        ),
    }[product]
    fn = deploy(module, secret, **env)
    auth = basic(*secret.values()) if "Password" in secret else API_KEY
    sensitive += [auth, auth.removeprefix("Basic ")]
    echo = f"you sent {auth} / {sensitive[0]}"
    service.answers(
        Answer(503, {"errorMessages": [echo], "error": {"message": echo}}),
        Answer(400, {"errorMessages": [echo], "error": {"message": echo}}, {"Content-Type": "application/json"}),
    )

    with caplog.at_level(logging.DEBUG):
        result = fn.invoke()

    assert result["Ok"] is False and result["ResponseCode"] == 400
    assert "you sent ***" in result["ResponseReason"], "the server's text is kept, cleaned"
    assert service.requests, "the credentials were sent to the instance"
    logged = caplog.text + json.dumps(result)
    assert "you sent" in caplog.text, "the logs were captured"
    for value in sensitive:
        assert value not in logged


def test_a_bad_secret_is_named_without_its_values(deploy, service: Service, caplog):
    fn = deploy(jira, {"Username": EMAIL, "Passwd": TOKEN}, PROJECT_NAME="SEC")
    with caplog.at_level(logging.DEBUG):
        result = fn.invoke()
    assert result["Ok"] is False
    assert f"secret {fn.secret_arn}: key 'Password' is missing or empty" in result["ResponseReason"]
    assert "keys present: ['Passwd', 'Username']" in result["ResponseReason"]
    assert TOKEN not in caplog.text + json.dumps(result)
    assert service.requests == []


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        ("not json", "SecretString is not JSON"),
        ('["a", "b"]', "not a JSON object"),
        ({"API_Key": "two words"}, "characters an HTTP header cannot carry"),
        ({"Token": "x"}, "needs the key 'API_Key', or 'Username' and 'Password'"),
    ],
)
def test_servicenow_unusable_secrets(deploy, service: Service, secret, expected):
    fn = deploy(servicenow, secret, TABLE_NAME="incident")
    result = fn.invoke()
    assert result["Ok"] is False and expected in result["ResponseReason"]
    assert service.requests == []


def test_the_role_reads_only_its_own_secret(jira_fn: Deployed, secrets, service: Service, iam_enforcer, monkeypatch):
    other = secrets.create_secret(Name="someone-elses", SecretString=json.dumps({"Username": "a", "Password": "b"}))
    monkeypatch.setenv("SECRET_ARN", other["ARN"])
    service.answers(CREATED_ISSUE)

    with iam_enforcer.expect_denial(lambda d: d.resource == other["ARN"]) as denied:
        result = jira_fn.invoke()

    assert [d.action for d in denied] == ["secretsmanager:GetSecretValue"]
    assert result["Ok"] is False and "AccessDenied" in result["ResponseReason"]
    assert service.requests == []


def test_a_missing_secret_is_named(jira_fn: Deployed, secrets, service: Service):
    secrets.delete_secret(SecretId=jira_fn.secret_arn, ForceDeleteWithoutRecovery=True)
    result = jira_fn.invoke()
    assert result["Ok"] is False
    assert f"secret {jira_fn.secret_arn}: ResourceNotFoundException" in result["ResponseReason"]


# --- input and configuration ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({}, "event: expected {'RemediationInfo'"),
        ("RemediationInfo", "event: expected"),
        (remediation_event(SecurityControlId=...), "RemediationInfo.SecurityControlId: missing or empty"),
        (remediation_event(Message=""), "RemediationInfo.Message: missing or empty"),
        (remediation_event(FindingAccountId="12345"), "RemediationInfo.FindingAccountId: '12345' is not a 12-digit"),
        (remediation_event(FindingAccountId="\u0661" * 12), "is not a 12-digit account id"),
        (remediation_event(FindingSeverity="SEVERE"), "RemediationInfo.FindingSeverity: 'SEVERE' is not one of"),
        (remediation_event(Message=["a"]), "RemediationInfo.Message: expected a string, got list"),
        (remediation_event(SecurityControlId="S3.5\nX: injected"), "RemediationInfo.SecurityControlId"),
    ],
)
def test_bad_input_is_refused_naming_the_field(jira_fn: Deployed, service: Service, event, expected):
    result = jira_fn.invoke(event)
    assert (result["Ok"], result["ResponseCode"], result["TicketURL"]) == (False, 0, "")
    assert expected in result["ResponseReason"]
    assert service.requests == []


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PROJECT_NAME", "sec", "PROJECT_NAME 'sec': not a Jira project key"),
        ("PROJECT_NAME", "", "environment variable PROJECT_NAME is not set"),
        ("SECRET_ARN", "my-secret", "SECRET_ARN 'my-secret' is not a Secrets Manager secret ARN"),
        ("INSTANCE_URI", "https://acme.atlassian.net.evil.com", "is not a Jira instance host"),
    ],
)
def test_bad_configuration_is_refused_naming_the_variable(
    jira_fn: Deployed, service: Service, monkeypatch, variable, value, expected
):
    monkeypatch.setenv(variable, value)
    result = jira_fn.invoke()
    assert result["Ok"] is False and expected in result["ResponseReason"]
    assert service.requests == []


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("http://acme.atlassian.net", "must use https"),
        ("https://admin:hunter2@acme.atlassian.net", "must not contain user information"),
        ("https://acme.atlassian.net/jira", "must be the instance root"),
        ("https://acme.atlassian.net/?x=1", "must not have a query or fragment"),
        ("https://acme.atlassian.net#top", "must not have a query or fragment"),
        ("https://acme.atlassian.net:8443", "port 8443"),
        ("https://acme.atlassian.net:443", "port 443: give no port"),
        ("https://acme.atlassian.net:", "give no port"),
        ("https://evil.example/.atlassian.net", "must be the instance root"),
        ("https://acme.atlassian.net.evil.example", "is not a Jira instance host"),
        ("https://a.b.atlassian.net", "is not a Jira instance host"),
        ("https://atlassian.net", "is not a Jira instance host"),
        ("https://acme.service-now.com", "is not a Jira instance host"),
        ("https://127.0.0.1", "is not a Jira instance host"),
        (" https://acme.atlassian.net", "surrounded by spaces"),
        ("", "empty"),
        ("https://[::1", "not a URL"),
    ],
)
def test_instance_uri_refusals(uri, why):
    with pytest.raises(core.TicketError) as err:
        core.instance_base(uri, jira.HOST, "Jira", "https://my-jira-instance.atlassian.net")
    assert why in err.value.reason and "INSTANCE_URI" in err.value.reason
    assert "hunter2" not in err.value.reason, "a password put in the URI is masked"


@pytest.mark.parametrize(
    ("uri", "base"),
    [
        ("https://acme.atlassian.net", "https://acme.atlassian.net"),
        ("https://acme.atlassian.net/", "https://acme.atlassian.net"),
        ("https://ACME-Sec.Atlassian.net", "https://acme-sec.atlassian.net"),
    ],
)
def test_instance_uri_accepted(uri, base):
    assert core.instance_base(uri, jira.HOST, "Jira", "e.g.") == base


def test_servicenow_host_shape():
    base = core.instance_base("https://dev12345.service-now.com", servicenow.HOST, "ServiceNow", "")
    assert base == "https://dev12345.service-now.com"
    for uri in ("https://acme.atlassian.net", "https://x.service-now.com.evil.example", "https://service-now.com"):
        with pytest.raises(core.TicketError, match="is not a ServiceNow instance host"):
            core.instance_base(uri, servicenow.HOST, "ServiceNow", "")


def test_loopback_http_only_through_the_test_switch(monkeypatch):
    monkeypatch.setattr(core, "ALLOW_LOOPBACK_HTTP", False)
    with pytest.raises(core.TicketError, match="must use https"):
        core.instance_base("http://127.0.0.1:8080", jira.HOST, "Jira", "")
    monkeypatch.setattr(core, "ALLOW_LOOPBACK_HTTP", True)
    assert core.instance_base("http://127.0.0.1:8080", jira.HOST, "Jira", "") == "http://127.0.0.1:8080"
    with pytest.raises(core.TicketError, match="must use https"):  # loopback only, never another http host
        core.instance_base("http://10.0.0.1:8080", jira.HOST, "Jira", "")


# --- retry details ------------------------------------------------------------------------------


def test_retry_after_forms():
    now = 1_700_000_000.0
    assert core.retry_after_seconds("12", now) == 12.0
    assert core.retry_after_seconds(None, now) is None
    assert core.retry_after_seconds("soon", now) is None
    assert core.retry_after_seconds("\u0661\u0662", now) is None  # ASCII digits only
    date = "Tue, 14 Nov 2023 22:13:30 GMT"  # now + 10 s
    assert core.retry_after_seconds(date, now) == pytest.approx(10.0)
    assert core.retry_after_seconds("Tue, 14 Nov 2023 22:00:00 GMT", now) == 0.0


def test_no_retry_past_the_function_timeout(jira_fn: Deployed, service: Service):
    """With 2.5 s left (0.5 s after the safety margin), a 1 s backoff would overrun: give up, say why."""

    class Context:
        @staticmethod
        def get_remaining_time_in_millis() -> int:
            return 2_500

    service.answers(Answer(503, "busy"))
    result = jira.lambda_handler(remediation_event(), Context())
    assert result["Ok"] is False and "no time left to retry" in result["ResponseReason"]
    assert len(service.requests) == 1 and jira_fn.sleeps == []


def test_connection_refused_is_retried_then_reported(jira_fn: Deployed, service: Service, monkeypatch):
    url = service.url
    service.close()  # nothing listens there any more
    monkeypatch.setenv("INSTANCE_URI", url)
    result = jira_fn.invoke()
    assert (result["Ok"], result["ResponseCode"]) == (False, 0)
    assert "connection failed" in result["ResponseReason"] and "gave up after 3 attempts" in result["ResponseReason"]
    assert jira_fn.sleeps == [1.0, 2.0]


# --- the contract with the orchestrator ----------------------------------------------------------


def test_the_orchestrators_ticket_request_creates_a_ticket(jira_fn: Deployed, service: Service):
    """What the worker puts in TicketRequest (the Generate Ticket payload) is what the generator takes."""
    from lambdas.orchestrator import worker

    finding = {
        "Id": "arn:aws:securityhub:us-east-1:111111111111:security-control/S3.5/finding/abc",
        "AwsAccountId": ACCOUNT,
        "Description": "S3 general purpose buckets should require requests to use SSL",
        "Severity": {"Label": "MEDIUM"},
        "Compliance": {"SecurityControlId": "S3.5"},
        "Resources": [{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::asr-test-bucket", "Region": "us-east-1"}],
    }
    job = {
        "Finding": finding,
        "CustomActionName": solution.TICKETING_ACTION_NAME,
        "Target": {"Account": ACCOUNT, "StandardShortName": "SC", "ControlId": "S3.5"},
    }
    execution = {
        "AutomationExecutionId": "exec-1",
        "AutomationExecutionStatus": "Success",
        "Outputs": {"Remediation.Output": [json.dumps({"status": "Success", "message": "policy set"})]},
    }
    request = worker.completed_result(job, execution, 1)["TicketRequest"]
    service.answers(CREATED_ISSUE)

    result = jira_fn.invoke(request)

    assert result["Ok"] is True, result
    fields = service.requests[0].json()["fields"]
    assert fields["summary"] == "ASR: Remediation completed for S3.5 in account 111111111111"
    assert fields["priority"] == {"name": "Medium"}
    assert "policy set" in fields["description"]
