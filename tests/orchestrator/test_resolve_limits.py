"""Issue 14, item 2: a 240 KB finding through the synthesized state machine when resolve
crashes with a huge error, and when StartAutomationExecution refuses the finding.

Resolve's Catch (``ResultPath: $.Error``) adds ``{Error, Cause}`` to the item, which holds the
whole finding (up to 240 KB): Step Functions fails the execution with the uncatchable
States.DataLimitExceeded when a state's output passes 262,144 bytes
(https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html), so the
error resolve lets escape must be small whatever caused it. moto does not enforce the limit:
the test measures every input, output and cause of the execution history.
"""

from __future__ import annotations

import json

from moto.core.exceptions import JsonRESTError

from asr import limits
from asr.simulator.findings import custom_action_event
from lambdas.orchestrator import resolve
from tests.orchestrator.harness import MEMBER, REGION, Harness
from tests.orchestrator.scenarios import is_public, lambda1_finding, member_with_lambda1
from tests.orchestrator.test_payload import KB, SFN_PAYLOAD_BYTES, padded


def _largest(result) -> tuple[str, str, int]:
    return max(result.payloads(), key=lambda entry: entry[2])


def test_resolve_crashing_with_a_huge_error_on_a_240_kb_finding_is_notified_within_the_limit(
    harness: Harness, monkeypatch
):
    """SNS refuses resolve's notification and its minimal one with an error text as long as the
    finding (the text of an exception may hold the finding): the Catch still fits, and the
    notifier reports the crash."""
    # no playbook installed: resolve's outcome is PLAYBOOK_NOT_ENABLED, and notifying it crashes
    finding = padded(lambda1_finding(f"arn:aws:lambda:{REGION}:{MEMBER}:function:public-fn"), 240 * KB)
    huge = 'Invalid parameter: Message too long: "' + json.dumps(finding) + '"'

    def refuse(*_args, **_kwargs):
        raise RuntimeError(huge)

    monkeypatch.setattr(resolve, "send", refuse)
    monkeypatch.setattr(resolve, "send_minimal", refuse)
    event = custom_action_event([finding])
    assert len(json.dumps(event).encode()) <= SFN_PAYLOAD_BYTES  # what EventBridge can deliver

    result = harness.run(event)

    assert result.status == "SUCCEEDED", result.history[-3:]
    notes = harness.notifications()
    assert [n["Remediation_Status"] for n in notes] == ["LAMBDA_ERROR"], notes
    assert "ResolveFailed" in notes[0]["message"] and "RuntimeError: Invalid parameter" in notes[0]["message"]
    event_type, field, largest = _largest(result)
    print(f"\n240 KB finding, resolve crash: largest payload {largest} B ({event_type} {field})")
    assert largest <= SFN_PAYLOAD_BYTES, (event_type, field, largest)


def test_a_finding_start_automation_execution_refuses_is_notified_by_name(harness: Harness, monkeypatch):
    """StartAutomationExecution documents 512 characters per parameter value
    (limits.SSM_AUTOMATION_PARAMETER_VALUE_CHARS) and does not hold the Finding to it; a value it
    does refuse ends as LAMBDA_ERROR naming the call, the runbook and AWS's message."""
    harness.install_playbook()
    session, function_arn = member_with_lambda1(harness)
    finding = padded(lambda1_finding(function_arn), 100 * KB)
    harness.import_finding(finding)
    start = harness.router.start
    refused: list[int] = []

    def start_within_a_limit(account, region, document, parameters, tags):
        value = parameters.get("Finding")
        value = value[0] if isinstance(value, list) else value
        if len(value) > 64 * KB:  # an assumed limit: AWS documents none for this value
            refused.append(len(value))
            raise JsonRESTError(
                "ValidationException",
                "1 validation error detected: Value at 'parameters' failed to satisfy constraint: "
                "Map value must satisfy constraint: [Member must have length less than or equal to 65536]",
            )
        return start(account, region, document, parameters, tags)

    monkeypatch.setattr(harness.router, "start", start_within_a_limit)

    result = harness.run(custom_action_event([finding]))

    assert result.status == "SUCCEEDED", result.history[-3:]
    assert refused and refused[0] >= 100 * KB
    notes = harness.notifications()
    assert [n["Remediation_Status"] for n in notes] == ["LAMBDA_ERROR"], notes
    message = notes[0]["message"]
    assert f"StartAutomationExecution of ASR-SC_2.0.0_Lambda.1 in account {MEMBER} {REGION} failed" in message
    assert "ValidationException" in message and "Value at 'parameters'" in message
    assert is_public(session)  # nothing was changed
    assert _largest(result)[2] <= SFN_PAYLOAD_BYTES
    assert limits.SSM_AUTOMATION_PARAMETER_VALUE_CHARS == 512
