"""Remediation history (lambdas/orchestrator/history.py): records written by the synthesized state
machine on moto, under the IAM enforcer (the orchestrator role's PutItem grant on the table)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from asr import solution
from asr.simulator.findings import custom_action_event, imported_event
from lambdas.orchestrator import history, notify
from tests.orchestrator.harness import MEMBER, REGION, Harness
from tests.orchestrator.scenarios import SC_RUNBOOK, lambda1_finding, member_with_lambda1, public_function

NOTIFY_HANDLER = "lambdas.orchestrator.notify.lambda_handler"


def records(table: str = solution.HISTORY_TABLE) -> list[dict]:
    """Every item of the table, as plain values (moto; the IAM enforcer knows the test's own calls)."""
    ddb = boto3.client("dynamodb", region_name=REGION)
    items = ddb.scan(TableName=table)["Items"]
    return [{k: next(iter(v.values())) for k, v in item.items()} for item in items]


def auto_trigger_event(findings: list[dict]) -> dict:
    event = imported_event(findings)
    event["detail"]["actionName"] = "None"
    return event


def _metrics(name: str) -> list[dict]:
    cw = boto3.client("cloudwatch", region_name=REGION)
    return cw.list_metrics(Namespace=solution.METRICS_NAMESPACE, MetricName=name)["Metrics"]


def test_a_success_from_the_custom_action_is_recorded_once_with_every_field(harness: Harness):
    harness.install_playbook()
    _, function_arn = member_with_lambda1(harness)
    finding = lambda1_finding(function_arn)
    first_seen = datetime.now(UTC) - timedelta(hours=5)
    finding["FirstObservedAt"] = first_seen.isoformat().replace("+00:00", "Z")
    harness.import_finding(finding)

    result = harness.run(custom_action_event([finding]))

    assert result.status == "SUCCEEDED"
    assert [n["Remediation_Status"] for n in harness.notifications()] == ["QUEUED", "SUCCESS"]
    [record] = records()
    assert record[solution.HISTORY_KEY] == history.record_id(result.arn, "0", finding["Id"])
    assert {k: record[k] for k in ("FindingId", "ControlId", "AccountId", "Region", "Runbook", "Outcome")} == {
        "FindingId": finding["Id"],
        "ControlId": "Lambda.1",
        "AccountId": MEMBER,
        "Region": REGION,
        "Runbook": SC_RUNBOOK,
        "Outcome": "SUCCESS",
    }
    assert record["Standard"] == "security-control 2.0.0" and record["StandardShortName"] == "SC"
    assert record["Resource"] == function_arn
    assert record["ExecutionArn"] == result.arn
    assert record["AutomationExecutionId"] == harness.router.started[0].execution_id
    assert record["Initiator"] == history.CUSTOM_ACTION
    assert record["CustomActionName"] == solution.CUSTOM_ACTION_NAME
    assert record["Attempt"] == "1" and record["PolicyVersion"] == ""
    assert "Remediation succeeded" in record["Message"]
    started, finished = (history.parse_time(record[k]) for k in ("StartedAt", "FinishedAt"))
    assert started <= finished <= datetime.now(UTC)
    assert record["FinishedDay"] == record["FinishedAt"][:10]
    assert record["FirstSeenAt"] == history.iso(first_seen)
    ttr = float(record["TimeToRemediateSeconds"])
    assert ttr == pytest.approx((finished - history.parse_time(history.iso(first_seen))).total_seconds(), abs=0.01)
    assert 5 * 3600 <= ttr < 5 * 3600 + 120
    expires = datetime.fromtimestamp(int(record[solution.HISTORY_TTL_ATTRIBUTE]), UTC)
    assert abs(expires - (finished + timedelta(days=365))) < timedelta(seconds=1)
    # time-to-remediate per control, in the namespace and dimension of the other metrics
    [metric] = _metrics(solution.METRIC_TIME_TO_REMEDIATE)
    assert metric["Dimensions"] == [{"Name": solution.DIMENSION_CONTROL_ID, "Value": "Lambda.1"}]
    assert _metrics(solution.METRIC_HISTORY_WRITE_FAILURE) == []


def test_an_auto_triggered_failure_is_recorded_as_auto_without_time_to_remediate(harness: Harness):
    harness.install_playbook()
    member_with_lambda1(harness)
    finding = lambda1_finding(f"arn:aws:lambda:{REGION}:{MEMBER}:function:no-such-function")
    harness.import_finding(finding)

    result = harness.run(auto_trigger_event([finding]))

    assert result.status == "SUCCEEDED"
    [record] = records()
    assert (record["Outcome"], record["Initiator"], record["CustomActionName"]) == ("FAILED", history.AUTO, "")
    assert "TimeToRemediateSeconds" not in record
    assert record["FirstSeenAt"] == history.iso(history.parse_time(finding["FirstObservedAt"]))
    assert _metrics(solution.METRIC_TIME_TO_REMEDIATE) == []


def test_two_findings_of_one_event_are_two_records(harness: Harness):
    harness.install_playbook()
    # two functions: two findings on one function race each other's remediation (one removes the
    # statement the other is removing), which is not what this test is about
    session, function_arn = member_with_lambda1(harness)
    findings = [lambda1_finding(function_arn), lambda1_finding(public_function(session, "public-fn-2"))]
    for f in findings:
        harness.import_finding(f)

    result = harness.run(custom_action_event(findings))

    got = sorted((r["FindingId"], r["Outcome"], r[solution.HISTORY_KEY]) for r in records())
    assert got == sorted(
        (f["Id"], "SUCCESS", history.record_id(result.arn, str(i), f["Id"])) for i, f in enumerate(findings)
    )


def test_the_notify_task_retried_after_its_work_is_recorded_once(harness: Harness):
    """The notify function records and notifies, then its invocation fails (as a timeout after the
    work would): the state machine's Retry invokes it again, the conditional put keeps one record."""
    harness.install_playbook()
    member_with_lambda1(harness)
    harness.dispatcher.crash[solution.RESOLVE_FUNCTION] = "Task timed out after 60.00 seconds"
    calls: list[bool | None] = []

    def done_then_lost(event, context):
        answer = notify.lambda_handler(event, context)
        calls.append(answer is not None)
        if len(calls) == 1:
            raise TimeoutError("the answer of the first invocation is lost")
        return answer

    harness.dispatcher.extra_handlers[NOTIFY_HANDLER] = done_then_lost
    finding = lambda1_finding(f"arn:aws:lambda:{REGION}:{MEMBER}:function:public-fn")

    result = harness.run(custom_action_event([finding]))

    assert result.status == "SUCCEEDED" and "Notify Fallback" not in result.states()
    assert harness.dispatcher.count(solution.NOTIFY_FUNCTION) == 2 and len(calls) == 2
    assert [n["Remediation_Status"] for n in harness.notifications()] == ["LAMBDA_ERROR", "LAMBDA_ERROR"]
    [record] = records()
    assert (record["Outcome"], record["ExecutionArn"]) == ("LAMBDA_ERROR", result.arn)
    assert "Task timed out" in record["Message"] and record["Runbook"] == ""  # resolve never named one
    assert record["Initiator"] == history.CUSTOM_ACTION


def _notify_payload(harness: Harness, finding: dict, execution: str) -> dict:
    state = {
        "Finding": finding,
        "MapIndex": 0,
        "EventType": solution.EVENT_IMPORTED,
        "CustomActionName": "None",
        "Error": {"Error": "States.Timeout", "Cause": "the remediation task timed out"},
    }
    return {"State": state, "ExecutionArn": execution, "ExecutionStartTime": "2025-01-02T03:04:05.678Z"}


def test_invoking_notify_twice_with_the_same_attempt_writes_one_record(harness: Harness):
    finding = lambda1_finding(f"arn:aws:lambda:{REGION}:{MEMBER}:function:f")
    execution = f"arn:aws:states:{REGION}:123456789012:execution:{solution.ORCHESTRATOR_NAME}:x"
    payload = _notify_payload(harness, finding, execution)
    lam = boto3.client("lambda", region_name=REGION)

    for _ in range(2):
        answer = lam.invoke(FunctionName=solution.NOTIFY_FUNCTION, Payload=json.dumps(payload))
        assert json.loads(answer["Payload"].read())["Outcome"] == "LAMBDA_ERROR"

    assert len(harness.notifications()) == 2  # the notification is not deduplicated ...
    [record] = records()  # ... the history is
    assert (record["StartedAt"], record["Initiator"], record["Outcome"]) == (
        "2025-01-02T03:04:05.678Z",
        history.AUTO,
        "LAMBDA_ERROR",
    )
    # another attempt of the same finding (another execution) is another record
    payload["ExecutionArn"] = execution + "2"
    lam.invoke(FunctionName=solution.NOTIFY_FUNCTION, Payload=json.dumps(payload))
    assert len(records()) == 2


def test_a_failed_history_write_is_logged_counted_and_the_notification_still_goes_out(harness: Harness, caplog):
    boto3.client("dynamodb", region_name=REGION).delete_table(TableName=solution.HISTORY_TABLE)  # a lost table
    finding = lambda1_finding(f"arn:aws:lambda:{REGION}:{MEMBER}:function:f")
    payload = _notify_payload(harness, finding, f"arn:aws:states:{REGION}:123456789012:execution:m:y")
    lam = boto3.client("lambda", region_name=REGION)

    answer = json.loads(
        lam.invoke(FunctionName=solution.NOTIFY_FUNCTION, Payload=json.dumps(payload))["Payload"].read()
    )

    assert answer["Outcome"] == "LAMBDA_ERROR"
    [note] = harness.notifications()
    assert note["Remediation_Status"] == "LAMBDA_ERROR" and "timed out" in note["message"]
    [metric] = _metrics(solution.METRIC_HISTORY_WRITE_FAILURE)
    assert metric["Dimensions"] == []
    [failed] = [r.data for r in caplog.records if r.getMessage() == "history write failed"]
    assert failed["table"] == solution.HISTORY_TABLE and failed["error"].startswith("ResourceNotFoundException")
    assert failed["record"] == history.record_id(payload["ExecutionArn"], "0", finding["Id"])


def test_an_outcome_resolve_decides_itself_is_recorded_once(harness: Harness):
    """No playbook enabled: resolve notifies the final outcome itself, and the record names the
    execution (resolve's task payload carries it, as the notify tasks' does)."""
    member_with_lambda1(harness)
    finding = lambda1_finding(f"arn:aws:lambda:{REGION}:{MEMBER}:function:no-such-function")
    harness.import_finding(finding)

    result = harness.run(custom_action_event([finding]))

    assert result.status == "SUCCEEDED"
    assert "Schedule and Run Remediation" not in result.states()
    [record] = records()
    assert record["Outcome"] == "PLAYBOOK_NOT_ENABLED"
    assert record[solution.HISTORY_KEY] == history.record_id(result.arn, "0", finding["Id"])
    assert (record["FindingId"], record["Initiator"]) == (finding["Id"], history.CUSTOM_ACTION)
