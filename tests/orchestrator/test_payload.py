"""Issue 14, item 3: every state of the synthesized state machine within Step Functions'
262,144-byte payload limit, for findings up to Security Hub's 240 KB.

Step Functions: state input/output "Length constraints apply to the payload size, and are
expressed as bytes in UTF-8 encoding ... Maximum length of 262144"
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_StateEnteredEventDetails.html);
Security Hub accepts "up to 240 KB per finding"
(https://docs.aws.amazon.com/securityhub/latest/partnerguide/guidelines-batchimportfindings.html).
moto does not enforce the limit: each test measures every input, output, parameters and
cause of the execution history.
"""

from __future__ import annotations

import json

import boto3
import pytest

from asr import solution
from asr.simulator.findings import custom_action_event
from lambdas.orchestrator import payload
from lambdas.orchestrator.finding import Finding
from tests.orchestrator.harness import MEMBER, REGION, Harness
from tests.orchestrator.scenarios import is_public, lambda1_finding, member_with_lambda1

SFN_PAYLOAD_BYTES = 262_144
KB = 1024


def padded(finding: dict, size: int) -> dict:
    """``finding`` grown to ``size`` bytes of JSON (never shrunk: the plain finding is about 1 KB)
    with legal ASFF content: further resources (``Type`` ``Other``) whose ``Details.Other`` holds
    text, partly non-ASCII, so that bytes, JSON escapes and characters differ."""
    out = json.loads(json.dumps(finding))
    chunk = "Lorem ipsum dolor sit amet, \u00e9 \u00fc \u00f8 \u65e5\u672c " * 100

    def resource(n: int, note: str) -> dict:
        arn = f"arn:aws:lambda:{REGION}:{MEMBER}:function:bystander-{n}"
        return {"Type": "Other", "Id": arn, "Region": REGION, "Details": {"Other": {"note": note}}}

    n = 0
    while payload.finding_bytes(out) + 2 * len(json.dumps(resource(n, chunk))) < size:
        out["Resources"].append(resource(n, chunk))
        n += 1
    if payload.finding_bytes(out) + 400 < size:
        out["Resources"].append(resource(n, ""))
        out["Resources"][-1]["Details"]["Other"]["note"] = "x" * (size - payload.finding_bytes(out))
        assert payload.finding_bytes(out) == size
    return out


def _largest(result) -> tuple[str, str, int]:
    return max(result.payloads(), key=lambda entry: entry[2])


@pytest.mark.parametrize("size", [1 * KB, 100 * KB, 240 * KB], ids=["1KB-plain", "100KB", "240KB"])
def test_findings_up_to_240_kb_are_remediated_within_the_payload_limit(harness: Harness, size):
    harness.install_playbook()
    session, function_arn = member_with_lambda1(harness)
    finding = padded(lambda1_finding(function_arn), size)
    harness.import_finding(finding)
    event = custom_action_event([finding])
    assert len(json.dumps(event).encode()) <= SFN_PAYLOAD_BYTES  # what EventBridge can deliver

    result = harness.run(event)

    assert result.status == "SUCCEEDED", result.history[-3:]
    assert not is_public(session)  # the remediation ran
    notes = harness.notifications()
    assert [n["Remediation_Status"] for n in notes] == ["QUEUED", "SUCCESS"]
    assert notes[1]["finding"]["finding_arn"] == finding["Id"]
    assert harness.finding(finding["Id"])["Workflow"]["Status"] == "RESOLVED"
    # every state input/output, task parameter and answer within the limit
    event_type, field, largest = _largest(result)
    print(f"\n{size} B finding: largest payload {largest} B ({event_type} {field})")
    assert largest <= SFN_PAYLOAD_BYTES, (event_type, field, largest)
    # the finding is carried once: inline when small, by reference when large
    [resolved] = [i.result for i in harness.dispatcher.invocations if i.function == solution.RESOLVE_FUNCTION]
    if size <= payload.INLINE_FINDING_BYTES:
        assert resolved["Finding"] == finding and "FindingRef" not in resolved
    else:
        ref = resolved["FindingRef"]
        assert ref["Bucket"] == harness.findings_bucket and ref["Key"].startswith(payload.KEY_PREFIX)
        assert len(json.dumps(resolved).encode()) < 16 * KB
        stored = harness.client("s3").get_object(Bucket=ref["Bucket"], Key=ref["Key"])["Body"].read()
        assert json.loads(stored) == finding
    # the runbook got the whole finding, not the digest
    [started] = harness.router.started
    execution = harness.router.runner.get_execution(started.execution_id).to_dict()
    given = execution["Parameters"]["Finding"]
    given = given[0] if isinstance(given, list) else given
    assert (json.loads(given) if isinstance(given, str) else given) == finding
    # the worker's SQS messages stay small too
    bodies = [
        len(record["body"].encode())
        for i in harness.dispatcher.invocations
        if i.function == solution.WORKER_FUNCTION
        for record in i.event["Records"]
    ]
    assert bodies and max(bodies) <= SFN_PAYLOAD_BYTES


def test_a_large_finding_that_fails_to_resolve_is_notified_within_the_limit(harness: Harness):
    """The resolve Lambda crashing with a 240 KB finding: the Catch adds the error to the item,
    the notifier reports it, and no state grows past the limit."""
    harness.install_playbook()
    member_with_lambda1(harness)
    finding = padded(lambda1_finding(f"arn:aws:lambda:{REGION}:{MEMBER}:function:public-fn"), 240 * KB)
    harness.dispatcher.crash[solution.RESOLVE_FUNCTION] = "Task timed out after 60.00 seconds"

    result = harness.run(custom_action_event([finding]))

    assert result.status == "SUCCEEDED"
    assert [n["Remediation_Status"] for n in harness.notifications()] == ["LAMBDA_ERROR"]
    assert _largest(result)[2] <= SFN_PAYLOAD_BYTES, _largest(result)


def test_the_digest_parses_as_the_whole_finding():
    finding = padded(lambda1_finding(f"arn:aws:lambda:{REGION}:{MEMBER}:function:f"), 200 * KB)
    whole, digest = Finding.parse(finding), Finding.parse(payload.digest(finding))
    for name in (
        "id",
        "product_arn",
        "account",
        "region",
        "resource_region",
        "resource_type",
        "resource_id",
        "title",
        "severity",
        "workflow_status",
        "product_name",
        "partition",
        "standard_name",
        "standard_version",
        "control_id",
        "security_control_id",
    ):
        assert getattr(digest, name) == getattr(whole, name), name
    assert payload.finding_bytes(payload.digest(finding)) < 8 * KB


def test_a_stored_finding_that_expired_is_named(harness: Harness, monkeypatch):
    monkeypatch.setenv(payload.BUCKET_ENV, harness.findings_bucket)
    finding = padded(lambda1_finding(f"arn:aws:lambda:{REGION}:{MEMBER}:function:f"), 70 * KB)
    carried = payload.carry(finding)
    assert payload.full_finding(carried) == finding
    boto3.client("s3", region_name=REGION).delete_object(
        Bucket=carried["FindingRef"]["Bucket"], Key=carried["FindingRef"]["Key"]
    )
    with pytest.raises(payload.FindingStoreError, match=r"findings/[0-9a-f]{64}\.json is gone \(NoSuchKey\)"):
        payload.full_finding(carried)
