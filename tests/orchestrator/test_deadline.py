"""The remediation policy's deadline escalation (issue 18; lambdas/orchestrator/deadline.py).

Track: the synthesized state machine on moto, deployed with a policy, every call under the IAM
enforcer: resolve writes one item per finding it acts on under a deadline. Sweep: the synthesized
function ``SO0111-ASR-DeadlineSweep`` invoked through moto's Lambda (our handler in-process, as its
execution role), with a fake clock: nothing sleeps. Template: the condition on the new resources and
their grants."""

from __future__ import annotations

import json
import logging
import textwrap
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto.securityhub.models import securityhub_backends

from asr import solution
from asr.iam import requests
from asr.iam.enforcer import active
from asr.iam.template import Location, Resolver
from asr.policy import store
from asr.simulator.findings import custom_action_event, imported_event
from lambdas.orchestrator import deadline, enforce, outcomes
from tests.orchestrator.harness import ADMIN, MEMBER, REGION, Harness, admin_template
from tests.orchestrator.scenarios import lambda1_finding, member_with_lambda1

BUCKET = "asr-policy-123456789012"
KEY = "asr/policy.yaml"
PARAMETERS = {solution.POLICY_BUCKET_PARAMETER: BUCKET, solution.POLICY_KEY_PARAMETER: KEY}
CONDITION = "remediationPolicyEnabled"
ADMIN_ROLE = f"arn:aws:iam::{ADMIN}:role/{solution.ORCHESTRATOR_ADMIN_ROLE}"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ADMIN}:table/{solution.DEADLINE_TABLE}"
MISSING_FUNCTION = f"arn:aws:lambda:{REGION}:{MEMBER}:function:no-such-function"

pytestmark = pytest.mark.stack_parameters(**PARAMETERS)  # the IAM enforcer's view of the deployed stack


class PolicyHarness(Harness):
    """The admin stack deployed with the policy parameters (the functions' environment from the template)."""

    def _admin(self) -> None:
        self.parameters.update(PARAMETERS)
        super()._admin()


@pytest.fixture
def h(moto_admin: None, monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.setattr(enforce, "_cache", None)  # a cold resolve container
    return PolicyHarness(monkeypatch)


@pytest.fixture
def plain(moto_admin: None, monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.setattr(enforce, "_cache", None)
    return Harness(monkeypatch)


def apply(text: str) -> store.Applied:
    """``asr policy apply`` (the administrator's call, not the orchestrator's)."""
    s3 = boto3.client("s3", region_name=REGION)
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    applied, _ = store.PolicyStore(s3, BUCKET, KEY).apply(textwrap.dedent(text).encode())
    return applied


def failing(h: Harness) -> dict:
    """A Lambda.1 finding whose remediation FAILS (the function does not exist): it stays open."""
    h.install_playbook()
    member_with_lambda1(h)
    finding = lambda1_finding(MISSING_FUNCTION)
    h.import_finding(finding)
    return finding


def auto(finding: dict) -> dict:
    event = imported_event([finding])
    event["detail"]["actionName"] = "None"
    return event


def items() -> list[dict]:
    ddb = boto3.client("dynamodb", region_name=REGION)
    found = ddb.scan(TableName=solution.DEADLINE_TABLE)["Items"]
    return [{k: next(iter(v.values())) for k, v in item.items()} for item in found]


def at(moment: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake clock of the deadline module (resolve's ActedAt, the sweep's now)."""
    monkeypatch.setattr(deadline, "utcnow", lambda: moment)


def sweep(h: Harness) -> dict:
    """Invoke the synthesized sweep function through moto's Lambda (as its execution role)."""
    response = h.client("lambda").invoke(FunctionName=solution.DEADLINE_SWEEP_FUNCTION, Payload=b"{}")
    body = json.loads(response["Payload"].read())
    return {"error": response.get("FunctionError"), "body": body}


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def records(action: str) -> list[tuple[str, str, bool]]:
    enforcer = active()
    assert enforcer is not None
    return [(r.principal, r.resource, r.allowed) for r in enforcer.records if r.action == action]


def tracked(h: Harness, policy: str, event=None) -> tuple[dict, list[dict]]:
    apply(policy)
    finding = failing(h)
    h.run(event(finding) if event else auto(finding))
    return finding, items()


# --- track ---------------------------------------------------------------------------------------


def test_a_failed_remediation_starts_one_clock_that_a_second_event_does_not_reset(
    h: Harness, monkeypatch: pytest.MonkeyPatch
):
    applied = apply("version: 1\nglobal:\n  deadline: 72h\n")
    finding = failing(h)
    acted = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    at(acted, monkeypatch)
    result = h.run(auto(finding))
    assert result.status == "SUCCEEDED"
    assert [n["Remediation_Status"] for n in h.notifications()] == ["QUEUED", "FAILED"]
    [item] = items()
    assert item[solution.DEADLINE_KEY] == deadline.finding_key(finding["Id"])
    assert {k: item[k] for k in ("FindingId", "ProductArn", "ControlId", "AccountId", "Region", "ResourceId")} == {
        "FindingId": finding["Id"],
        "ProductArn": finding["ProductArn"],
        "ControlId": "Lambda.1",
        "AccountId": MEMBER,
        "Region": REGION,
        "ResourceId": MISSING_FUNCTION,
    }
    assert (item["DeadlineRule"], item["PolicyRevision"], item["Decision"]) == (
        "global.deadline",
        applied.version_id,
        "PROCEED",
    )
    assert (item["ActedAt"], item["DueAt"]) == ("2026-12-05T08:00:00.000Z", "2026-12-08T08:00:00.000Z")
    assert (item["Pending"], item["Status"], item["DeadlineSeconds"]) == ("PENDING", "PENDING", "259200")
    assert int(item[solution.DEADLINE_TTL_ATTRIBUTE]) == int((parse(item["DueAt"]) + timedelta(days=90)).timestamp())
    # written by resolve, as the orchestrator role, on the table
    assert records("dynamodb:PutItem").count((ADMIN_ROLE, TABLE_ARN, True)) == 1

    # A second action on the same finding an hour later (the custom action): the clock keeps running.
    at(acted + timedelta(hours=1), monkeypatch)
    h.run(custom_action_event([finding]))
    assert [n["Remediation_Status"] for n in h.notifications()] == ["QUEUED", "FAILED"]
    assert items() == [item]
    assert records("dynamodb:PutItem").count((ADMIN_ROLE, TABLE_ARN, True)) == 2  # tried, refused by the condition


def test_a_per_control_deadline_and_manual_only_are_tracked(h: Harness, monkeypatch: pytest.MonkeyPatch):
    """MANUAL_ONLY: the finding waits for a human, the clock runs; the control's deadline wins."""
    at(datetime(2026, 12, 5, 8, 0, tzinfo=UTC), monkeypatch)
    _, [item] = tracked(
        h, "version: 1\nglobal:\n  deadline: 72h\ncontrols:\n  Lambda.1: {mode: manual, deadline: 1d12h}\n"
    )
    assert [n["Remediation_Status"] for n in h.notifications()] == ["MANUAL_ONLY"]
    assert (item["Decision"], item["DeadlineRule"], item["DueAt"]) == (
        "MANUAL_ONLY",
        "controls.Lambda.1.deadline",
        "2026-12-06T20:00:00.000Z",
    )


@pytest.mark.parametrize(
    "policy",
    [
        "version: 1\n",  # no deadline anywhere
        "version: 1\nglobal:\n  deadline: 72h\ncontrols:\n  Lambda.1: {deadline: null}\n",  # removed for the control
        "version: 1\nglobal:\n  deadline: 72h\n  mode: dry-run\n",  # nothing acts on the finding
    ],
    ids=["no-deadline", "control-null", "dry-run"],
)
def test_no_deadline_or_no_action_writes_no_item(h: Harness, policy: str):
    tracked(h, policy)
    assert items() == []
    assert records("dynamodb:PutItem").count((ADMIN_ROLE, TABLE_ARN, True)) == 0


def test_without_a_policy_nothing_is_tracked(plain: Harness):
    """No policy: no decision, so no deadline (the emulation creates every table of the template; the
    deployed stack has none without a policy: test_the_new_resources_exist_only_with_a_policy)."""
    finding = failing(plain)
    plain.run(auto(finding))
    assert [n["Remediation_Status"] for n in plain.notifications()] == ["QUEUED", "FAILED"]
    assert items() == []
    assert [r for r in records("dynamodb:PutItem") if r[1] == TABLE_ARN] == []


def test_a_failed_write_is_logged_counted_and_never_blocks_the_remediation(
    h: Harness, caplog: pytest.LogCaptureFixture
):
    apply("version: 1\nglobal:\n  deadline: 1h\n")
    finding = failing(h)
    boto3.client("dynamodb", region_name=REGION).delete_table(TableName=solution.DEADLINE_TABLE)
    with caplog.at_level(logging.ERROR):
        h.run(auto(finding))
    assert [n["Remediation_Status"] for n in h.notifications()] == ["QUEUED", "FAILED"]  # it ran all the same
    [failed] = [r for r in caplog.records if r.getMessage() == "deadline write failed"]
    assert failed.data["table"] == solution.DEADLINE_TABLE and failed.data["finding"] == finding["Id"]
    assert failed.data["error"].startswith("ResourceNotFoundException")
    metrics = boto3.client("cloudwatch", region_name=REGION).list_metrics(
        Namespace=solution.METRICS_NAMESPACE, MetricName=solution.METRIC_DEADLINE_WRITE_FAILURE
    )["Metrics"]
    assert len(metrics) == 1


# --- sweep ---------------------------------------------------------------------------------------


def _overdue(h: Harness, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict, datetime]:
    at(datetime(2026, 12, 5, 8, 0, tzinfo=UTC), monkeypatch)
    finding, [item] = tracked(h, "version: 1\nglobal:\n  deadline: 72h\n")
    h.notifications()  # QUEUED, FAILED
    return finding, item, parse(item["DueAt"])


def test_the_sweep_escalates_an_overdue_finding_exactly_once(h: Harness, monkeypatch: pytest.MonkeyPatch):
    finding, item, due = _overdue(h, monkeypatch)

    at(due - timedelta(seconds=1), monkeypatch)  # not yet due: nothing
    assert sweep(h) == {"error": None, "body": {**_counts(), "Due": 0}}
    assert h.notifications() == [] and items() == [item]

    at(due + timedelta(hours=2), monkeypatch)
    assert sweep(h) == {"error": None, "body": {**_counts(), "Due": 1, "Escalated": 1}}
    [note] = h.notifications()
    assert (note["Remediation_Status"], note["severity"]) == ("DEADLINE_EXCEEDED", "ERROR")
    text = note["message"]
    for named in (
        finding["Id"],
        "control Lambda.1",
        f"account {MEMBER}",
        f"resource {MISSING_FUNCTION}",
        "still open 3d2h",  # from ActedAt to now
        "the deadline is 3d",
        "rule global.deadline",
        f"s3://{BUCKET}/{KEY}.json",
        "Workflow NOTIFIED",
    ):
        assert named in text, (named, text)
    assert note["finding"]["finding_arn"] == finding["Id"] and note["finding"]["account"] == MEMBER
    [escalated] = items()
    assert escalated["Status"] == "ESCALATED" and "Pending" not in escalated
    assert escalated["EscalatedAt"] == "2026-12-08T10:00:00.000Z"

    # a second sweep (later still): the item is out of the index, nothing is sent again
    at(due + timedelta(days=1), monkeypatch)
    assert sweep(h) == {"error": None, "body": {**_counts(), "Due": 0}}
    assert h.notifications() == []
    # the escalation is counted under its outcome (the dashboard's "Deadlines Exceeded")
    metrics = boto3.client("cloudwatch", region_name=REGION).list_metrics(
        Namespace=solution.METRICS_NAMESPACE, MetricName=solution.METRIC_REMEDIATION_OUTCOME
    )["Metrics"]
    assert [{"Name": solution.DIMENSION_OUTCOME, "Value": outcomes.DEADLINE_EXCEEDED}] in [
        m["Dimensions"] for m in metrics
    ]
    # the finding itself is left as the remediation left it (no Note, no workflow change)
    assert h.finding(finding["Id"])["Note"]["Text"].startswith("FAILED: ")
    # every call the sweep made was its role's, and allowed: Query on the index, GetFindings on the hub
    index = f"{TABLE_ARN}/index/{solution.DEADLINE_PENDING_INDEX}"
    assert set(records("dynamodb:Query")) == {(ADMIN_ROLE, index, True)}
    hub = f"arn:aws:securityhub:{REGION}:{ADMIN}:hub/default"
    assert set(records("securityhub:GetFindings")) == {(ADMIN_ROLE, hub, True)}


def _counts() -> dict:
    return {"Due": 0, "Escalated": 0, "Closed": 0, "Skipped": 0, "Errors": 0, "StoppedEarly": False}


def _resolved(h: Harness, finding: dict) -> None:
    h.client("securityhub").batch_update_findings(
        FindingIdentifiers=[{"Id": finding["Id"], "ProductArn": finding["ProductArn"]}], Workflow={"Status": "RESOLVED"}
    )


def _suppressed(h: Harness, finding: dict) -> None:
    h.client("securityhub").batch_update_findings(
        FindingIdentifiers=[{"Id": finding["Id"], "ProductArn": finding["ProductArn"]}],
        Workflow={"Status": "SUPPRESSED"},
    )


def _passed(h: Harness, finding: dict) -> None:
    h.import_finding({**finding, "Compliance": {**finding["Compliance"], "Status": "PASSED"}})


def _archived(h: Harness, finding: dict) -> None:
    h.import_finding({**finding, "RecordState": "ARCHIVED"})


def _gone(h: Harness, finding: dict) -> None:
    backend = securityhub_backends[ADMIN][REGION]
    backend.findings[:] = [f for f in backend.findings if f.id != finding["Id"]]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_resolved, "workflow is RESOLVED"),
        (_suppressed, "workflow is SUPPRESSED"),
        (_passed, "compliance is PASSED"),
        (_archived, "archived"),
        (_gone, "no longer in Security Hub"),
    ],
    ids=["resolved", "suppressed", "passed", "archived", "gone"],
)
def test_a_finding_closed_meanwhile_is_closed_not_escalated(
    h: Harness, monkeypatch: pytest.MonkeyPatch, change, reason
):
    finding, _item, due = _overdue(h, monkeypatch)
    other = lambda1_finding(f"arn:aws:lambda:{REGION}:{MEMBER}:function:another")  # open, never acted on
    h.import_finding(other)
    change(h, finding)
    at(due + timedelta(minutes=1), monkeypatch)
    assert sweep(h) == {"error": None, "body": {**_counts(), "Due": 1, "Closed": 1}}
    assert h.notifications() == []
    [closed] = items()
    assert closed["Status"] == "CLOSED" and "Pending" not in closed and reason in closed["ClosedReason"]


def test_a_run_that_cannot_notify_raises_and_leaves_the_item_for_the_next_run(
    h: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    _finding, _item, due = _overdue(h, monkeypatch)
    at(due + timedelta(minutes=1), monkeypatch)
    topic = h.topic_arn
    monkeypatch.setenv("SNS_TOPIC_ARN", f"{topic}-gone")  # a topic the role may not publish to
    enforcer = active()
    assert enforcer is not None
    with caplog.at_level(logging.ERROR), enforcer.expect_denial(lambda d: "sns:Publish" in str(d)) as denials:
        failed = sweep(h)
    assert denials
    assert failed["error"] and failed["body"]["errorType"] == "DeadlineSweepFailed"  # the Lambda reports an error
    assert "1 of 1 due deadline items failed" in failed["body"]["errorMessage"]
    [logged] = [r for r in caplog.records if r.getMessage() == "deadline item failed"]
    assert logged.data["table"] == solution.DEADLINE_TABLE and logged.data["error"].startswith("AccessDenied")
    [pending] = items()
    assert pending["Status"] == "PENDING" and pending["Pending"] == "PENDING" and "EscalatedAt" not in pending
    metrics = boto3.client("cloudwatch", region_name=REGION).list_metrics(
        Namespace=solution.METRICS_NAMESPACE, MetricName=solution.METRIC_DEADLINE_SWEEP_ERROR
    )["Metrics"]
    assert len(metrics) == 1

    monkeypatch.setenv("SNS_TOPIC_ARN", topic)  # fixed: the next run escalates, once
    assert sweep(h)["body"]["Escalated"] == 1
    assert [n["Remediation_Status"] for n in h.notifications()] == ["DEADLINE_EXCEEDED"]


def test_a_run_whose_query_fails_raises_naming_the_table(h: Harness, monkeypatch: pytest.MonkeyPatch):
    apply("version: 1\nglobal:\n  deadline: 1h\n")
    boto3.client("dynamodb", region_name=REGION).delete_table(TableName=solution.DEADLINE_TABLE)
    failed = sweep(h)
    assert failed["error"] and failed["body"]["errorType"] == "DeadlineSweepFailed"
    assert (
        f"deadline sweep of table {solution.DEADLINE_TABLE} failed: ResourceNotFoundException"
        in (failed["body"]["errorMessage"])
    )


def test_the_work_of_a_run_is_bounded_and_the_rest_is_left_for_the_next(h: Harness, monkeypatch: pytest.MonkeyPatch):
    """Pages of PAGE_SIZE; a run stops STOP_MARGIN_SECONDS before its timeout; the next run goes on."""
    ddb = boto3.client("dynamodb", region_name=REGION)
    now = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    count = deadline.PAGE_SIZE + 5
    for i in range(count):  # overdue items of findings no longer in Security Hub: each closes
        item = {
            solution.DEADLINE_KEY: deadline.finding_key(f"finding-{i}"),
            "FindingId": f"finding-{i}",
            "ProductArn": f"arn:aws:securityhub:{REGION}::product/aws/securityhub",
            "DueAt": f"2026-12-0{1 + i % 3}T00:00:{i:02d}.000Z",
            "Pending": "PENDING",
            "Status": "PENDING",
        }
        ddb.put_item(TableName=solution.DEADLINE_TABLE, Item={k: {"S": v} for k, v in item.items()})
    left = iter([1000.0] * 20 + [deadline.STOP_MARGIN_SECONDS - 1.0] * 100)
    enforcer = active()
    assert enforcer is not None
    with enforcer.acting_as(ADMIN_ROLE):  # as the sweep function's role
        first = deadline.sweep(now, lambda: next(left))
    assert (first.due, len(first.closed), first.stopped_early) == (20, 20, True)
    assert len([i for i in items() if i["Status"] == "PENDING"]) == count - 20
    with enforcer.acting_as(ADMIN_ROLE):
        second = deadline.sweep(now, lambda: 1000.0)
    assert (second.due, len(second.closed), second.stopped_early) == (count - 20, count - 20, False)
    assert all(i["Status"] == "CLOSED" for i in items())
    assert first.closed[0][0] == "finding-0"  # the earliest due first


def test_a_query_of_an_index_is_authorized_on_the_index():
    """The enforcer's model (asr/iam/requests.py), as IAM authorizes a Query of a global secondary index."""
    call = requests.Call(
        "dynamodb",
        "Query",
        {"TableName": "T", "IndexName": "Pending", "KeyConditionExpression": "#p = :p"},
        ADMIN,
        REGION,
        "aws",
        "dynamodb",
    )
    assert [(c.action, c.resource) for c in requests.checks(call)] == [
        ("dynamodb:Query", f"arn:aws:dynamodb:{REGION}:{ADMIN}:table/T/index/Pending")
    ]


# --- template --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template() -> dict:
    return admin_template()


def _new(template: dict) -> dict[str, dict]:
    """The resources the deadlines add: what names the table, the sweep function or its rule."""
    resources = template["Resources"]
    table = next(k for k, v in resources.items() if v["Properties"].get("TableName") == solution.DEADLINE_TABLE)
    function = next(
        k for k, v in resources.items() if v["Properties"].get("FunctionName") == solution.DEADLINE_SWEEP_FUNCTION
    )
    found = {table: resources[table], function: resources[function]}
    for k, v in resources.items():
        text = json.dumps(v)
        if k not in found and v["Type"] != "AWS::Lambda::Function" and (table in text or function in text):
            found[k] = v
    return found


def test_the_new_resources_exist_only_with_a_policy(template):
    new = _new(template)
    assert sorted(v["Type"] for v in new.values()) == [
        "AWS::DynamoDB::Table",
        "AWS::Events::Rule",
        "AWS::IAM::Policy",
        "AWS::Lambda::Function",
        "AWS::Lambda::Permission",
    ]
    assert {v.get("Condition") for v in new.values()} == {CONDITION}
    location = Location(ADMIN, REGION)
    blank = {solution.POLICY_BUCKET_PARAMETER: "", solution.POLICY_KEY_PARAMETER: ""}
    assert Resolver(template, location, blank).condition(CONDITION) is False
    assert Resolver(template, location, PARAMETERS).condition(CONDITION) is True
    # resolve names the table only under the same condition (blank without a policy)
    resolve = next(
        v for v in template["Resources"].values() if v["Properties"].get("FunctionName") == solution.RESOLVE_FUNCTION
    )
    table_id = next(k for k, v in new.items() if v["Type"] == "AWS::DynamoDB::Table")
    env = resolve["Properties"]["Environment"]["Variables"][solution.DEADLINE_TABLE_ENV]
    assert env == {"Fn::If": [CONDITION, {"Ref": table_id}, ""]}
    # no other resource names them (a reference to a resource that may not exist breaks the stack)
    others = [v for k, v in template["Resources"].items() if k not in new and v is not resolve]
    assert not [k for k in new for v in others if k in json.dumps(v)]


def test_the_table(template):
    [table] = [v for v in _new(template).values() if v["Type"] == "AWS::DynamoDB::Table"]
    props = table["Properties"]
    assert props["KeySchema"] == [{"AttributeName": solution.DEADLINE_KEY, "KeyType": "HASH"}]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": solution.DEADLINE_TTL_ATTRIBUTE, "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    history = next(
        v for v in template["Resources"].values() if v["Properties"].get("TableName") == solution.HISTORY_TABLE
    )
    assert props["SSESpecification"] == history["Properties"]["SSESpecification"]  # the solution key
    assert props["SSESpecification"]["SSEType"] == "KMS"
    [index] = props["GlobalSecondaryIndexes"]
    assert index["IndexName"] == solution.DEADLINE_PENDING_INDEX
    assert index["KeySchema"] == [
        {"AttributeName": "Pending", "KeyType": "HASH"},
        {"AttributeName": "DueAt", "KeyType": "RANGE"},
    ]


def test_the_sweep_function_and_its_schedule(template):
    new = _new(template)
    [function] = [v["Properties"] for v in new.values() if v["Type"] == "AWS::Lambda::Function"]
    assert function["Handler"] == "lambdas.orchestrator.deadline.lambda_handler"
    assert function["Code"]["S3Key"]["Fn::Join"][1][-1].endswith("/orchestrator.zip")
    assert function["ReservedConcurrentExecutions"] == 1
    assert function["Timeout"] > deadline.STOP_MARGIN_SECONDS
    admin_role = next(
        k
        for k, v in template["Resources"].items()
        if v["Properties"].get("RoleName") == solution.ORCHESTRATOR_ADMIN_ROLE
    )
    assert function["Role"] == {"Fn::GetAtt": [admin_role, "Arn"]}
    [rule] = [v["Properties"] for v in new.values() if v["Type"] == "AWS::Events::Rule"]
    assert rule["Name"] == solution.DEADLINE_SWEEP_RULE
    assert rule["ScheduleExpression"] == "rate(15 minutes)" and rule["State"] == "ENABLED"
    function_id = next(k for k, v in new.items() if v["Type"] == "AWS::Lambda::Function")
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    [permission] = [v["Properties"] for v in new.values() if v["Type"] == "AWS::Lambda::Permission"]
    assert permission["Principal"] == "events.amazonaws.com"


def test_the_grants_are_exactly_what_the_deadlines_need(template):
    new = _new(template)
    [policy] = [v["Properties"] for v in new.values() if v["Type"] == "AWS::IAM::Policy"]
    table_id = next(k for k, v in new.items() if v["Type"] == "AWS::DynamoDB::Table")
    resolver = Resolver(template, Location(ADMIN, REGION), PARAMETERS, {table_id: {"Arn": TABLE_ARN}})
    statements = resolver.value(policy["PolicyDocument"])["Statement"]
    granted = sorted(
        (a, r)
        for s in statements
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
    )
    assert granted == [
        ("dynamodb:PutItem", TABLE_ARN),
        ("dynamodb:Query", f"{TABLE_ARN}/index/{solution.DEADLINE_PENDING_INDEX}"),
        ("dynamodb:UpdateItem", TABLE_ARN),
        ("securityhub:GetFindings", f"arn:aws:securityhub:{REGION}:{ADMIN}:hub/default"),
    ]
    assert all(s["Effect"] == "Allow" and "Condition" not in s for s in statements)
    admin_role = next(
        k
        for k, v in template["Resources"].items()
        if v["Properties"].get("RoleName") == solution.ORCHESTRATOR_ADMIN_ROLE
    )
    assert policy["Roles"] == [{"Ref": admin_role}]


def test_the_dashboard_counts_deadline_escalations_apart_from_failures(template):
    from asr.admin import dashboard

    assert outcomes.DEADLINE_EXCEEDED in outcomes.ALL
    assert outcomes.severity(outcomes.DEADLINE_EXCEEDED) == "ERROR"
    assert outcomes.DEADLINE_EXCEEDED not in outcomes.UPDATE_WORKFLOW | outcomes.NOTE_ONLY
    assert outcomes.DEADLINE_EXCEEDED not in dashboard.FAILURE_OUTCOMES
    [board] = [v for v in template["Resources"].values() if v["Type"] == "AWS::CloudWatch::Dashboard"]
    body = json.dumps(board["Properties"]["DashboardBody"])
    assert '\\"title\\":\\"Deadlines Exceeded\\"' in body
    assert f'\\"Outcome\\",\\"{outcomes.DEADLINE_EXCEEDED}\\"' in body
