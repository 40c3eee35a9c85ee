"""The synthesized state machine on moto with generated events (issue 14): hostile findings
(tests/lambdas/strategies.py) in events of every shape EventBridge could deliver, and some it
should not (no ``detail``, no ``detail.findings``, no ``actionName``, another ``detail-type``).

Invariants, per execution: it SUCCEEDS (the only other end, ``Notification Failed``, needs SNS
itself to fail); it sends at least one notification, and one final notification per finding it
processed; every status is a named outcome; every message is within SNS's limit; no automation
starts in an account other than the finding's.

The default run tries a few events; ``HYPOTHESIS_PROFILE=fuzz`` 10,000 (tests/conftest.py).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from asr import limits
from asr.simulator.findings import custom_action_event, imported_event
from lambdas.orchestrator import outcomes
from tests.lambdas import strategies as hs
from tests.orchestrator.harness import Harness

pytestmark = pytest.mark.fuzz

SHAPES = ("custom action", "imported", "imported without actionName", "other detail-type", "no findings", "no detail")


@st.composite
def events(draw: st.DrawFn) -> tuple[dict[str, Any], int]:
    """(event, how many findings the Map will process)."""
    findings = [draw(hs.hostile_findings())[0] for _ in range(draw(st.integers(1, 2)))]
    shape = draw(st.sampled_from(SHAPES))
    # the envelope around a well-formed finding (its account, Region and ids), then the hostile ones in it
    envelope = imported_event if shape.startswith("imported") else custom_action_event
    event = envelope([hs.base_finding()])
    event["detail"]["findings"] = copy.deepcopy(findings)
    if shape == "imported":
        event["detail"]["actionName"] = "None"
    elif shape == "imported without actionName":
        event["detail"].pop("actionName", None)
    elif shape == "other detail-type":
        event["detail-type"] = draw(st.text(max_size=40))
    elif shape == "no findings":
        event["detail"].pop("findings")
        return event, 0
    elif shape == "no detail":
        event.pop("detail")
        return event, 0
    return event, len(findings)


@given(case=events())
def test_every_generated_event_ends_notified_within_limits_and_in_the_findings_account(harness: Harness, case):
    event, processed = case
    if not getattr(harness, "_sc_installed", False):  # one harness serves every example
        harness.install_playbook()
        harness._sc_installed = True
    started_before = len(harness.router.started)
    harness.notifications()  # what earlier examples left in the inbox

    assume(limits.json_len(event) <= limits.SFN_PAYLOAD_BYTES)  # else StartExecution refuses it: nothing runs
    result = harness.run(event, timeout=120)

    assert result.status == "SUCCEEDED", result.states()
    notes = harness.notifications()
    assert notes, f"no notification: {result.states()}"
    statuses = [n["Remediation_Status"] for n in notes]
    assert set(statuses) <= set(outcomes.ALL), statuses
    finals = [s for s in statuses if s != outcomes.QUEUED]
    assert len(finals) >= max(processed, 1), (statuses, processed)
    for note in notes:
        assert limits.json_len(note) <= limits.SNS_MESSAGE_BYTES
    # (a finding whose AwsAccountId is not a string names no account: nothing may start for it)
    findings = (event.get("detail") or {}).get("findings") or []
    accounts = {f["AwsAccountId"] for f in findings if isinstance(f, dict) and isinstance(f.get("AwsAccountId"), str)}
    assert {s.account for s in harness.router.started[started_before:]} <= accounts
