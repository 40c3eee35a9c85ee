"""aws:branch operators and step control: nextStep, isEnd, onFailure, isCritical, retries, timeouts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.simulator.helpers import doc, echo, fails, returns, script


def _branch(condition: dict[str, Any], default: str | None = "No") -> dict[str, Any]:
    inputs: dict[str, Any] = {"Choices": [{"NextStep": "Yes", **condition}]}
    if default:
        inputs["Default"] = default
    return {"name": "Choose", "action": "aws:branch", "inputs": inputs}


def _choose(run_doc, condition: dict[str, Any], value: Any, type_name: str = "String", default: str | None = "No"):
    document = doc(
        _branch(condition, default),
        returns("Yes", 1, isEnd=True),
        returns("No", 0, isEnd=True),
        parameters={"V": {"type": type_name}},
    )
    return run_doc(document, V=value)


V = "{{ V }}"
CASES = [
    ({"Variable": V, "StringEquals": "abc"}, "abc", "String", "Yes"),
    ({"Variable": V, "StringEquals": "abc"}, "ABC", "String", "No"),
    ({"Variable": V, "EqualsIgnoreCase": "abc"}, "ABC", "String", "Yes"),
    ({"Variable": V, "StartsWith": "arn:aws-cn:"}, "arn:aws-cn:s3:::b", "String", "Yes"),
    ({"Variable": V, "StartsWith": "arn:aws-cn:"}, "arn:aws:s3:::b", "String", "No"),
    ({"Variable": V, "Contains": "needle"}, "haystack-needle", "String", "Yes"),
    ({"Variable": V, "Contains": "b"}, ["a", "b"], "StringList", "Yes"),
    ({"Variable": V, "Contains": "c"}, ["a", "b"], "StringList", "No"),
    ({"Variable": V, "BooleanEquals": True}, "true", "Boolean", "Yes"),
    ({"Variable": V, "BooleanEquals": True}, "false", "Boolean", "No"),
    ({"Variable": V, "NumericEquals": 3}, "3", "Integer", "Yes"),
    ({"Variable": V, "NumericGreater": 3}, "3", "Integer", "No"),
    ({"Variable": V, "NumericGreater": 3}, "4", "Integer", "Yes"),
    ({"Variable": V, "NumericGreaterOrEquals": 3}, "3", "Integer", "Yes"),
    ({"Variable": V, "NumericLesser": 3}, "3", "Integer", "No"),
    ({"Variable": V, "NumericLesser": 3}, "2", "Integer", "Yes"),
    ({"Variable": V, "NumericLesserOrEquals": 3}, "3", "Integer", "Yes"),
    ({"Variable": V, "NumericLesserOrEquals": 3}, "4", "Integer", "No"),
    ({"And": [{"Variable": V, "StartsWith": "a"}, {"Variable": V, "Contains": "z"}]}, "abz", "String", "Yes"),
    ({"And": [{"Variable": V, "StartsWith": "a"}, {"Variable": V, "Contains": "z"}]}, "abc", "String", "No"),
    ({"Or": [{"Variable": V, "StringEquals": "x"}, {"Variable": V, "StringEquals": "y"}]}, "y", "String", "Yes"),
    ({"Or": [{"Variable": V, "StringEquals": "x"}, {"Variable": V, "StringEquals": "y"}]}, "z", "String", "No"),
    ({"Not": {"Variable": V, "StringEquals": ""}}, "", "String", "No"),
    ({"Not": {"Variable": V, "StringEquals": ""}}, "set", "String", "Yes"),
]


@pytest.mark.parametrize(("condition", "value", "type_name", "taken"), CASES)
def test_branch_operators(run_doc, condition, value, type_name, taken) -> None:
    execution = _choose(run_doc, condition, value, type_name)
    assert execution.status == "Success", execution.failure_message
    assert execution.executed_steps() == ["Choose", taken]


def test_branch_without_match_and_default_fails(run_doc) -> None:
    execution = _choose(run_doc, {"Variable": V, "StringEquals": "abc"}, "x", default=None)
    assert execution.status == "Failed"
    assert execution.failure_message == "Step Choose failed: no choice matched and the step has no Default"


def test_numeric_operator_on_text_fails_the_step(run_doc) -> None:
    execution = _choose(run_doc, {"Variable": V, "NumericGreater": 1}, "abc")
    assert execution.failure_message == "Step Choose failed: 'abc' is not a number"


def test_branch_on_a_step_output(run_doc) -> None:
    step = returns("Probe", {"state": "Enabled"}, outputs=[{"Name": "State", "Selector": "$.Payload.state"}])
    branch = {
        "name": "Choose",
        "action": "aws:branch",
        "inputs": {
            "Choices": [{"NextStep": "Done", "Variable": "{{ Probe.State }}", "StringEquals": "Enabled"}],
            "Default": "Fix",
        },
    }
    execution = run_doc(doc(step, branch, returns("Fix", 1), returns("Done", 2)))
    assert execution.executed_steps() == ["Probe", "Choose", "Done"]


# -- flow ----------------------------------------------------------------------------


def test_next_step_and_is_end(run_doc) -> None:
    execution = run_doc(
        doc(returns("A", 1, nextStep="C"), returns("B", 2), returns("C", 3, isEnd=True), returns("D", 4))
    )
    assert execution.executed_steps() == ["A", "C"]
    assert execution.status == "Success"


def test_on_failure_abort_is_the_default(run_doc) -> None:
    execution = run_doc(doc(fails("A"), returns("B", 1)))
    assert execution.executed_steps() == ["A"]
    assert execution.status == "Failed"
    assert execution.failure_message == "Step A failed: ValueError: boom"
    assert execution.step("A").to_dict()["OnFailure"] == "Abort"


def test_on_failure_continue_of_a_critical_step_still_fails_the_run(run_doc) -> None:
    execution = run_doc(doc(fails("A", onFailure="Continue"), returns("B", 1)))
    assert execution.executed_steps() == ["A", "B"]
    assert execution.step("B").status == "Success"
    assert execution.status == "Failed"
    assert execution.failure_message == "Step A failed: ValueError: boom"


def test_on_failure_continue_of_a_non_critical_step_succeeds(run_doc) -> None:
    execution = run_doc(doc(fails("A", onFailure="Continue", isCritical=False), returns("B", 1)))
    assert execution.executed_steps() == ["A", "B"]
    assert execution.status == "Success"
    assert execution.failure_message is None


def test_on_failure_goes_to_a_step(run_doc) -> None:
    execution = run_doc(doc(fails("A", onFailure="step:Cleanup"), returns("B", 1), returns("Cleanup", 2)))
    assert execution.executed_steps() == ["A", "Cleanup"]
    assert execution.status == "Failed"


def test_on_cancel_is_accepted(run_doc) -> None:
    assert run_doc(doc(returns("A", 1, onCancel="Abort"))).status == "Success"


RETRY = """
import boto3
def handler(events, context):
    ssm = boto3.client("ssm")
    try:
        n = int(ssm.get_parameter(Name="/tries")["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        n = 0
    ssm.put_parameter(Name="/tries", Value=str(n + 1), Type="String", Overwrite=True)
    if n + 1 < events["succeed_on"]:
        raise RuntimeError(f"attempt {n + 1}")
    return n + 1
"""


@pytest.mark.parametrize(
    ("max_attempts", "succeed_on", "status", "attempts"),
    [(3, 3, "Success", 3), (2, 3, "Failed", 2), (1, 1, "Success", 1)],
)
def test_max_attempts_retries_the_step(run_doc, max_attempts, succeed_on, status, attempts) -> None:
    step = script(
        "Flaky",
        RETRY,
        payload={"succeed_on": succeed_on},
        maxAttempts=max_attempts,
        outputs=[{"Name": "Tries", "Selector": "$.Payload", "Type": "Integer"}],
    )
    execution = run_doc(doc(step))
    assert execution.status == status
    assert execution.step("Flaky").attempts == attempts
    if status == "Success":
        assert execution.step("Flaky").outputs["Tries"] == attempts
        assert execution.step("Flaky").failure_message is None
    else:
        assert execution.failure_message == f"Step Flaky failed: RuntimeError: attempt {attempts}"


def test_timeout_seconds_applies_to_a_step_that_takes_longer(run_doc, clock) -> None:
    slow = script("Slow", "def handler(e, c):\n    CLOCK.advance(120)\n    return 1\n", timeoutSeconds=60)
    document = doc(slow, returns("Next", 1))
    import asr.simulator.actions.script as script_action

    original = script_action._load

    def load(step, text):
        module = original(step, text)
        module.CLOCK = clock
        return module

    script_action._load = load
    try:
        execution = run_doc(document)
    finally:
        script_action._load = original
    assert execution.status == "TimedOut"
    assert execution.failure_message == "Step Slow timed out: the step ran longer than timeoutSeconds 60"


def test_timed_out_step_with_continue(run_doc) -> None:
    nap = {
        "name": "Nap",
        "action": "aws:sleep",
        "timeoutSeconds": 1,
        "onFailure": "Continue",
        "inputs": {"Duration": "PT5S"},
    }
    execution = run_doc(doc(nap, returns("After", 1)))
    assert execution.executed_steps() == ["Nap", "After"]
    assert execution.step("Nap").status == "TimedOut"
    assert execution.status == "Failed"


def test_loop_with_branch_terminates(run_doc) -> None:
    counter = script(
        "Count",
        "import boto3\ndef handler(e, c):\n    s = boto3.client('ssm')\n"
        "    try:\n        n = int(s.get_parameter(Name='/n')['Parameter']['Value'])\n"
        "    except s.exceptions.ParameterNotFound:\n        n = 0\n"
        "    s.put_parameter(Name='/n', Value=str(n + 1), Type='String', Overwrite=True)\n"
        "    return n + 1\n",
        outputs=[{"Name": "N", "Selector": "$.Payload", "Type": "Integer"}],
    )
    branch = {
        "name": "Again",
        "action": "aws:branch",
        "inputs": {
            "Choices": [{"NextStep": "Count", "Variable": "{{ Count.N }}", "NumericLesser": 3}],
            "Default": "Done",
        },
    }
    execution = run_doc(doc(counter, branch, returns("Done", 1)))
    assert execution.executed_steps() == ["Count", "Again"] * 3 + ["Done"]
    assert execution.step("Count").outputs["N"] == 3


def test_document_outputs_like_ssm(run_doc) -> None:
    document = doc(
        returns("A", ["x", "y"], outputs=[{"Name": "L", "Selector": "$.Payload", "Type": "StringList"}]),
        fails("B", onFailure="Continue", isCritical=False, outputs=[{"Name": "O", "Selector": "$.Payload"}]),
        outputs=["A.L", "B.O"],
    )
    execution = run_doc(document)
    assert execution.to_dict()["Outputs"] == {
        "A.L": ["x", "y"],
        "B.O": ["No output available yet because the step is not successfully executed"],
    }


def test_global_and_automation_variables(run_doc) -> None:
    execution = run_doc(
        doc(
            echo(
                "E",
                {
                    "acct": "{{ global:ACCOUNT_ID }}",
                    "region": "{{global:REGION}}",
                    "partition": "{{ global:AWS_PARTITION }}",
                    "id": "{{ automation:EXECUTION_ID }}",
                    "arn": "arn:{{ global:AWS_PARTITION }}:s3:::b-{{ global:ACCOUNT_ID }}",
                    "date": "{{ global:DATE }}",
                },
            )
        )
    )
    from tests.simulator.helpers import events_of

    assert events_of(execution, "E") == {
        "acct": "111111111111",
        "region": "us-east-1",
        "partition": "aws",
        "id": execution.automation_execution_id,
        "arn": "arn:aws:s3:::b-111111111111",
        "date": "2024-01-01",
    }


def test_partition_follows_the_region(run_doc) -> None:
    execution = run_doc(doc(echo("E", {"p": "{{ global:AWS_PARTITION }}"})), _region="cn-north-1")
    from tests.simulator.helpers import events_of

    assert events_of(execution, "E") == {"p": "aws-cn"}
