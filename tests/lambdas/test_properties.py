"""Property-based tests of the finding path (Hypothesis), one per target:

* ``Finding.parse`` of hostile findings (tests/lambdas/strategies.py);
* resolve, as its synthesized role on moto, from hostile findings and event types;
* the notifier (``notifications.send``, the ``notify`` handler) with hostile notifications
  and Step Functions states;
* the metric and log emitters (metrics, the notifier's log stream and events, the JSON
  log lines, the Action Log forwarder).

Invariants: no uncaught exception; every outcome is a named outcome, and a refused finding's
message names the offending field and its value; every outgoing payload (SNS Publish,
PutMetricData, BatchUpdateFindings, CreateLogStream / PutLogEvents, as captured from the
boto3 calls) within its AWS limit; never an account or Region other than the finding's.

The default run tries a few examples per target; ``HYPOTHESIS_PROFILE=fuzz`` 10,000
(tests/conftest.py, README.md). With ``ASR_FUZZ_STATS=<file>`` each target's counts
(examples, uncaught exceptions, unnamed-field errors, limit violations) are written there.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from asr import limits, solution
from lambdas.action_log import handler as action_log
from lambdas.orchestrator import notifications, notify, outcomes, payload, resolve
from lambdas.orchestrator.finding import Finding, FindingError
from lambdas.orchestrator.log import JsonFormatter
from lambdas.orchestrator.notifications import Notification
from tests.conftest import ACCOUNT, REGION, multi_account_moto
from tests.lambdas import strategies as hs
from tests.lambdas.aws_calls import captured, violations
from tests.lambdas.test_orchestrator_resolve import Env
from tests.orchestrator.moto_ext import batch_update_findings, strict_member_role

pytestmark = [pytest.mark.fuzz, pytest.mark.stack_parameters(SecHubAdminAccount=ACCOUNT)]

STATS: dict[str, Counter] = {}
_NAMED = re.compile(r"finding field (\S+) ")
ACTION_LOG_GROUP = solution.ACTION_LOG_GROUP


def _count(target: str, **counts: int) -> None:
    STATS.setdefault(target, Counter()).update(counts)
    if STATS[target]["examples"] % 500 == 0:  # long fuzz runs: counts so far
        _flush()


def _flush() -> None:
    path = os.environ.get("ASR_FUZZ_STATS")
    if path:
        existing = json.loads(Path(path).read_text()) if os.path.exists(path) else {}
        existing.update({k: dict(v) for k, v in STATS.items()})
        Path(path).write_text(json.dumps(existing, indent=2, sort_keys=True))


@pytest.fixture(scope="module", autouse=True)
def _write_stats() -> Iterator[None]:
    yield
    _flush()


def _named(target: str, message: str, mutation: hs.Mutation | None) -> None:
    """A refused finding's message names a field related to the mutation, and the value set there."""
    match = _NAMED.search(message)
    if not match:
        _count(target, unnamed_field_errors=1)
        raise AssertionError(f"refusal names no field: {message[:300]!r}")
    path = match.group(1)
    if mutation is None:
        raise AssertionError(f"an unmutated finding was refused: {message[:300]!r}")
    related = path.split(".")[0] == mutation.path.split(".")[0] or mutation.path in message
    shows_value = mutation.deleted or path != mutation.path or limits.shown(mutation.value) in message
    if not (related and shows_value):
        _count(target, unnamed_field_errors=1)
        raise AssertionError(f"{mutation!r}: the message names {path} / not the value: {message[:300]!r}")


def _limits_ok(target: str, calls) -> None:
    found = violations(calls)
    if found:
        _count(target, limit_violations=len(found))
        raise AssertionError("\n".join(found[:5]))


def _parsed(raw: Any) -> Finding | None:
    try:
        return Finding.parse(raw)
    except FindingError:
        return None


# --- Finding.parse -----------------------------------------------------------------------


@given(hs.hostile_findings())
def test_finding_parse_never_crashes_and_names_the_field(case):
    raw, mutation = case
    _count("Finding.parse", examples=1)
    try:
        finding = Finding.parse(raw)
    except FindingError as err:
        _named("Finding.parse", str(err), mutation)
        return
    except Exception:
        _count("Finding.parse", uncaught_exceptions=1)
        raise
    # What parsed is ASCII and whole: no Unicode digit, no trailing newline.
    assert solution.ACCOUNT_ID.fullmatch(finding.account) and finding.account.isascii()
    assert solution.REGION.fullmatch(finding.resource_region) and solution.REGION.fullmatch(finding.region)
    assert "\n" not in finding.control_id and finding.control_id.isascii()


# --- resolve, as its synthesized role --------------------------------------------------------


@pytest.fixture
def resolve_env(monkeypatch: pytest.MonkeyPatch, as_function) -> Iterator[Env]:
    from moto.securityhub import urls
    from moto.securityhub.responses import SecurityHubResponse

    monkeypatch.setattr(SecurityHubResponse, "batch_update_findings", batch_update_findings, raising=False)
    monkeypatch.setitem(urls.url_paths, "{0}/findings/batchupdate$", SecurityHubResponse.dispatch)
    as_function(resolve, solution.RESOLVE_FUNCTION)
    # A READY finding stays inline here: carrying a large one by reference (the findings bucket of the
    # synthesized admin stack) is proven with the state machine in tests/orchestrator.
    # (This test's findings go up to 16 MB of JSON: no EventBridge event can carry one, 256 KB at most.)
    monkeypatch.setattr(payload, "INLINE_FINDING_BYTES", sys.maxsize)
    with multi_account_moto(monkeypatch):
        strict_member_role(monkeypatch)
        env = Env()
        env.playbook()
        env.member()
        env.ssm.put_parameter(Name=solution.SSM_SEND_CLOUDWATCH_METRICS, Value="yes", Type="String")
        monkeypatch.setattr(notifications, "_metrics_enabled", None)
        monkeypatch.setenv("ENHANCED_METRICS", "yes")
        monkeypatch.setenv("SNS_TOPIC_ARN", env.topic)
        monkeypatch.delenv("WORKFLOW_RUNBOOK", raising=False)
        yield env


EVENT_TYPES = st.sampled_from(
    [solution.EVENT_CUSTOM_ACTION, solution.EVENT_CUSTOM_ACTION, solution.EVENT_IMPORTED, None, "Other", 5]
)


@given(case=hs.hostile_findings(), event_type=EVENT_TYPES)
def test_resolve_always_ends_in_a_named_outcome_within_limits(resolve_env, case, event_type):
    raw, mutation = case
    _count("resolve", examples=1)
    event = {"Finding": raw, "EventType": event_type, "CustomActionName": solution.CUSTOM_ACTION_NAME}
    finding = _parsed(raw)
    with captured() as calls:
        try:
            out = resolve.lambda_handler(event, None)
        except Exception:
            _count("resolve", uncaught_exceptions=1)
            raise
    assert out["Outcome"] in (*outcomes.ALL, outcomes.READY), out["Outcome"]
    published = [c for c in calls if c.operation == "Publish"]
    assert len(published) == (0 if out["Outcome"] == outcomes.READY else 1), [c.operation for c in calls]
    if out["Outcome"] == outcomes.LAMBDA_ERROR:
        _named("resolve", out["Message"], mutation)
    _limits_ok("resolve", calls)
    # Never an account or Region other than the finding's.
    for call in calls:
        if call.operation == "AssumeRole":
            assert finding is not None and f":iam::{finding.account}:role/" in call.params["RoleArn"]
        if call.operation == "DescribeDocument":
            assert finding is not None and call.region == finding.resource_region
        if call.operation == "BatchUpdateFindings":
            assert finding is not None
            assert call.params["FindingIdentifiers"] == [{"Id": finding.id, "ProductArn": finding.product_arn}]
    if out["Outcome"] == outcomes.READY:
        assert finding is not None
        assert (out["Target"]["Account"], out["Target"]["Region"]) == (finding.account, finding.resource_region)
    assert limits.fits_sfn_payload(out) or out["Outcome"] == outcomes.READY  # READY's payload: payload.py


# --- the notifier -------------------------------------------------------------------------------


@pytest.fixture
def sns_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from moto import mock_aws
    from moto.securityhub import urls
    from moto.securityhub.responses import SecurityHubResponse

    monkeypatch.setattr(SecurityHubResponse, "batch_update_findings", batch_update_findings, raising=False)
    monkeypatch.setitem(urls.url_paths, "{0}/findings/batchupdate$", SecurityHubResponse.dispatch)
    with mock_aws():
        topic = boto3.client("sns", region_name=REGION).create_topic(Name=solution.SNS_TOPIC)["TopicArn"]
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name=solution.SSM_SEND_CLOUDWATCH_METRICS, Value="yes", Type="String"
        )
        boto3.client("logs", region_name=REGION).create_log_group(logGroupName=ACTION_LOG_GROUP)
        monkeypatch.setenv("SNS_TOPIC_ARN", topic)
        monkeypatch.setenv("ENHANCED_METRICS", "yes")
        monkeypatch.setattr(notifications, "_metrics_enabled", None)
        yield


_TEXTS = hs.HOSTILE.map(lambda v: v if isinstance(v, str) else repr(v))


@st.composite
def notifications_(draw: st.DrawFn) -> Notification:
    raw, _ = draw(hs.hostile_findings())
    finding = _parsed(raw)
    if finding is not None and draw(st.booleans()):  # values parse cannot produce, as the emitters may get them
        finding = dataclasses.replace(finding, security_control_id=draw(_TEXTS), control_id=draw(_TEXTS))
    return Notification(
        draw(st.sampled_from(outcomes.ALL) | _TEXTS),
        draw(_TEXTS),
        finding,
        raw_finding=raw if finding is None else None,
        exec_id=draw(_TEXTS),
        affected_object=draw(_TEXTS),
        remediation_output=draw(_TEXTS),
        details=draw(st.lists(_TEXTS, max_size=3)),
        ticket_url=draw(st.none() | _TEXTS),
        standard_short_name=draw(_TEXTS),
    )


@given(note=notifications_())
def test_the_notifier_publishes_within_limits_whatever_it_gets(sns_env, note):
    _count("notifier", examples=1)
    with captured() as calls:
        try:
            body = notifications.send(note)
        except Exception:
            _count("notifier", uncaught_exceptions=1)
            raise
    assert [c.operation for c in calls].count("Publish") == 1
    assert body["remediation_status"] in outcomes.ALL and isinstance(body["message"], str)
    _limits_ok("notifier", calls)


STATES = st.fixed_dictionaries(
    {},
    optional={
        "Error": hs.HOSTILE | st.fixed_dictionaries({"Error": _TEXTS, "Cause": _TEXTS}),
        "Finding": hs.hostile_findings().map(lambda case: case[0]) | hs.HOSTILE,
        "Target": hs.HOSTILE | st.fixed_dictionaries({"StandardShortName": hs.HOSTILE}),
        "TicketRequested": st.booleans(),
        "TicketAnswer": hs.HOSTILE | st.fixed_dictionaries({"Payload": hs.HOSTILE}),
        "TicketError": hs.HOSTILE,
        "Outcome": st.sampled_from(outcomes.ALL) | hs.HOSTILE,
        "Message": hs.HOSTILE,
        "Remediation": hs.HOSTILE,
    },
)


@given(state=STATES)
def test_the_notify_handler_always_notifies(sns_env, state):
    _count("notify", examples=1)
    with captured() as calls:
        try:
            out = notify.lambda_handler(state, None)
        except Exception:
            _count("notify", uncaught_exceptions=1)
            raise
    assert [c.operation for c in calls].count("Publish") == 1
    assert isinstance(out["Message"], str) and out["Outcome"] in outcomes.ALL
    _limits_ok("notify", calls)


# --- metric and log emitters ---------------------------------------------------------------------


@given(note=notifications_(), line=_TEXTS, data=hs.HOSTILE)
def test_metric_and_log_emitters_stay_within_limits(sns_env, note, line, data):
    _count("metric/log emitters", examples=1)
    now = dt.datetime.now(dt.UTC)
    with captured() as calls:
        try:
            notifications.put_metrics(note)
            notifications.write_log(note, now)
            records = [{"eventTime": now.isoformat(), "eventSource": line, "requestParameters": data}]
            action_log.write_events(boto3.client("logs", region_name=REGION), ACTION_LOG_GROUP, records, now)
        except Exception:
            _count("metric/log emitters", uncaught_exceptions=1)
            raise
    _limits_ok("metric/log emitters", calls)
    record = logging.LogRecord("asr", logging.INFO, __file__, 1, line, None, None)
    record.data = {"value": data, "message2": line}
    formatted = JsonFormatter().format(record)
    json.loads(formatted)
    if len(formatted.encode("utf-8")) > limits.LOG_EVENT_BYTES:
        _count("metric/log emitters", limit_violations=1)
        raise AssertionError(f"log line of {len(formatted.encode())} bytes")
