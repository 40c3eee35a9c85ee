"""Notifications: the SNS schema, the guide's subscription filters (evaluated by moto's
SNS filter-policy matcher), the log stream, finding updates and metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from asr import solution
from asr.simulator.findings import make_finding
from lambdas.orchestrator import notifications, outcomes
from lambdas.orchestrator.finding import Finding
from lambdas.orchestrator.notifications import Notification, log_stream, send, sns_message
from tests.conftest import REGION
from tests.orchestrator.moto_ext import batch_update_findings

MEMBER = "222222222222"
REFERENCE_KEYS = {
    "Remediation_Status",
    "Severity",
    "Account_Alias",
    "Remediation_Output",
    "Message",
    "Finding_Link",
    "Finding",
}
FINDING_KEYS = {
    "finding_id",
    "finding_description",
    "standard_name",
    "standard_version",
    "standard_control",
    "title",
    "region",
    "account",
    "finding_arn",
}
#: The implementation guide's examples ("Filtering an SNS topic subscription"), verbatim.
GUIDE_FILTERS = {
    "account": {"finding": {"account": ["111111111111", "222222222222"]}},
    "errors": {"severity": ["ERROR"]},
    "controls": {"finding": {"standard_control": ["S3.9", "S3.6"]}},
}


def _finding(control: str = "S3.9", account: str = MEMBER) -> Finding:
    return Finding.parse(
        make_finding(
            control,
            "arn:aws:s3:::bucket",
            resource_type="AwsS3Bucket",
            standard_name="security-control",
            standard_version="2.0.0",
            account_id=account,
        )
    )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    from moto.securityhub import urls
    from moto.securityhub.responses import SecurityHubResponse

    monkeypatch.setattr(SecurityHubResponse, "batch_update_findings", batch_update_findings, raising=False)
    monkeypatch.setitem(urls.url_paths, "{0}/findings/batchupdate$", SecurityHubResponse.dispatch)
    monkeypatch.setattr(notifications, "_metrics_enabled", None)
    with mock_aws():
        sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
        topic = sns.create_topic(Name=solution.SNS_TOPIC)["TopicArn"]
        monkeypatch.setenv("SNS_TOPIC_ARN", topic)
        queues = {}
        for name, policy in {"all": None, **GUIDE_FILTERS}.items():
            url = sqs.create_queue(QueueName=f"q-{name}")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            attributes = {}
            if policy:
                attributes = {"FilterPolicy": json.dumps(policy), "FilterPolicyScope": "MessageBody"}
            sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=attributes)
            queues[name] = url
        yield {"queues": queues, "sqs": sqs}


def _received(aws: dict, name: str) -> list[dict]:
    got = aws["sqs"].receive_message(QueueUrl=aws["queues"][name], MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(json.loads(m["Body"])["Message"]) for m in got]


def test_message_has_the_reference_keys_and_the_guide_keys():
    body = sns_message(
        Notification(
            outcomes.SUCCESS,
            "Remediation succeeded",
            _finding(),
            exec_id="e-1",
            affected_object="AwsS3Bucket b",
            remediation_output="ok",
        ),
        "Prod",
    )
    assert body.keys() >= REFERENCE_KEYS
    assert {"severity", "message", "finding", "remediation_status"} <= body.keys()
    assert set(body["Finding"]) == FINDING_KEYS and body["finding"] == body["Finding"]
    assert body["Message"] == body["message"] == "e-1: Remediation succeeded (AwsS3Bucket b)"
    assert body["Severity"] == body["severity"] == "INFO"
    assert (
        body["Finding_Link"]
        == "https://us-east-1.console.aws.amazon.com/securityhub/home?region=us-east-1#/controls/S3.9"
    )
    assert "Ticket_URL" not in body


@pytest.mark.parametrize("outcome", outcomes.ALL)
def test_severity(outcome):
    # the remediation policy's outcomes are INFO: the policy did what it says, nothing failed
    assert outcomes.severity(outcome) == ("INFO" if outcome in ("QUEUED", "SUCCESS", *outcomes.POLICY) else "ERROR")


def test_the_guides_subscription_filters_match(aws):
    send(Notification(outcomes.FAILED, "failed", _finding("S3.9", "111111111111")))
    send(Notification(outcomes.SUCCESS, "ok", _finding("S3.6", "333333333333")))
    send(Notification(outcomes.NO_RUNBOOK, "none", _finding("EC2.1", "222222222222")))
    assert len(_received(aws, "all")) == 3
    assert sorted(n["finding"]["account"] for n in _received(aws, "account")) == ["111111111111", "222222222222"]
    assert sorted(n["Remediation_Status"] for n in _received(aws, "errors")) == ["FAILED", "NO_RUNBOOK"]
    assert sorted(n["finding"]["standard_control"] for n in _received(aws, "controls")) == ["S3.6", "S3.9"]


def test_log_stream_per_standard_control_and_day(aws):
    now = datetime(2026, 3, 4, tzinfo=UTC)
    note = Notification(outcomes.QUEUED, "queued", _finding("S3.9"), standard_short_name="SC")
    assert log_stream(note, now) == "SC-S3.9-2026-03-04"
    assert log_stream(Notification(outcomes.LAMBDA_ERROR, "x"), now) == "ASR-2026-03-04"
    today = datetime.now(UTC)
    send(note, today)
    events = boto3.client("logs", region_name=REGION).get_log_events(
        logGroupName=solution.SOLUTION_LOG_GROUP, logStreamName=f"SC-S3.9-{today:%Y-%m-%d}"
    )["events"]
    assert events[0]["message"] == "INFO: queued"


def test_finding_updates(aws):
    hub = boto3.client("securityhub", region_name=REGION)
    raw = make_finding(
        "S3.9",
        "arn:aws:s3:::b",
        resource_type="AwsS3Bucket",
        standard_name="security-control",
        standard_version="2.0.0",
        account_id="123456789012",
    )
    raw["Workflow"] = {"Status": "SUPPRESSED"}
    hub.batch_import_findings(Findings=[raw])
    finding = Finding.parse(raw)

    send(Notification(outcomes.NOT_NEW, "not new", finding))
    stored = hub.get_findings()["Findings"][0]
    assert stored["Workflow"]["Status"] == "SUPPRESSED" and stored["Note"]["Text"].startswith("NOT_NEW")

    send(Notification(outcomes.NO_RUNBOOK, "no runbook", finding))
    stored = hub.get_findings()["Findings"][0]
    assert stored["Workflow"]["Status"] == "NOTIFIED" and "no runbook" in stored["Note"]["Text"]

    for outcome in (outcomes.QUEUED, outcomes.SUCCESS):
        send(Notification(outcome, "fine", finding))
    assert "no runbook" in hub.get_findings()["Findings"][0]["Note"]["Text"]


def test_metrics_only_when_enabled(aws, monkeypatch: pytest.MonkeyPatch):
    cw, ssm = boto3.client("cloudwatch", region_name=REGION), boto3.client("ssm", region_name=REGION)
    send(Notification(outcomes.SUCCESS, "ok", _finding()))
    assert cw.list_metrics(Namespace="ASR")["Metrics"] == []

    ssm.put_parameter(Name=solution.SSM_SEND_CLOUDWATCH_METRICS, Value="yes", Type="String")
    monkeypatch.setattr(notifications, "_metrics_enabled", None)
    monkeypatch.setenv("ENHANCED_METRICS", "yes")
    send(Notification(outcomes.SUCCESS, "ok", _finding()))
    dims = sorted(
        tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"]))
        for m in cw.list_metrics(Namespace="ASR", MetricName="RemediationOutcome")["Metrics"]
    )
    assert dims == [(("ControlId", "S3.9"), ("Outcome", "SUCCESS")), (("Outcome", "SUCCESS"),)]


def test_no_topic_is_a_clear_error(aws, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SNS_TOPIC_ARN")
    with pytest.raises(RuntimeError, match=solution.SSM_SNS_TOPIC_ARN):
        send(Notification(outcomes.SUCCESS, "ok", _finding()))
