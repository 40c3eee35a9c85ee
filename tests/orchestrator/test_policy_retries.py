"""The remediation policy's retries, run by the worker through the scheduler (issue 18;
lambdas/orchestrator/worker.py, docs/policy.md "Retries"): the synthesized state machine on moto,
the policy written by ``asr policy apply``, every call under the IAM enforcer.

Time: the worker's clock is fake, and a message the worker sends back with a delay (a retry's
backoff, the account+Region spacing) moves it by that delay before it is delivered, at once: the
test sees every delay the worker asked for, and nothing sleeps.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from asr import solution
from lambdas.orchestrator import enforce, history, worker
from tests.orchestrator.harness import MEMBER, REGION, Harness
from tests.orchestrator.scenarios import is_public, lambda1_finding, member_with_lambda1, public_function
from tests.orchestrator.test_policy_enforcement import BUCKET, KEY, PARAMETERS, PolicyHarness, apply, auto, records

pytestmark = pytest.mark.stack_parameters(**PARAMETERS)

MISSING = "late-fn"  # the finding names it before it exists: the remediation fails
MISSING_ARN = f"arn:aws:lambda:{REGION}:{MEMBER}:function:{MISSING}"


class Clock:
    """The worker's time, moved only by the delays it asks SQS for."""

    def __init__(self) -> None:
        self.now = time.time()
        self.lock = threading.Lock()  # the Map's items run their workers in threads
        self.delays: list[float] = []
        self.starts: list[float] = []  # the worker's clock at each start it claimed
        #: called once with the delay, before the message of the first delay >= 1 s is delivered
        self.before_retry: Callable[[float], Any] | None = None

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(worker, "clock", fake)
    send = worker.Worker._requeue

    def requeue(self: worker.Worker, body: dict, delay: float) -> None:
        fake.delays.append(delay)
        if delay >= 1 and fake.before_retry is not None:
            hook, fake.before_retry = fake.before_retry, None
            # as the test, not as the worker's role whose call this is: a thread of its own
            errors: list[BaseException] = []

            def run() -> None:
                try:
                    hook(delay)
                except BaseException as err:  # re-raised below, in the worker's call
                    errors.append(err)

            done = threading.Thread(target=run)
            done.start()
            done.join()
            if errors:
                raise errors[0]
        with fake.lock:
            fake.now += max(0.0, delay)  # the message waits its DelaySeconds
        send(self, body, 0)

    claim = worker.Worker._claim_start

    def claim_start(self: worker.Worker, *args: Any) -> float:
        with fake.lock:  # the clock stands still from the claim's reading to its record
            at = fake.now
            wait = claim(self, *args)
            if wait == 0:  # as the table stores it: milliseconds
                fake.starts.append(float(worker._num(at)))
        return wait

    monkeypatch.setattr(worker.Worker, "_requeue", requeue)
    monkeypatch.setattr(worker.Worker, "_claim_start", claim_start)
    return fake


@pytest.fixture
def h(moto_admin: None, monkeypatch: pytest.MonkeyPatch, clock: Clock) -> Harness:
    monkeypatch.setattr(enforce, "_cache", None)
    return PolicyHarness(monkeypatch)


def retries(attempts: int = 3, backoff: int = 60, *, on: str = "[FAILED, TIMEDOUT]", cap: int = 10) -> str:
    return (
        "version: 1\nglobal:\n"
        f"  retries: {{attempts: {attempts}, backoff_seconds: {backoff}, on: {on}, cap_per_account_region: {cap}}}\n"
    )


def failing(h: Harness, name: str = MISSING) -> dict:
    h.install_playbook()
    member_with_lambda1(h)
    finding = lambda1_finding(f"arn:aws:lambda:{REGION}:{MEMBER}:function:{name}")
    h.import_finding(finding)
    return finding


def statuses(h: Harness) -> list[str]:
    return [n["Remediation_Status"] for n in h.notifications()]


def by_attempt() -> list[dict]:
    return sorted(records(), key=lambda r: int(r["Attempt"]))


def test_a_failed_attempt_is_retried_after_its_backoff_and_the_retry_succeeds(h: Harness, clock: Clock):
    applied = apply(retries(attempts=3, backoff=60))
    finding = failing(h)
    session = h.member()
    # the cause of the failure goes away while the retry waits (the function is created)
    clock.before_retry = lambda delay: public_function(session, MISSING)

    result = h.run(auto(finding))

    assert result.status == "SUCCEEDED", result.states()
    notes = h.notifications()
    assert [n["Remediation_Status"] for n in notes] == ["QUEUED", "FAILED", "QUEUED", "SUCCESS"]
    assert "Attempt 1 of 3: attempt 2 is scheduled in 60 s" in notes[1]["message"]
    assert f"s3://{PARAMETERS[solution.POLICY_BUCKET_PARAMETER]}" in notes[1]["message"]
    assert 60 in clock.delays
    assert not is_public(session, MISSING)
    # two automations, each with its attempt's tag
    [first, second] = h.router.started
    [tag1], [tag2] = first.tags, second.tags
    assert tag1.startswith(worker.TAG_PREFIX) and tag2 == f"{tag1}-2"
    assert second.execution_id != first.execution_id
    assert clock.starts[1] - clock.starts[0] >= 60
    # one history record per attempt: the first as the trigger, the retry as RETRY
    r1, r2 = by_attempt()
    assert (r1["Attempt"], r1["Initiator"], r1["Outcome"]) == ("1", history.AUTO, "FAILED")
    assert (r2["Attempt"], r2["Initiator"], r2["Outcome"]) == ("2", history.RETRY, "SUCCESS")
    assert r1[solution.HISTORY_KEY] != r2[solution.HISTORY_KEY]
    assert r1["AutomationExecutionId"] == first.execution_id and r2["AutomationExecutionId"] == second.execution_id
    assert r1["PolicyVersion"] == r2["PolicyVersion"] == applied.version_id
    assert h.finding(finding["Id"])["Workflow"]["Status"] == "RESOLVED"


def test_the_backoff_doubles_and_the_last_attempt_says_why_it_is_not_retried(h: Harness, clock: Clock):
    apply(retries(attempts=3, backoff=30))
    finding = failing(h)

    result = h.run(auto(finding))

    assert result.status == "SUCCEEDED"
    notes = h.notifications()
    assert [n["Remediation_Status"] for n in notes] == ["QUEUED", "FAILED"] * 3
    assert [d for d in clock.delays if d >= 1] == [30, 60]
    assert "attempt 2 is scheduled in 30 s" in notes[1]["message"]
    assert "attempt 3 is scheduled in 60 s" in notes[3]["message"]
    last = notes[5]["message"]
    assert "Not retried (RETRY_NOT_ALLOWED)" in last and "attempt 4 is beyond retries.attempts 3" in last
    assert len(h.router.started) == 3
    assert [(r["Attempt"], r["Initiator"]) for r in by_attempt()] == [
        ("1", history.AUTO),
        ("2", history.RETRY),
        ("3", history.RETRY),
    ]


def test_without_retries_in_the_policy_a_failure_is_final_and_says_nothing_of_retries(h: Harness, clock: Clock):
    apply("version: 1\ncontrols:\n  Lambda.1: {mode: auto}\n")
    finding = failing(h)

    h.run(auto(finding))

    notes = h.notifications()
    assert [n["Remediation_Status"] for n in notes] == ["QUEUED", "FAILED"]
    assert "retr" not in notes[1]["message"].lower()
    assert len(h.router.started) == 1 and [d for d in clock.delays if d >= 1] == []


def test_an_outcome_not_in_on_is_not_retried(h: Harness, clock: Clock):
    apply(retries(attempts=3, on="[TIMEDOUT]"))
    finding = failing(h)

    h.run(auto(finding))

    notes = h.notifications()
    assert [n["Remediation_Status"] for n in notes] == ["QUEUED", "FAILED"]
    assert "Not retried (RETRY_NOT_ALLOWED)" in notes[1]["message"]
    assert "outcome FAILED is not retried (retries.on: TIMEDOUT)" in notes[1]["message"]
    assert len(h.router.started) == 1


def test_a_timed_out_automation_is_retried(h: Harness, clock: Clock):
    apply(retries(attempts=2, backoff=10, on="[TIMEDOUT]"))
    h.install_playbook()
    _, function_arn = member_with_lambda1(h)
    h.router.status_override = "TimedOut"
    finding = lambda1_finding(function_arn)
    h.import_finding(finding)

    h.run(auto(finding))

    assert statuses(h) == ["QUEUED", "TIMEDOUT", "QUEUED", "TIMEDOUT"]
    assert len(h.router.started) == 2


def test_an_exemption_applied_while_the_retry_waits_stops_it(h: Harness, clock: Clock):
    apply(retries(attempts=3, backoff=60))
    finding = failing(h)

    def exempt(_delay: float) -> None:
        apply(
            retries(attempts=3, backoff=60)
            + "  exemptions:\n"
            + f"    - resource: {MISSING_ARN}\n"
            + "      reason: vendor-managed function\n      owner: platform@example.com\n"
            + "      expires: 2999-01-01T00:00:00Z\n"
        )
        enforce.clear_cache()  # the warm container's minute has passed

    clock.before_retry = exempt
    h.run(auto(finding))

    notes = h.notifications()
    assert [n["Remediation_Status"] for n in notes] == ["QUEUED", "FAILED", "EXEMPT"]
    # the retry was scheduled, then the policy, asked again when it was due, refused it
    assert "attempt 2 is scheduled in 60 s" in notes[1]["message"]
    assert notes[2]["message"].startswith("Retry 2 not made: Remediation policy s3://")
    assert "vendor-managed function" in notes[2]["message"] and "global.exemptions[0]" in notes[2]["message"]
    assert len(h.router.started) == 1
    assert [(r["Attempt"], r["Initiator"], r["Outcome"]) for r in by_attempt()] == [
        ("1", history.AUTO, "FAILED"),
        ("2", history.RETRY, "EXEMPT"),
    ]
    assert h.finding(finding["Id"])["Note"]["Text"].startswith("EXEMPT: ")


def test_a_policy_unreadable_when_the_retry_is_due_fails_closed(h: Harness, clock: Clock):
    apply(retries(attempts=3, backoff=60))
    finding = failing(h)

    def unreadable(_delay: float) -> None:
        boto3.client("s3", region_name=REGION).delete_object(Bucket=BUCKET, Key=f"{KEY}.json")
        enforce.clear_cache()

    clock.before_retry = unreadable
    result = h.run(auto(finding))

    assert result.status == "SUCCEEDED"
    notes = h.notifications()
    assert [n["Remediation_Status"] for n in notes] == ["QUEUED", "FAILED", "LAMBDA_ERROR"]
    assert "Retry 2 not made" in notes[2]["message"] and f"s3://{BUCKET}/{KEY}.json" in notes[2]["message"]
    assert "Notify Orchestrator Failure" in result.states()
    assert len(h.router.started) == 1


def test_a_retry_due_after_the_window_is_not_made(h: Harness, clock: Clock, monkeypatch: pytest.MonkeyPatch):
    apply(retries(attempts=2, backoff=3600))
    finding = failing(h)

    h.run(auto(finding))

    notes = h.notifications()
    assert [n["Remediation_Status"] for n in notes] == ["QUEUED", "FAILED"]
    window = int(worker.RETRY_WINDOW_DEFAULT)
    assert f"after the retry window of {window} s" in notes[1]["message"]
    assert len(h.router.started) == 1


def test_retries_keep_the_spacing_and_the_hourly_cap_of_the_account_region(
    h: Harness, clock: Clock, monkeypatch: pytest.MonkeyPatch
):
    apply(retries(attempts=3, backoff=5, cap=2))
    monkeypatch.setenv("REMEDIATION_WAIT_SECONDS", "3")
    h.install_playbook()
    member_with_lambda1(h)
    findings = [lambda1_finding(f"arn:aws:lambda:{REGION}:{MEMBER}:function:gone-{i}") for i in range(2)]
    for f in findings:
        h.import_finding(f)

    result = h.run(auto(findings[0]) | {"detail": {**auto(findings[0])["detail"], "findings": findings}})

    assert result.status == "SUCCEEDED"
    notes = h.notifications()
    finals = [n for n in notes if n["Remediation_Status"] != "QUEUED"]
    # 2 findings x 3 attempts would be 4 retries: the cap of 2 per hour allows two
    assert len(h.router.started) == 4
    capped = [n["message"] for n in finals if "has had its 2 retries of this hour" in n["message"]]
    assert len(capped) == 2, [n["message"] for n in finals]
    starts = sorted(clock.starts)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 3 - 1e-6, gaps  # the spacing, to the millisecond the table stores
    assert len(records()) == 4


def test_the_worker_passes_its_retry_window_from_the_template():
    from tests.orchestrator.harness import admin_template

    resources = admin_template()["Resources"]
    [env] = [
        r["Properties"]["Environment"]["Variables"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("FunctionName") == solution.WORKER_FUNCTION
    ]
    assert env["RETRY_WINDOW_SECONDS"] == str(worker.RETRY_WINDOW_DEFAULT)


def test_asr_history_lists_each_attempt(h: Harness, clock: Clock):
    """The report an operator reads after a retry: both attempts, newest first, with who asked."""
    import io

    from asr.cli import main

    apply(retries(attempts=3, backoff=60))
    finding = failing(h)
    session = h.member()
    clock.before_retry = lambda delay: public_function(session, MISSING)
    h.run(auto(finding))

    out, err = io.StringIO(), io.StringIO()
    assert main(["history", "--region", REGION, "--control", "Lambda.1"], out=out, err=err) == 0, err.getvalue()
    header, newest, oldest = out.getvalue().splitlines()[:3]
    columns = header.split()
    assert columns[4:7] == ["Outcome", "Initiator", "Attempt"]
    assert newest.split()[4:7] == ["SUCCESS", history.RETRY, "2"]
    assert oldest.split()[4:7] == ["FAILED", history.AUTO, "1"]
    assert MISSING in newest and MISSING in oldest
