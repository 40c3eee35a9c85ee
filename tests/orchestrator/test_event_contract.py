"""The event contract of the state machine (issue 14, item 6): an event the Map cannot read ends
with a notification naming the missing field, never with a FAILED execution and no notification;
an Imported event without ``actionName`` is processed as the AutoTrigger rules' events are."""

from __future__ import annotations

import pytest

from asr.simulator.findings import custom_action_event, imported_event
from tests.orchestrator.harness import MEMBER, REGION, Harness
from tests.orchestrator.scenarios import lambda1_finding, member_with_lambda1


def _finding() -> dict:
    return lambda1_finding(f"arn:aws:lambda:{REGION}:{MEMBER}:function:public-fn")


@pytest.mark.parametrize(
    ("field", "remove"),
    [
        ("detail.findings", lambda e: e["detail"].pop("findings")),
        ("detail.findings", lambda e: e.pop("detail")),
        ("detail-type", lambda e: e.pop("detail-type")),
    ],
)
def test_an_event_without_what_the_map_reads_is_notified_naming_the_field(harness: Harness, field, remove):
    harness.install_playbook()
    event = custom_action_event([_finding()])
    remove(event)

    result = harness.run(event)

    assert result.status == "SUCCEEDED", result.states()
    assert "Process Findings" not in result.states()
    [note] = harness.notifications()
    assert note["Remediation_Status"] == "LAMBDA_ERROR"
    assert f"event field {field} is missing" in note["message"]
    assert harness.router.started == []


def test_an_imported_event_without_action_name_is_remediated_as_an_auto_trigger(harness: Harness):
    harness.install_playbook()
    _, function_arn = member_with_lambda1(harness)
    finding = lambda1_finding(function_arn)
    harness.import_finding(finding)
    event = imported_event([finding])
    event["detail"].pop("actionName", None)

    result = harness.run(event)

    assert result.status == "SUCCEEDED", result.states()
    assert "Default Action Name" in result.states()
    assert [n["Remediation_Status"] for n in harness.notifications()] == ["QUEUED", "SUCCESS"]
    assert len(harness.router.started) == 1
