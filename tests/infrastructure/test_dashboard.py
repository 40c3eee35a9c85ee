"""The admin stack's dashboard and alarms (asr/admin/dashboard.py), as built.

The dashboard body and the alarms are read from the built admin template, resolved with
``asr.iam.template.Resolver`` for given parameter values. Every metric the dashboard graphs and every
metric an alarm watches in namespace ``ASR`` is checked against what the notifier actually sends:
it runs on moto (``notifications.send`` for every outcome, with enhanced metrics, for every SC
control) and moto's CloudWatch lists what it received -- namespace, name and dimensions must match.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from asr import solution
from asr.admin import dashboard
from asr.iam.template import Location, Resolver
from asr.playbooks.data import load_standard
from asr.simulator.findings import make_finding
from asr.upgrade import load_contract
from lambdas.action_log.handler import KEPT_FIELDS
from lambdas.orchestrator import history, notifications, outcomes
from lambdas.orchestrator.finding import Finding
from lambdas.orchestrator.notifications import Notification
from tests.conftest import ACCOUNT, REGION
from tests.infrastructure.conftest import by_stack, resources_of

ADMIN_FILE = solution.TEMPLATE_FILES[solution.ADMIN_STACK]
SC_CONTROLS = [c.control_id for c in load_standard("SC").entries]
ENHANCED = {"EnableEnhancedCloudWatchMetrics": "yes"}
#: Alarms of the admin stack that are not about the solution's metrics (asr/admin/stack.py).
OTHER_ALARMS = {solution.SCHEDULING_DLQ_ALARM}
METRIC_ENTRY_FIELDS = {"label", "id", "visible", "period", "stat", "color", "yAxis"}


# --- reading the template ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def admin(templates) -> dict:
    return by_stack(templates, solution.ADMIN_STACK)


def _resolver(admin: dict, **parameters: str) -> Resolver:
    queues = {k: {"QueueName": f"{k}-generated"} for k in resources_of(admin, "AWS::SQS::Queue")}  # the DLQ alarm
    return Resolver(admin, Location(ACCOUNT, REGION), parameters=parameters, physical=queues)


def _exists(resolver: Resolver, resource: dict) -> bool:
    return "Condition" not in resource or resolver.condition(resource["Condition"])


def _body(admin: dict, **parameters: str) -> dict | None:
    """The dashboard body for these parameter values (None: no dashboard)."""
    resolver = _resolver(admin, **parameters)
    (resource,) = resources_of(admin, "AWS::CloudWatch::Dashboard").values()
    if not _exists(resolver, resource):
        return None
    assert resource["Properties"]["DashboardName"] == solution.DASHBOARD_NAME
    return json.loads(resolver.value(resource["Properties"]["DashboardBody"]))


def _alarms(admin: dict, **parameters: str) -> dict[str, dict]:
    """AlarmName -> resolved properties, of the alarms that exist for these parameter values."""
    resolver = _resolver(admin, **parameters)
    found = {}
    for resource in resources_of(admin, "AWS::CloudWatch::Alarm").values():
        if _exists(resolver, resource):
            props = resolver.value(resource["Properties"])
            found[props["AlarmName"]] = props
    return found


def _widget(body: dict, title: str) -> dict:
    (widget,) = [w for w in body["widgets"] if w["properties"].get("title") == title]
    return widget


MetricKey = tuple[str, str, tuple[tuple[str, str], ...]]


def _metric_entries(widget: dict) -> tuple[list[MetricKey], list[dict], dict[str, MetricKey]]:
    """(metrics, expressions, id -> metric) of a metric widget, per the dashboard body format:
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html"""
    metrics, expressions, ids = [], [], {}
    for entry in widget["properties"].get("metrics", []):
        if isinstance(entry[0], dict):
            expressions.append(entry[0])
            continue
        options = entry[-1] if isinstance(entry[-1], dict) else {}
        head = entry[:-1] if options else entry
        assert "." not in head and ".." not in head, f"shorthand entry {entry}: this test reads full entries only"
        assert set(options) <= METRIC_ENTRY_FIELDS, options
        namespace, name, *dims = head
        key = (namespace, name, tuple(sorted(zip(dims[::2], dims[1::2], strict=True))))
        metrics.append(key)
        if "id" in options:
            ids[options["id"]] = key
    return metrics, expressions, ids


def _alarm_metrics(alarm: dict) -> list[MetricKey]:
    if "Metrics" not in alarm:
        dims = tuple(sorted((d["Name"], d["Value"]) for d in alarm.get("Dimensions", [])))
        return [(alarm["Namespace"], alarm["MetricName"], dims)]
    keys = []
    for query in alarm["Metrics"]:
        if "MetricStat" in query:
            m = query["MetricStat"]["Metric"]
            keys.append(
                (
                    m["Namespace"],
                    m["MetricName"],
                    tuple(sorted((d["Name"], d["Value"]) for d in m.get("Dimensions", []))),
                )
            )
    return keys


_SEARCH = re.compile(r"^SEARCH\('\{([^}]*)\} MetricName=\"([^\"]+)\" \(([^)]*)\)', 'Sum', (\d+)\)$")


def _search(expression: str) -> tuple[str, str, frozenset[str], set[str]] | None:
    """(namespace, metric name, dimension names, outcome values) of one of our SEARCH expressions."""
    match = _SEARCH.match(expression)
    if not match:
        assert "SEARCH" not in expression, f"unparsed search {expression}"
        return None
    namespace, *dims = match.group(1).split(",")
    values = set(re.findall(rf'{solution.DIMENSION_OUTCOME}="([A-Z_]+)"', match.group(3)))
    return namespace, match.group(2), frozenset(dims), values


_TTR_SEARCH = re.compile(r"^SEARCH\('\{(\w+),([\w,]+)\} MetricName=\"(TimeToRemediate)\"', 'p90', 86400\)$")


def _ids_used(expression: str) -> set[str]:
    """Metric ids an arithmetic expression reads (functions are upper case, ids lower case)."""
    return set(re.findall(r"\b([a-z][A-Za-z0-9_]*)\b", expression))


# --- what the Lambdas emit -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emitted() -> Iterator[set[MetricKey]]:
    """Every metric the notifier sends, read back from moto's CloudWatch: each outcome once (the whole
    ``send``), and with enhanced metrics, SUCCESS and every per-control failure outcome for every SC
    control (its metric step, ``put_metrics``)."""
    from moto.securityhub import urls
    from moto.securityhub.responses import SecurityHubResponse

    from tests.orchestrator.moto_ext import batch_update_findings

    with pytest.MonkeyPatch.context() as mp, mock_aws():
        mp.setattr(SecurityHubResponse, "batch_update_findings", batch_update_findings, raising=False)
        mp.setitem(urls.url_paths, "{0}/findings/batchupdate$", SecurityHubResponse.dispatch)
        mp.setattr(notifications, "_metrics_enabled", None)
        mp.setenv("ENHANCED_METRICS", "yes")
        mp.setenv("SNS_TOPIC_ARN", boto3.client("sns", region_name=REGION).create_topic(Name="t")["TopicArn"])
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name=solution.SSM_SEND_CLOUDWATCH_METRICS, Value="yes", Type="String"
        )

        def finding(control: str) -> Finding:
            return Finding.parse(
                make_finding(
                    control,
                    "arn:aws:s3:::bucket",
                    resource_type="AwsS3Bucket",
                    standard_name="security-control",
                    standard_version="2.0.0",
                    account_id="222222222222",
                )
            )

        for outcome in outcomes.ALL:
            notifications.send(Notification(outcome, "m", finding("S3.9")))
        for control in SC_CONTROLS:  # the notifier's metric step only (send() runs it, as above)
            found = finding(control)
            for outcome in (outcomes.SUCCESS, *dashboard.CONTROL_FAILURE_OUTCOMES):
                notifications.put_metrics(Notification(outcome, "m", found))
        notifications.assume_role_failure_metric()  # what the resolve Lambda calls on AccessDenied
        history.time_to_remediate_metric("S3.9", 60.0)  # what a recorded SUCCESS sends (history.record)
        history.write_failure_metric()  # what a failed history write sends

        pages = boto3.client("cloudwatch", region_name=REGION).get_paginator("list_metrics").paginate()
        yield {
            (m["Namespace"], m["MetricName"], tuple(sorted((d["Name"], d["Value"]) for d in m.get("Dimensions", []))))
            for page in pages
            for m in page["Metrics"]
        }


def test_the_notifier_sends_the_metrics_the_dashboard_is_built_on(emitted):
    names = {(ns, name, tuple(d for d, _ in dims)) for ns, name, dims in emitted}
    assert names == {
        ("ASR", "RemediationOutcome", ("Outcome",)),
        ("ASR", "RemediationOutcome", ("ControlId", "Outcome")),
        ("ASR", "AssumeRoleFailure", ()),
        ("ASR", "TimeToRemediate", ("ControlId",)),
        ("ASR", "HistoryWriteFailure", ()),
    }
    outcome_metrics = [dims for _, name, dims in emitted if name == solution.METRIC_REMEDIATION_OUTCOME]
    assert {dims[0][1] for dims in outcome_metrics if len(dims) == 1} == set(outcomes.ALL)
    per_control = Counter(dict(dims)["ControlId"] for _, _, dims in emitted if len(dims) == 2)
    assert all(per_control[c] >= 1 + len(dashboard.CONTROL_FAILURE_OUTCOMES) for c in SC_CONTROLS)


# --- the cross-check ------------------------------------------------------------------------------------


def test_every_metric_graphed_or_watched_is_one_the_lambdas_emit(admin, emitted):
    body = _body(admin, **ENHANCED)
    alarms = _alarms(admin, **ENHANCED)
    machine_arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{solution.ORCHESTRATOR_NAME}"
    schemas = {(ns, name, frozenset(d for d, _ in dims)) for ns, name, dims in emitted}
    graphed, searched, searched_ttr = [], 0, 0
    for widget in body["widgets"]:
        if widget["type"] != "metric":
            continue
        metrics, expressions, ids = _metric_entries(widget)
        graphed += metrics
        for expr in expressions:
            ttr = _TTR_SEARCH.match(expr["expression"])
            if ttr:  # time to remediate per control: the schema the history sends
                assert (ttr.group(1), ttr.group(3), frozenset(ttr.group(2).split(","))) in schemas, ttr.groups()
                searched_ttr += 1
                continue
            search = _search(expr["expression"])
            if search is None:
                unknown = _ids_used(expr["expression"]) - set(ids)
                assert unknown == set(), f"{widget['properties']['title']}: {expr['expression']} reads {unknown}"
                continue
            namespace, name, dims, values = search
            searched += 1
            assert (namespace, name, dims) in schemas, search
            sent = {dict(d)[solution.DIMENSION_OUTCOME] for ns, n, d in emitted if (ns, n) == (namespace, name)}
            assert values and values <= sent, search
    watched = [key for name, a in alarms.items() if name not in OTHER_ALARMS for key in _alarm_metrics(a)]
    for key in graphed + watched:
        if key[0] == "AWS/States":  # the orchestrator's own: ExecutionsStarted by StateMachineArn
            # https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html
            assert key == ("AWS/States", "ExecutionsStarted", (("StateMachineArn", machine_arn),))
        else:
            assert key in emitted, f"graphed or watched but never sent: {key}"
    assert searched == 2 and searched_ttr == 1
    assert len({k for k in graphed if k[0] == "ASR"}) > 4 * len(SC_CONTROLS)  # the per-control lines are there


def test_every_failure_outcome_the_notifier_sends_is_on_the_dashboard(admin, emitted):
    body = _body(admin)
    by_type, _, _ = _metric_entries(_widget(body, "Remediation Failures by Type"))
    graphed = {dict(dims)[solution.DIMENSION_OUTCOME] for _, _, dims in by_type}
    sent = {
        dict(dims)[solution.DIMENSION_OUTCOME]
        for _, name, dims in emitted
        if len(dims) == 1 and name == solution.METRIC_REMEDIATION_OUTCOME
    }
    not_failures = {outcomes.SUCCESS, outcomes.QUEUED, outcomes.NOT_NEW, *outcomes.POLICY, outcomes.DEADLINE_EXCEEDED}
    assert graphed == sent - not_failures
    labels = [e[-1]["label"] for e in _widget(body, "Remediation Failures by Type")["properties"]["metrics"]]
    assert len(set(labels)) == len(labels) == len(graphed)
    # the remediation policy's outcomes are not failures: they have their own graph, each labelled
    stopped, _, _ = _metric_entries(_widget(body, "Stopped by the Remediation Policy"))
    assert {dict(dims)[solution.DIMENSION_OUTCOME] for _, _, dims in stopped} == set(outcomes.POLICY) <= sent
    labels = [e[-1]["label"] for e in _widget(body, "Stopped by the Remediation Policy")["properties"]["metrics"]]
    assert len(set(labels)) == len(labels) == len(outcomes.POLICY)


# --- the widgets ------------------------------------------------------------------------------------------


BASE_TITLES = [
    "Total Successful Remediations",
    "Estimated Hours Saved",
    "Remediation Failures",
    "Remediation Failures by Type",
    "Remediation Failure Rate",
    "Runbook Assume Role Failures",
    "Orchestrator Executions Started",
    "CloudTrail Management Actions by ASR",
    "Time to Remediate by Control Id (p90)",
    "History Write Failures",
    "Stopped by the Remediation Policy",
    "Deadlines Exceeded",
]


def _titles(body: dict) -> list[str]:
    return [w["properties"]["title"] for w in body["widgets"] if "title" in w["properties"]]


def test_dashboard_widgets_without_and_with_enhanced_metrics(admin):
    plain, enhanced = _body(admin), _body(admin, **ENHANCED)
    assert _titles(plain) == BASE_TITLES
    extra = _titles(enhanced)[len(BASE_TITLES) :]
    assert _titles(enhanced)[: len(BASE_TITLES)] == BASE_TITLES
    assert extra[:2] == ["Successful remediations by Control Id", "Failed remediations by Control Id"]
    rates = [t for t in extra[2:] if t.startswith("Remediation Failure Rate by Control Id")]
    assert rates == extra[2:] and len(rates) == -(-len(SC_CONTROLS) // dashboard.CONTROLS_PER_RATE_GRAPH)
    assert enhanced["start"] == plain["start"] == "-P7D"
    for body in (plain, enhanced):
        cells = Counter()
        for w in body["widgets"]:
            assert w["x"] + w["width"] <= 24, w
            cells.update(
                (x, y) for x in range(w["x"], w["x"] + w["width"]) for y in range(w["y"], w["y"] + w["height"])
            )
        assert max(cells.values()) == 1  # no two widgets overlap
        assert all(w["properties"].get("region") == REGION for w in body["widgets"] if w["type"] != "text")


def test_estimated_hours_saved_formula_label_and_text_agree(admin):
    body = _body(admin)
    (expression,) = _metric_entries(_widget(body, "Estimated Hours Saved"))[1]
    minutes = dashboard.MINUTES_SAVED_PER_REMEDIATION
    assert expression["expression"] == f"success*{minutes}/60"
    assert f"({minutes} min per remediation)" in expression["label"]
    texts = " ".join(w["properties"]["markdown"] for w in body["widgets"] if w["type"] == "text")
    assert re.findall(r"(\d+) minutes", texts) == [str(minutes)]
    assert _widget(body, "Total Successful Remediations")["properties"]["setPeriodToTimeRange"] is True


def test_failure_graphs_add_every_failure_outcome(admin):
    body = _body(admin)
    metrics, (total,), ids = _metric_entries(_widget(body, "Remediation Failures"))
    failures = {dict(d)[solution.DIMENSION_OUTCOME] for _, _, d in metrics}
    assert failures == set(dashboard.FAILURE_OUTCOMES)
    assert _ids_used(total["expression"]) == set(ids) and total["label"] == "Failures"
    metrics, (rate,), ids = _metric_entries(_widget(body, "Remediation Failure Rate"))
    success = [i for i, k in ids.items() if dict(k[2])[solution.DIMENSION_OUTCOME] == outcomes.SUCCESS]
    assert success == ["success"] and rate["expression"].startswith("100*(")
    assert _ids_used(rate["expression"]) == set(ids)


def test_annotations_show_the_alarm_thresholds(admin):
    body = _body(admin, StateMachineExecutionsAlarmThreshold="1234", RemediationFailureAlarmThreshold="7", **ENHANCED)
    (assume,) = _widget(body, "Runbook Assume Role Failures")["properties"]["annotations"]["horizontal"]
    assert assume["value"] == 1 and ">= 1" in assume["label"]
    (executions,) = _widget(body, "Orchestrator Executions Started")["properties"]["annotations"]["horizontal"]
    assert executions == {
        "value": 1234,
        "label": f"{solution.STATE_MACHINE_EXECUTIONS_ALARM} threshold",
        "yAxis": "left",
    }
    rates = [w for w in body["widgets"] if w["properties"].get("title", "").startswith("Remediation Failure Rate by")]
    for widget in rates:
        (threshold,) = widget["properties"]["annotations"]["horizontal"]
        assert threshold["value"] == 7 and "S3.9" not in threshold["label"]


def test_per_control_rate_graphs_cover_every_control_within_the_query_limit(admin):
    body = _body(admin, **ENHANCED)
    lines = []
    for widget in body["widgets"]:
        if not widget["properties"].get("title", "").startswith("Remediation Failure Rate by Control Id"):
            continue
        metrics, expressions, ids = _metric_entries(widget)
        assert len(metrics) + len(expressions) <= dashboard.WIDGET_MAX_QUERIES
        for expr in expressions:
            controls = {dict(ids[i][2])[solution.DIMENSION_CONTROL_ID] for i in _ids_used(expr["expression"])}
            assert controls == {expr["label"]}, expr
            lines.append(expr["label"])
    assert sorted(lines) == sorted(SC_CONTROLS)


def test_action_log_widget_queries_the_action_log_group(admin):
    widget = _widget(_body(admin), "CloudTrail Management Actions by ASR")
    assert widget["type"] == "log" and widget["properties"]["view"] == "table"
    query = widget["properties"]["query"]
    assert query.startswith(f"SOURCE '{solution.ACTION_LOG_GROUP}' | fields @timestamp, ")
    assert solution.ACTION_LOG_GROUP == "/aws/lambda/SO0111-ASR-CloudTrailEvents"
    assert query.endswith("| sort @timestamp desc\n| limit 20")
    fields = re.search(r"fields (.*?)\n", query).group(1).split(", ")
    assert [f for f in fields if not f.startswith("@") and f.split(".")[0] not in KEPT_FIELDS] == []


# --- the alarms ---------------------------------------------------------------------------------------


def test_alarm_counts(admin):
    counts = {
        "enhanced": _alarms(admin, **ENHANCED),
        "default": _alarms(admin),
        "alarms off": _alarms(admin, UseCloudWatchMetricsAlarms="no", **ENHANCED),
        "metrics off": _alarms(admin, UseCloudWatchMetrics="no", **ENHANCED),
    }
    fixed = {solution.NO_RUNBOOK_ALARM, solution.ASSUME_ROLE_FAILURE_ALARM, solution.STATE_MACHINE_EXECUTIONS_ALARM}
    assert set(counts["default"]) == fixed | OTHER_ALARMS
    assert set(counts["enhanced"]) == fixed | OTHER_ALARMS | {solution.control_failure_alarm(c) for c in SC_CONTROLS}
    assert len(counts["enhanced"]) == 3 + 105 + 1 and len(counts["default"]) == 3 + 1
    assert counts["alarms off"] == counts["metrics off"] == {}
    assert _body(admin, UseCloudWatchMetrics="no") is None and _body(admin, UseCloudWatchMetricsAlarms="no")


def test_every_alarm_notifies_the_alarm_topic_once_a_day(admin):
    resolver = _resolver(admin, **ENHANCED)
    (topic_id,) = [
        k
        for k, v in resources_of(admin, "AWS::SNS::Topic").items()
        if v["Properties"]["TopicName"] == solution.ALARM_TOPIC
    ]
    topic = resolver.ref(topic_id)
    for name, alarm in _alarms(admin, **ENHANCED).items():
        assert alarm["AlarmActions"] == [topic], name
        if name in OTHER_ALARMS:
            continue
        periods = {q["MetricStat"]["Period"] for q in alarm.get("Metrics", []) if "MetricStat" in q}
        assert periods | ({alarm["Period"]} if "Period" in alarm else set()) == {86400}, name
        assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (1, 1), name
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold", name
        assert alarm["TreatMissingData"] == "notBreaching", name


def test_alarm_thresholds_are_the_parameters(admin):
    alarms = _alarms(
        admin, StateMachineExecutionsAlarmThreshold="1234", RemediationFailureAlarmThreshold="7", **ENHANCED
    )
    assert alarms[solution.NO_RUNBOOK_ALARM]["Threshold"] == 1
    assert alarms[solution.ASSUME_ROLE_FAILURE_ALARM]["Threshold"] == 1
    assert alarms[solution.STATE_MACHINE_EXECUTIONS_ALARM]["Threshold"] == "1234"
    param = admin["Parameters"]["StateMachineExecutionsAlarmThreshold"]
    assert (param["Type"], param["Default"], param["MinValue"]) == ("Number", "1000", 1)
    for control in SC_CONTROLS:
        alarm = alarms[solution.control_failure_alarm(control)]
        assert alarm["Threshold"] == "7"
        stats = [q for q in alarm["Metrics"] if "MetricStat" in q]
        assert len(stats) <= dashboard.ALARM_MAX_METRICS
        (returned,) = [q for q in alarm["Metrics"] if q.get("ReturnData")]
        assert _ids_used(returned["Expression"]) == {q["Id"] for q in stats}
        assert {dict(k[2])[solution.DIMENSION_CONTROL_ID] for k in _alarm_metrics(alarm)} == {control}


def test_dashboard_and_alarms_keep_the_reference_logical_ids(admin):
    """An in-place update from v2.3.2 updates them instead of colliding on their names."""
    reference = load_contract().template(ADMIN_FILE)
    ours = {
        (v["Type"], v["Properties"].get("AlarmName") or v["Properties"].get("DashboardName")): k
        for k, v in admin["Resources"].items()
        if v["Type"] in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard")
    }
    wanted = {
        (r.type, r.physical_name): r.logical_id
        for r in reference.resources
        if r.type in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard")
    }
    assert len(wanted) == 107 + 1
    assert {k: ours.get(k) for k in wanted} == wanted
    conditions = {r.physical_name: r.condition for r in reference.resources if r.physical_name}
    for (_, name), logical_id in wanted.items():
        assert admin["Resources"][logical_id]["Condition"] == conditions[name]
