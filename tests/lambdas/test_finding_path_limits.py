"""Issue 14, failures 1, 2 and 5: one test (or a few) per failure, each failing on the code
before the fix (it says how), each measuring the calls as boto3 was about to send them.

1. escaping exceptions in resolve: a huge or surrogate-holding finding, or a failure while
   building or sending the notification, ended with no notification at all;
2. loose patterns: Unicode digits and a trailing newline passed the account, Region, ARN and
   control id checks;
5. limits: SNS messages, metric dimension values, log stream names, log events and finding
   Notes went over AWS's limits.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest

from asr import limits, solution
from lambdas.orchestrator import notifications, notify, outcomes, resolve
from lambdas.orchestrator.finding import Finding, FindingError
from lambdas.orchestrator.notifications import Notification
from tests.conftest import ACCOUNT, REGION, multi_account_moto
from tests.lambdas import strategies as hs
from tests.lambdas.aws_calls import captured, violations
from tests.lambdas.test_orchestrator_resolve import Env
from tests.orchestrator.moto_ext import batch_update_findings, strict_member_role

pytestmark = pytest.mark.stack_parameters(SecHubAdminAccount=ACCOUNT)

HUGE = "\u00e9" * 2_700_000  # 2.7 million characters, 5.4 MB of UTF-8


@pytest.fixture
def resolve_env(monkeypatch: pytest.MonkeyPatch, as_function) -> Iterator[Env]:
    as_function(resolve, solution.RESOLVE_FUNCTION)
    with multi_account_moto(monkeypatch):
        strict_member_role(monkeypatch)
        env = Env()
        env.playbook()
        env.member()
        monkeypatch.setenv("SNS_TOPIC_ARN", env.topic)
        yield env


@pytest.fixture
def sns_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    from moto import mock_aws
    from moto.securityhub import urls
    from moto.securityhub.responses import SecurityHubResponse

    monkeypatch.setattr(SecurityHubResponse, "batch_update_findings", batch_update_findings, raising=False)
    monkeypatch.setitem(urls.url_paths, "{0}/findings/batchupdate$", SecurityHubResponse.dispatch)
    monkeypatch.setattr(notifications, "_metrics_enabled", None)
    with mock_aws():
        sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
        topic = sns.create_topic(Name=solution.SNS_TOPIC)["TopicArn"]
        inbox = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        monkeypatch.setenv("SNS_TOPIC_ARN", topic)
        yield {"sqs": sqs, "inbox": inbox}


def _received(sqs, inbox) -> list[dict]:
    got = sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(json.loads(m["Body"])["Message"]) for m in got]


def _event(raw: dict) -> dict:
    return {"Finding": raw, "EventType": solution.EVENT_CUSTOM_ACTION, "CustomActionName": solution.CUSTOM_ACTION_NAME}


# --- 1. every failure of resolve ends in a notification ------------------------------------------


def test_failure1_a_refused_finding_with_2_7_mb_fields_is_notified_within_sns_limits(resolve_env: Env):
    """Before: Id/Title/Description copied whole into the message, twice -> SNS "Message too long",
    raised out of resolve (no notification)."""
    raw = hs.base_finding()
    raw.update(ProductArn="nope", Title=HUGE, Description=HUGE, Id="arn:" + HUGE)
    with captured() as calls:
        out = resolve.lambda_handler(_event(raw), None)
    assert out["Outcome"] == outcomes.LAMBDA_ERROR and "finding field Id is longer than 512" in out["Message"]
    assert violations(calls) == []
    [note] = resolve_env.notes()
    assert note["Remediation_Status"] == "LAMBDA_ERROR" and "finding field Id" in note["message"]
    for key in ("title", "finding_description", "finding_arn"):
        assert "[truncated" in note["finding"][key] and "\u00e9\u00e9" in note["finding"][key]
    assert limits.json_len(out) < 16 * 1024  # the raw finding is not carried on


def test_failure1_a_lone_surrogate_in_the_account_is_notified(resolve_env: Env):
    """Before: the raw AwsAccountId went into MessageAttributes -> UnicodeEncodeError in boto3."""
    raw = hs.base_finding()
    raw["AwsAccountId"] = "\ud800" * 12
    with captured() as calls:
        out = resolve.lambda_handler(_event(raw), None)
    assert out["Outcome"] == outcomes.LAMBDA_ERROR
    assert "finding field AwsAccountId" in out["Message"] and "\\ud800" in out["Message"]
    assert violations(calls) == []
    [note] = resolve_env.notes()
    assert note["finding"]["account"] == "\ufffd" * 12


def test_failure1_a_failure_while_building_the_notification_still_notifies(
    resolve_env: Env, monkeypatch: pytest.MonkeyPatch
):
    """Before: send() ran after the try: whatever it raised escaped, and nothing was published."""

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom while building")

    monkeypatch.setattr(notifications, "sns_message", broken)
    monkeypatch.setattr(resolve, "Notification", broken)
    raw = hs.base_finding()
    raw["AwsAccountId"] = "nope"
    with captured() as calls:
        out = resolve.lambda_handler(_event(raw), None)
    assert out["Outcome"] == outcomes.LAMBDA_ERROR and "AwsAccountId" in out["Message"]
    assert violations(calls) == []
    [note] = resolve_env.notes()
    assert note["Remediation_Status"] == "LAMBDA_ERROR"
    assert "AwsAccountId" in note["message"] and "minimal notification" in note["message"]
    assert "boom while building" in note["message"]


def test_failure1_sns_refusing_the_full_message_gets_the_minimal_one(sns_env, monkeypatch: pytest.MonkeyPatch):
    """The notifier itself falls back: SNS refusing the full message (any ClientError) -> minimal message."""
    real = notifications.publish
    seen: list[dict] = []

    def refuse_full(topic, body):
        seen.append(body)
        if len(seen) == 1:
            raise RuntimeError("InvalidParameter")
        return real(topic, body)

    monkeypatch.setattr(notifications, "publish", refuse_full)
    finding = Finding.parse(hs.base_finding())
    body = notifications.send(Notification(outcomes.FAILED, "failed", finding))
    assert body["remediation_status"] == "FAILED" and "minimal notification" in body["message"]
    assert body["finding"]["account"] == hs.MEMBER
    [note] = _received(sns_env["sqs"], sns_env["inbox"])
    assert note == body


@pytest.mark.parametrize(
    "state",
    [
        {"Error": "not an object", "Target": "not an object", "Finding": {"Title": HUGE}},
        {"TicketRequested": True, "Finding": "garbage", "TicketAnswer": "garbage"},
        {"Unexpected": True},
        {"Error": {"Error": HUGE, "Cause": "\ud800" + HUGE}, "Finding": hs.base_finding()},
    ],
    ids=["error-not-object", "ticket-garbage", "neither", "huge-cause"],
)
def test_failure1_the_notify_handler_always_notifies(sns_env, state):
    """Before: AttributeError / FindingError / ValueError / SNS too long, and no notification."""
    with captured() as calls:
        out = notify.lambda_handler(state, None)
    assert out["Outcome"] in outcomes.ALL
    assert violations(calls) == []
    assert len(_received(sns_env["sqs"], sns_env["inbox"])) == 1


# --- 2. full, ASCII-only patterns ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, value",
    [
        ("AwsAccountId", "\u0661" * 12),  # Arabic-Indic digits
        ("AwsAccountId", "\uff11" * 12),  # fullwidth digits
        ("AwsAccountId", hs.MEMBER + "\n"),
        ("Region", "us-east-\u0661"),
        ("Region", "us-east-1\n"),
        ("Resources.0.Region", "eu-west-\u0661"),
        ("Resources.0.Region", "eu-west-1\n"),
        ("Compliance.SecurityControlId", "Lambda.\u0661"),
        ("Compliance.SecurityControlId", "Lambda.1\n"),
        ("ProductArn", "arn:aws:securityhub:us-east-1::product/aws/securityhub\n"),
        ("ProductArn", "arn:aws:securityhub:us-east-1:\u0661\u0661:product/aws/securityhub"),
        (
            "ProductFields.StandardsControlArn",
            f"arn:aws:securityhub:us-east-1:{hs.MEMBER}:control/aws-foundational-security-best-practices/v/1.0.0/S3.1\n",
        ),
        (
            "ProductFields.StandardsControlArn",
            f"arn:aws:securityhub:us-east-1:{hs.MEMBER}:control/aws-foundational-security-best-practices/v/\u0661.0.0/S3.1",
        ),
    ],
)
def test_failure2_unicode_digits_and_trailing_newlines_are_refused_naming_the_field(path, value):
    """Before: re.match with \\d and $ accepted these; the finding failed later, naming nothing."""
    raw = hs.apply(hs.base_finding(), hs.Mutation(path, False, value))
    with pytest.raises(FindingError) as err:
        Finding.parse(raw)
    assert f"finding field {path} " in str(err.value) and limits.shown(value) in str(err.value)


def test_failure2_the_shared_validators_match_whole_ascii_values_only():
    assert solution.ACCOUNT_ID.fullmatch("111111111111") and solution.REGION.fullmatch("us-gov-west-1")
    for bad in ("\u0661" * 12, "111111111111\n", "11111111111"):
        assert not solution.is_full_match(solution.ACCOUNT_ID, bad)
    for bad in ("us-east-\u0661", "us-east-1\n", "US-EAST-1"):
        assert not solution.is_full_match(solution.REGION, bad)
    assert "\\d" not in solution.ACCOUNT_ID_PATTERN + solution.REGION_PATTERN


def test_failure2_resolve_names_the_field_of_a_unicode_digit_account(resolve_env: Env):
    """Before: the finding parsed, and resolve failed later as LAMBDA_ERROR naming no field."""
    raw = hs.base_finding()
    raw["AwsAccountId"] = "\u0662" * 12
    out = resolve.lambda_handler(_event(raw), None)
    assert out["Outcome"] == outcomes.LAMBDA_ERROR
    assert "finding field AwsAccountId" in out["Message"] and "\u0662" * 12 in out["Message"]


# --- 5. every emitter within AWS's limits ----------------------------------------------------------------


def _finding() -> Finding:
    return Finding.parse(hs.base_finding())


def test_failure5_sns_message_over_256_kb_is_bounded(sns_env):
    """Before: 300 KB of runbook output + message made a message SNS refuses."""
    note = Notification(outcomes.FAILED, "x" * 300_000, _finding(), remediation_output="\x01" * 300_000)
    with captured() as calls:
        body = notifications.send(note)
    assert violations(calls) == []
    assert "[truncated" in body["Remediation_Output"] and "[truncated" in body["message"]
    [publish] = [c for c in calls if c.operation == "Publish"]
    assert limits.sns_size(publish.params["Message"], publish.params["MessageAttributes"]) <= 262_144


def test_failure5_metric_dimension_values_are_bounded_and_ascii(sns_env, monkeypatch: pytest.MonkeyPatch):
    """Before: the control id went into a dimension value as it was (2,000 characters, non-ASCII)."""
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=solution.SSM_SEND_CLOUDWATCH_METRICS, Value="yes", Type="String"
    )
    monkeypatch.setenv("ENHANCED_METRICS", "yes")
    finding = dataclasses.replace(_finding(), security_control_id="\u00e9" + "C" * 2000)
    with captured() as calls:
        notifications.put_metrics(Notification(outcomes.FAILED, "f", finding))
    assert violations(calls) == []
    [put] = [c for c in calls if c.operation == "PutMetricData"]
    value = put.params["MetricData"][1]["Dimensions"][1]["Value"]
    assert len(value) == 1024 and value.startswith("?CCC") and value.endswith("characters]")


def test_failure5_log_stream_names_are_bounded(sns_env):
    """Before: <standard>-<control>-<day> of any length, ':' and '*' included."""
    note = Notification(outcomes.QUEUED, "q", _finding(), standard_short_name="S:*" + "\u00df" * 600)
    name = notifications.log_stream(note, datetime(2026, 3, 4, tzinfo=UTC))
    assert limits.utf16_len(name) <= 512 and ":" not in name and "*" not in name
    with captured() as calls:
        notifications.write_log(note, datetime.now(UTC))
    assert violations(calls) == [] and any(c.operation == "PutLogEvents" for c in calls)


def test_failure5_log_events_are_bounded(sns_env):
    """Before: one event per line, whatever its size (2 MB here; a batch of two 1 MB events)."""
    note = Notification(outcomes.FAILED, "f", _finding(), details=["\u00e9" * 1_000_000, "y" * 2_000_000])
    with captured() as calls:
        notifications.write_log(note, datetime.now(UTC))
    assert violations(calls) == []
    events = [e for c in calls if c.operation == "PutLogEvents" for e in c.params["logEvents"]]
    assert len(events) == 3 and all("[truncated" in e["message"] for e in events[1:])


def test_failure5_finding_notes_count_as_aws_counts(sns_env):
    """Before: [:512] cut 512 code points: 512 emoji are 1,024 UTF-16 units, over the limit."""
    raw = hs.base_finding()
    boto3.client("securityhub", region_name=REGION).batch_import_findings(Findings=[copy.deepcopy(raw)])
    with captured() as calls:
        notifications.update_finding(Notification(outcomes.FAILED, "\U0001f600" * 600, Finding.parse(raw)))
    assert violations(calls) == []
    [update] = [c for c in calls if c.operation == "BatchUpdateFindings"]
    text = update.params["Note"]["Text"]
    assert limits.utf16_len(text) <= 512 and text.startswith("FAILED: \U0001f600") and "[truncated" in text


def test_failure5_custom_resource_responses_stay_within_4096_bytes():
    """Before: Reason[:1000] characters (up to 4 bytes each, 6 escaped) and any PhysicalResourceId."""
    from lambdas.custom_action import handler as custom_action

    event = {"StackId": "arn:stack", "RequestId": "r-1", "LogicalResourceId": "CustomAction"}
    body = custom_action.response_body(event, "FAILED", "p" * 5000, reason="\ud800" + "\u00e9" * 10_000)
    document = json.loads(body)
    assert len(body) <= limits.CFN_RESPONSE_BYTES and "[truncated" in document["Reason"]
    assert len(document["PhysicalResourceId"].encode()) <= 1024
