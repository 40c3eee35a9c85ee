"""The remediation policy enforced by the orchestrator (issue 18; lambdas/orchestrator/enforce.py):
the synthesized state machine on moto, deployed with RemediationPolicyBucket / RemediationPolicyKey,
the policy written by ``asr policy apply`` (asr.policy.store), every call under the IAM enforcer
(the orchestrator role's s3:GetObject on the one compiled object, conditioned on the parameters)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from asr import solution
from asr.iam.enforcer import active
from asr.policy import store
from asr.simulator.findings import custom_action_event, imported_event
from lambdas.orchestrator import enforce
from tests.orchestrator.harness import MEMBER, REGION, Harness
from tests.orchestrator.scenarios import SC_RUNBOOK, is_public, lambda1_finding, member_with_lambda1

BUCKET = "asr-policy-123456789012"
KEY = "asr/policy.yaml"
COMPILED = f"s3://{BUCKET}/{KEY}.json"
PARAMETERS = {solution.POLICY_BUCKET_PARAMETER: BUCKET, solution.POLICY_KEY_PARAMETER: KEY}
FUTURE = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
PAST = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

pytestmark = pytest.mark.stack_parameters(**PARAMETERS)  # the IAM enforcer's view of the deployed stack


class PolicyHarness(Harness):
    """The admin stack deployed with the policy parameters: the resolve function's environment comes
    from the template, resolved with them."""

    def _admin(self) -> None:
        self.parameters.update(PARAMETERS)
        super()._admin()


@pytest.fixture
def cold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(enforce, "_cache", None)  # every test starts with a cold container
    monkeypatch.setattr(enforce, "_ou_resolver", None)


@pytest.fixture
def h(moto_admin: None, monkeypatch: pytest.MonkeyPatch, cold: None) -> Harness:
    return PolicyHarness(monkeypatch)


@pytest.fixture
def plain(moto_admin: None, monkeypatch: pytest.MonkeyPatch, cold: None) -> Harness:
    return Harness(monkeypatch)


def bucket() -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})


def apply(text: str) -> store.Applied:
    """``asr policy apply`` (the administrator's call, not the orchestrator's)."""
    s3 = boto3.client("s3", region_name=REGION)
    try:
        s3.head_bucket(Bucket=BUCKET)
    except s3.exceptions.ClientError:
        bucket()
    applied, _ = store.PolicyStore(s3, BUCKET, KEY).apply(textwrap.dedent(text).encode())
    return applied


def scenario(h: Harness, tags: dict[str, str] | None = None):
    h.install_playbook()
    session, function_arn = member_with_lambda1(h)
    finding = lambda1_finding(function_arn)
    if tags is not None:
        finding["Resources"][0]["Tags"] = tags
    h.import_finding(finding)
    return session, function_arn, finding


def auto(finding: dict) -> dict:
    event = imported_event([finding])
    event["detail"]["actionName"] = "None"
    return event


def records(table: str = solution.HISTORY_TABLE) -> list[dict]:
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=table)["Items"]
    return [{k: next(iter(v.values())) for k, v in item.items()} for item in items]


def member_calls() -> list[tuple[str, str]]:
    """(action, principal) of every request made in the member account, as the enforcer checked it."""
    enforcer = active()
    assert enforcer is not None
    return [(r.action, r.principal) for r in enforcer.records if f":{MEMBER}:" in r.principal]


def policy_reads() -> list[tuple[str, bool]]:
    enforcer = active()
    assert enforcer is not None
    return [(r.resource, r.allowed) for r in enforcer.records if r.action == "s3:GetObject" and BUCKET in r.resource]


def only(h: Harness) -> dict:
    [note] = h.notifications()
    return note


def stopped(h: Harness, session, finding: dict, outcome: str) -> dict:
    """The finding ended in ``outcome`` at resolve: notified (INFO), noted, NOTIFIED, nothing started."""
    note = only(h)
    assert (note["Remediation_Status"], note["severity"]) == (outcome, "INFO"), note["message"]
    assert h.router.started == []
    assert is_public(session)  # the function was not touched
    stored = h.finding(finding["Id"])
    assert stored["Workflow"]["Status"] == "NOTIFIED"
    assert stored["Note"]["Text"].startswith(f"{outcome}: Remediation policy {COMPILED}")
    [record] = records()
    assert record["Outcome"] == outcome and record["PolicyVersion"]
    return note


# --- no policy -----------------------------------------------------------------------------------


def test_without_a_policy_nothing_is_read_and_the_finding_is_remediated(plain: Harness):
    session, _, finding = scenario(plain)
    result = plain.run(custom_action_event([finding]))
    assert result.status == "SUCCEEDED"
    assert [n["Remediation_Status"] for n in plain.notifications()] == ["QUEUED", "SUCCESS"]
    assert not is_public(session)
    assert policy_reads() == []
    [record] = records()
    assert record["PolicyVersion"] == ""


@pytest.mark.stack_parameters(**{solution.POLICY_BUCKET_PARAMETER: "", solution.POLICY_KEY_PARAMETER: ""})
def test_without_the_parameters_the_role_may_not_read_a_policy(plain: Harness, monkeypatch: pytest.MonkeyPatch):
    """The grant exists only with the parameters set: a resolve function pointed at a policy by hand
    is refused by IAM, and that is a named LAMBDA_ERROR, never a silent allow."""
    bucket()
    apply("version: 1\n")
    monkeypatch.setenv(solution.POLICY_BUCKET_ENV, BUCKET)
    monkeypatch.setenv(solution.POLICY_KEY_ENV, KEY)
    session, _, finding = scenario(plain)
    enforcer = active()
    assert enforcer is not None
    with enforcer.expect_denial(lambda d: "s3:GetObject" in str(d) and BUCKET in str(d)) as denials:
        plain.run(custom_action_event([finding]))
    assert denials
    note = only(plain)
    assert note["Remediation_Status"] == "LAMBDA_ERROR"
    assert COMPILED in note["message"] and "AccessDenied" in note["message"]
    assert is_public(session) and plain.router.started == []


# --- allowed ---------------------------------------------------------------------------------------


def test_a_policy_that_allows_the_finding_remediates_it_and_records_its_version(h: Harness):
    applied = apply(
        f"""\
        version: 1
        global:
          scope:
            include: {{accounts: ["{MEMBER}"], regions: [{REGION}]}}
        controls:
          Lambda.1: {{mode: auto}}
        """
    )
    session, _, finding = scenario(h)
    result = h.run(auto(finding))
    assert result.status == "SUCCEEDED"
    assert [n["Remediation_Status"] for n in h.notifications()] == ["QUEUED", "SUCCESS"]
    assert not is_public(session)
    assert [s.account for s in h.router.started] == [MEMBER]
    assert policy_reads() == [(f"arn:aws:s3:::{BUCKET}/{KEY}.json", True)]
    [record] = records()
    assert record["Outcome"] == "SUCCESS" and record["PolicyVersion"] == applied.version_id


# --- each outcome ---------------------------------------------------------------------------------


def test_disabled(h: Harness):
    apply("version: 1\ncontrols:\n  Lambda.1: {enabled: false}\n")
    session, _, finding = scenario(h)
    h.run(auto(finding))
    note = stopped(h, session, finding, "DISABLED")
    assert "controls.Lambda.1.enabled" in note["message"] and "disabled for control Lambda.1" in note["message"]


def _exempt(function_arn: str, override: bool | None = None) -> str:
    extra = "" if override is None else f"\n  allow_manual_override: {str(override).lower()}"
    return f"""\
version: 1
global:
  exemptions:
    - resource: {function_arn}
      reason: Public on purpose (SEC-7)
      owner: web@example.com
      expires: {FUTURE}{extra}
"""


def test_exempt_names_reason_owner_and_expiry(h: Harness):
    session, function_arn, finding = scenario(h)
    apply(_exempt(function_arn))
    h.run(auto(finding))
    note = stopped(h, session, finding, "EXEMPT")
    for text in ("Public on purpose (SEC-7)", "web@example.com", FUTURE, "global.exemptions[0]"):
        assert text in note["message"]


def test_the_custom_action_on_an_exempt_resource_is_refused_without_override(h: Harness):
    session, function_arn, finding = scenario(h)
    apply(_exempt(function_arn))
    h.run(custom_action_event([finding]))
    note = stopped(h, session, finding, "EXEMPT")
    assert "the custom action is refused because global.allow_manual_override is false" in note["message"]


def test_the_custom_action_overrides_an_exemption_when_the_policy_allows_it(h: Harness):
    session, function_arn, finding = scenario(h)
    apply(_exempt(function_arn, override=True))
    result = h.run(custom_action_event([finding]))
    assert result.status == "SUCCEEDED"
    assert [n["Remediation_Status"] for n in h.notifications()] == ["QUEUED", "SUCCESS"]
    assert not is_public(session)
    # ... but never an automatic trigger
    h.import_finding(finding)  # NEW again
    h.run(auto(finding))
    assert only(h)["Remediation_Status"] == "EXEMPT"


def test_out_of_scope_and_exclude_beats_include(h: Harness):
    session, function_arn, finding = scenario(h)
    apply(
        f"""\
        version: 1
        global:
          scope:
            include: {{accounts: ["{MEMBER}"]}}
            exclude: {{resources: ["arn:aws:lambda:*:*:function:public-*"]}}
        """
    )
    h.run(auto(finding))
    note = stopped(h, session, finding, "OUT_OF_SCOPE")
    assert "global.scope.exclude.resources[0]" in note["message"] and function_arn in note["message"]


def test_a_tag_rule_reads_the_resources_tags(h: Harness):
    session, function_arn, finding = scenario(h, tags={"env": "prod"})
    session.client("lambda").tag_resource(Resource=function_arn, Tags={"env": "prod"})  # looked up live
    apply("version: 1\nglobal:\n  scope:\n    exclude: {tags: [env=prod]}\n")
    h.run(auto(finding))
    note = stopped(h, session, finding, "OUT_OF_SCOPE")
    assert "env=prod" in note["message"]


def test_an_exemption_beats_the_scope(h: Harness):
    session, function_arn, finding = scenario(h)
    apply(_exempt(function_arn) + '  scope:\n    exclude: {accounts: ["' + MEMBER + '"]}\n')
    h.run(auto(finding))
    stopped(h, session, finding, "EXEMPT")


def test_an_expired_exemption_is_ignored_and_reported(h: Harness):
    session, function_arn, finding = scenario(h)
    apply(_exempt(function_arn).replace(FUTURE, PAST) + "  mode: dry-run\n")
    h.run(auto(finding))
    note = stopped(h, session, finding, "DRY_RUN")  # not EXEMPT: the exemption no longer applies
    assert f"Expired exemptions, no longer applied: global.exemptions[0] (resource {function_arn}" in note["message"]


def test_an_expired_exemption_lets_the_remediation_run(h: Harness):
    session, function_arn, finding = scenario(h)
    apply(_exempt(function_arn).replace(FUTURE, PAST))
    result = h.run(auto(finding))
    assert result.status == "SUCCEEDED" and not is_public(session)
    assert [n["Remediation_Status"] for n in h.notifications()] == ["QUEUED", "SUCCESS"]


def test_dry_run_starts_no_automation_and_writes_nothing_in_the_member_account(h: Harness):
    session, _function_arn, finding = scenario(h)
    apply("version: 1\nglobal:\n  mode: dry-run\n")
    result = h.run(auto(finding))
    assert (result.transitions, h.dispatcher.count()) == (5, 1)  # as the other resolve outcomes (orchestrator.md)
    note = stopped(h, session, finding, "DRY_RUN")
    role = f"arn:aws:iam::{MEMBER}:role/{solution.ORCHESTRATOR_MEMBER_ROLE}"
    for text in (f"Would run runbook {SC_RUNBOOK} in account {MEMBER}", f"as role {role}", "AutomationAssumeRole"):
        assert text in note["message"]
    calls = member_calls()
    assert calls, "resolve reads the runbook and role in the member account"
    assert not [a for a, _ in calls if a == "ssm:StartAutomationExecution"]
    # only reads in the member account: no write, no automation
    assert {a for a, _ in calls} <= {"ssm:DescribeDocument", "iam:GetRole"}, calls


def test_manual_mode_ignores_the_automatic_trigger_and_lets_the_custom_action_run(h: Harness):
    session, _, finding = scenario(h)
    apply("version: 1\ncontrols:\n  AFSBP:Lambda.1: {mode: manual}\n")  # a per-standard key, mapped
    h.run(auto(finding))
    note = stopped(h, session, finding, "MANUAL_ONLY")
    assert 'controls["AFSBP:Lambda.1"].mode' in note["message"]
    result = h.run(custom_action_event([finding]))
    assert result.status == "SUCCEEDED" and not is_public(session)


def test_each_policy_outcome_counts_in_the_outcome_metric(h: Harness):
    _session, _, finding = scenario(h)
    apply("version: 1\nglobal:\n  mode: dry-run\n")
    h.run(auto(finding))
    metrics = boto3.client("cloudwatch", region_name=REGION).list_metrics(
        Namespace=solution.METRICS_NAMESPACE, MetricName=solution.METRIC_REMEDIATION_OUTCOME
    )["Metrics"]
    assert [{"Name": solution.DIMENSION_OUTCOME, "Value": "DRY_RUN"}] in [m["Dimensions"] for m in metrics]


# --- a policy that cannot decide: never a silent allow ---------------------------------------------


def test_a_missing_compiled_policy_is_a_lambda_error_naming_the_object(h: Harness):
    bucket()
    session, _, finding = scenario(h)
    h.run(auto(finding))
    note = only(h)
    assert note["Remediation_Status"] == "LAMBDA_ERROR"
    assert COMPILED in note["message"] and "NoSuchKey" in note["message"] and "asr policy apply" in note["message"]
    assert h.router.started == [] and is_public(session)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"{not json", "is not JSON"),
        (json.dumps({"format": 7}).encode(), "field format is 7"),
        (
            json.dumps(
                {"format": 1, "sha256": "x", "aliases": {}, "policy": {"version": 1, "global": {"mode": 3}}}
            ).encode(),
            "global.mode: must be one of auto, manual, dry-run (got 3)",
        ),
    ],
)
def test_a_bad_compiled_policy_is_a_lambda_error_naming_the_object_and_why(h: Harness, body: bytes, why: str):
    bucket()
    boto3.client("s3", region_name=REGION).put_object(Bucket=BUCKET, Key=f"{KEY}.json", Body=body)
    session, _, finding = scenario(h)
    h.run(auto(finding))
    note = only(h)
    assert note["Remediation_Status"] == "LAMBDA_ERROR", note["message"]
    assert COMPILED in note["message"] and why in note["message"]
    assert h.router.started == [] and is_public(session)


def test_an_ou_rule_without_an_organization_fails_closed_with_a_clear_message(h: Harness):
    """OUs are resolved with Organizations ListParents (test_policy_lookups.py): an admin account in no
    organization cannot answer, and nothing runs."""
    session, _, finding = scenario(h)
    apply("version: 1\nglobal:\n  scope:\n    include: {ous: [ou-abcd-12345678]}\n")
    h.run(auto(finding))
    note = only(h)
    assert note["Remediation_Status"] == "LAMBDA_ERROR"
    assert "global.scope.include.ous names OUs" in note["message"] and f"account {MEMBER}" in note["message"]
    assert "AWSOrganizationsNotInUseException" in note["message"] and COMPILED in note["message"]
    assert h.router.started == [] and is_public(session)


def test_the_policy_is_read_once_per_warm_container(h: Harness):
    _session, _, finding = scenario(h)
    apply("version: 1\nglobal:\n  mode: dry-run\n")
    for _ in range(2):
        h.import_finding(finding)
        h.run(auto(finding))
    assert [n["Remediation_Status"] for n in h.notifications()] == ["DRY_RUN", "DRY_RUN"]
    assert len(policy_reads()) == 1


@pytest.fixture(autouse=True)
def _no_leak() -> Iterator[None]:
    yield
    enforce.clear_cache()
