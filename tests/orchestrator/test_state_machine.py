"""Every terminal path of the synthesized state machine sends a notification (issue 14).

First a walk of the synthesized definition: every Task retries and catches, every path to an
end passes through a notification that succeeded, and the only other end is the loud
``Notification Failed`` (the execution FAILS) after the notifier *and* its fallback failed.
Then the failures themselves, run on moto's interpreter: the resolve Lambda crashing, the
worker failing, the notifier crashing once, always, and with SNS gone as well.
"""

from __future__ import annotations

from typing import Any

import pytest

from asr import solution
from asr.simulator.findings import custom_action_event
from tests.orchestrator.harness import MEMBER, REGION, Harness, machine_definition
from tests.orchestrator.scenarios import lambda1_finding, member_with_lambda1

ALL = "States.ALL"
#: Tasks whose success means a notification went out.
NOTIFIERS = {"Notify Orchestrator Failure", "Send Ticket Notification", "Notify Fallback"}
#: Choice branches taken only after a Lambda notified the outcome itself: resolve notifies every
#: outcome but READY; the worker notifies the final outcome unless a ticket is requested.
NOTIFIED_BRANCHES = {("Ready to Remediate?", "Default"), ("Ticket Requested?", "Default")}
#: The one allowed end without a notification: after the notifier and the fallback failed.
LOUD_FAILURE = "Notification Failed"
#: Before the Map: the event's fields the Map reads, checked (a missing path is a States.Runtime
#: error, which no Catch handles), with their own notifier and fallback.
MAP = "Process Findings"
EVENT_NOTIFIERS = {"Notify Bad Event", "Bad Event Notify Fallback"}
EVENT_LOUD_FAILURE = "Bad Event Notification Failed"
LAMBDA_TRANSIENT = {"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException"}


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    return machine_definition()


def _item(definition: dict[str, Any]) -> dict[str, Any]:
    [(name, process)] = [(n, s) for n, s in definition["States"].items() if s["Type"] == "Map"]
    assert name == MAP and process.get("End") is True, name
    assert "Catch" not in process  # an item that fails fails the execution: never hidden
    return process["ItemProcessor"]


def _edges(name: str, state: dict[str, Any]) -> list[tuple[str, str | None, bool]]:
    """(kind, next state or None for an end, notified by taking this edge)."""
    kind = state["Type"]
    if kind == "Choice":
        out = [("choice", rule["Next"], False) for rule in state["Choices"]]
        out.append(("choice", state["Default"], (name, "Default") in NOTIFIED_BRANCHES))
        return out
    if kind in ("Succeed", "Fail"):
        return []
    edges = [("ok", state.get("Next"), name in NOTIFIERS)]
    edges += [("catch", c["Next"], False) for c in state.get("Catch", [])]
    return edges


def _paths(processor: dict[str, Any]) -> list[list[tuple[str, str, bool]]]:
    """Every path from StartAt to an end: [(state, edge kind, notified so far)]."""
    states, paths = processor["States"], []

    def walk(name: str, notified: bool, path: list, seen: frozenset) -> None:
        assert name not in seen, f"cycle through {name}"
        state = states[name]
        edges = _edges(name, state)
        if not edges:
            paths.append([*path, (name, state["Type"], notified)])
            return
        for kind, nxt, notifies in edges:
            step = [*path, (name, kind, notified or notifies)]
            if nxt is None:  # End: true
                paths.append([*step, ("<end>", "end", notified or notifies)])
            else:
                walk(nxt, (notified or notifies) if kind != "catch" else notified, step, seen | {name})

    walk(processor["StartAt"], False, [], frozenset())
    return paths


def test_every_task_retries_and_catches_everything(definition):
    states = _item(definition)["States"]
    tasks = {name: s for name, s in states.items() if s["Type"] == "Task"}
    assert set(tasks) >= {"Resolve Target", "Schedule and Run Remediation", "Generate Ticket", *NOTIFIERS}
    for name, task in tasks.items():
        assert [c["ErrorEquals"] for c in task.get("Catch", [])] == [[ALL]], f"{name} must catch States.ALL"
        assert task.get("Retry"), f"{name} has no Retry"
        assert "TimeoutSeconds" in task, f"{name} could wait for the execution's own timeout (no notification)"
    for name in ("Resolve Target", "Generate Ticket"):  # Lambda's own transient failures, not our errors
        retried = {e for r in tasks[name]["Retry"] for e in r["ErrorEquals"]}
        assert retried >= LAMBDA_TRANSIENT and ALL not in retried, name
    for name in NOTIFIERS:  # a notification is worth another try, whatever failed
        assert any(ALL in r["ErrorEquals"] for r in tasks[name]["Retry"]), name
    # the worker's answers (ASR.*) are final: only the SQS integration's own errors are retried
    retried = {e for r in tasks["Schedule and Run Remediation"]["Retry"] for e in r["ErrorEquals"]}
    assert retried and all(e.startswith("SQS.") for e in retried)


def test_every_terminal_path_passes_through_a_notification(definition):
    processor = _item(definition)
    paths = _paths(processor)
    assert len(paths) >= 10
    ends = set()
    for path in paths:
        last, kind, notified = path[-1]
        ends.add(last)
        if last == LOUD_FAILURE:
            assert kind == "Fail"
            # reached only from the fallback's Catch, after a notifier's Catch: every attempt failed
            assert [(s, k) for s, k, _ in path[-3:-1]] == [(path[-3][0], "catch"), ("Notify Fallback", "catch")]
            assert path[-3][0] in NOTIFIERS - {"Notify Fallback"}
            continue
        assert notified, f"ends at {last} without a notification: {[s for s, _, _ in path]}"
    assert {"Outcome Notified", "Remediation Complete", LOUD_FAILURE} <= ends


def test_every_path_before_the_map_reaches_it_or_a_notification(definition):
    """The event check: every way out is the Map (whose items notify, above), a notification of
    the bad event, or the loud Fail after that notifier and its fallback failed."""
    states = definition["States"]
    assert definition["StartAt"] == "Event Has Findings?" and states["Event Has Findings?"]["Type"] == "Choice"
    ends: list[tuple[str, bool]] = []

    def walk(name: str, notified: bool, seen: frozenset) -> None:
        assert name not in seen, f"cycle through {name}"
        state = states[name]
        if name == MAP:
            ends.append((name, True))
            return
        edges = (
            _edges(name, state)
            if name not in EVENT_NOTIFIERS
            else [
                ("ok", state.get("Next"), True),
                *[("catch", c["Next"], False) for c in state.get("Catch", [])],
            ]
        )
        if not edges:
            ends.append((name, notified or name == EVENT_LOUD_FAILURE))
        for kind, nxt, notifies in edges:
            if nxt is None:
                ends.append((name, notified or notifies))
            else:
                walk(nxt, (notified or notifies) if kind != "catch" else notified, seen | {name})

    walk(definition["StartAt"], False, frozenset())
    assert all(notified for _, notified in ends), ends
    assert {name for name, _ in ends} == {MAP, "Notify Bad Event", "Bad Event Notify Fallback", EVENT_LOUD_FAILURE}
    for name in EVENT_NOTIFIERS:
        assert [c["ErrorEquals"] for c in states[name]["Catch"]] == [[ALL]] and states[name]["Retry"], name


def test_the_remediation_task_times_out_before_the_execution(definition):
    """The execution's own timeout ends it with no notification: the long task times out first,
    leaving room for resolve and the notifier."""
    states = _item(definition)["States"]
    budget = definition["TimeoutSeconds"]
    longest = max(
        sum(states[s]["TimeoutSeconds"] for s, _, _ in path if s in states and states[s]["Type"] == "Task")
        for path in _paths(_item(definition))
    )
    assert states["Schedule and Run Remediation"]["TimeoutSeconds"] < budget
    assert longest < budget, (longest, budget)


# --- the failures, run -----------------------------------------------------------------------------


def _finding() -> dict:
    return lambda1_finding(f"arn:aws:lambda:{REGION}:{MEMBER}:function:public-fn")


def test_resolve_crashing_is_notified(harness: Harness):
    harness.install_playbook()
    member_with_lambda1(harness)
    harness.dispatcher.crash[solution.RESOLVE_FUNCTION] = "Runtime exited with error: signal: killed"

    result = harness.run(custom_action_event([_finding()]))

    assert result.status == "SUCCEEDED"
    [note] = harness.notifications()
    assert note["Remediation_Status"] == "LAMBDA_ERROR" and "signal: killed" in note["message"]
    assert harness.router.started == []


def test_worker_failing_is_notified(harness: Harness, monkeypatch):
    from lambdas.orchestrator import worker

    harness.install_playbook()
    member_with_lambda1(harness)

    def broken(self, body):
        raise RuntimeError("scheduling table unreadable")

    monkeypatch.setattr(worker.Worker, "process", broken)

    result = harness.run(custom_action_event([_finding()]))

    assert result.status == "SUCCEEDED"
    [note] = harness.notifications()
    assert note["Remediation_Status"] == "LAMBDA_ERROR"
    assert "ASR.WorkerError" in note["message"] and "scheduling table unreadable" in note["message"]
    assert "Notify Orchestrator Failure" in result.states()


def test_notify_crashing_once_is_retried(harness: Harness):
    harness.install_playbook()
    member_with_lambda1(harness)
    harness.dispatcher.crash[solution.RESOLVE_FUNCTION] = "Task timed out after 60.00 seconds"
    harness.dispatcher.crash_times[solution.NOTIFY_FUNCTION] = 1

    result = harness.run(custom_action_event([_finding()]))

    assert result.status == "SUCCEEDED"
    [note] = harness.notifications()
    assert note["Remediation_Status"] == "LAMBDA_ERROR" and "Task timed out" in note["message"]
    assert harness.dispatcher.count(solution.NOTIFY_FUNCTION) == 2
    assert harness.retry_waits == [2]  # one Retry wait (recorded on the fake clock, never slept)
    assert "Notify Fallback" not in result.states()


def test_notify_crashing_every_time_falls_back_to_a_minimal_message(harness: Harness):
    harness.install_playbook()
    member_with_lambda1(harness)
    harness.dispatcher.crash[solution.RESOLVE_FUNCTION] = "Task timed out after 60.00 seconds"
    harness.dispatcher.crash[solution.NOTIFY_FUNCTION] = "Runtime exited with error: signal: killed"

    result = harness.run(custom_action_event([_finding()]))

    assert result.status == "SUCCEEDED"
    [note] = harness.notifications()
    assert (note["Remediation_Status"], note["severity"]) == ("LAMBDA_ERROR", "ERROR")
    assert result.arn in note["message"] and note["execution"] == result.arn
    assert harness.dispatcher.count(solution.NOTIFY_FUNCTION) == 4  # first try + 3 retries (MaxAttempts)
    assert "Notify Fallback" in result.states()


def test_when_even_the_fallback_fails_the_execution_fails_loudly(harness: Harness):
    harness.install_playbook()
    member_with_lambda1(harness)
    harness.dispatcher.crash[solution.RESOLVE_FUNCTION] = "Task timed out after 60.00 seconds"
    harness.dispatcher.crash[solution.NOTIFY_FUNCTION] = "Runtime exited with error: signal: killed"
    harness.client("sns").delete_topic(TopicArn=harness.topic_arn)

    result = harness.run(custom_action_event([_finding()]))

    assert result.status == "FAILED"
    assert result.states()[-1] == LOUD_FAILURE
    failed = [e for e in result.history if e["type"] == "ExecutionFailed"]
    assert failed, result.history[-3:]
