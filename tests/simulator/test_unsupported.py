"""Anything the runner does not implement fails the run with "unsupported: ..." -- never a silent pass."""

from __future__ import annotations

from typing import Any

import pytest

from tests.simulator.helpers import doc, fails, returns

CASES: list[tuple[dict[str, Any], str]] = [
    (
        doc({"name": "Run", "action": "aws:runCommand", "inputs": {"DocumentName": "AWS-RunShellScript"}}),
        "unsupported: action 'aws:runCommand' in step 'Run'",
    ),
    ({**doc(returns("A", 1)), "files": {"a.zip": {}}}, "unsupported: document field 'files'"),
    ({**doc(returns("A", 1)), "schemaVersion": "2.2"}, "unsupported: schemaVersion '2.2'"),
    (doc({**returns("A", 1), "retryPolicy": "x"}), "unsupported: step field 'retryPolicy' in step 'A'"),
    (doc({**returns("A", 1), "onFailure": "Retry"}), "unsupported: onFailure 'Retry'"),
    (
        doc(returns("A", 1), parameters={"P": {"type": "IntegerList", "default": []}}),
        "unsupported: data type 'IntegerList'",
    ),
    (
        doc(returns("A", 1), parameters={"P": {"type": "String", "default": "", "secret": True}}),
        "unsupported: parameter field 'secret' of parameter 'P'",
    ),
    (
        doc(
            {
                "name": "S",
                "action": "aws:executeScript",
                "inputs": {"Runtime": "PowerShell 7.4", "Handler": "h", "Script": "x"},
            }
        ),
        "unsupported: executeScript Runtime 'PowerShell 7.4'",
    ),
    (
        doc(
            {
                "name": "S",
                "action": "aws:executeScript",
                "inputs": {"Runtime": "python3.11", "Handler": "h", "Script": "", "Attachment": "a.zip"},
            }
        ),
        "unsupported: input 'Attachment' of aws:executeScript",
    ),
    (
        doc(
            {
                "name": "B",
                "action": "aws:branch",
                "inputs": {"Choices": [{"NextStep": "B", "Variable": "x", "StringMatches": "x"}]},
            }
        ),
        "unsupported: branch operator 'StringMatches'",
    ),
    (doc(returns("A", 1, outputs=[{"Name": "X", "Selector": "$.Payload[?(@.a)]"}])), "unsupported: JSONPath syntax"),
    (
        doc(
            {
                "name": "E",
                "action": "aws:executeScript",
                "inputs": {
                    "Runtime": "python3.11",
                    "Handler": "handler",
                    "Script": "def handler(e, c):\n  return e\n",
                    "InputPayload": {"x": "{{ ssm-secure:/pw }}"},
                },
            }
        ),
        "unsupported: variable namespace 'ssm-secure'",
    ),
    (
        doc(
            {"name": "C", "action": "aws:executeAutomation", "inputs": {"DocumentName": "Child", "MaxConcurrency": "2"}}
        ),
        "unsupported: input 'MaxConcurrency' of aws:executeAutomation",
    ),
    (
        doc({"name": "T", "action": "aws:createTags", "inputs": {"ResourceIds": ["i-1"], "Tags": [], "Extra": 1}}),
        "unsupported: input 'Extra' of aws:createTags",
    ),
    (
        doc(
            {
                **returns("A", 1),
                "action": "aws:sleep",
                "inputs": {"Duration": "PT1S"},
                "outputs": [{"Name": "X", "Selector": "$"}],
            }
        ),
        "unsupported: custom outputs on aws:sleep",
    ),
]


@pytest.mark.parametrize(("document", "message"), CASES)
def test_unsupported_feature_fails_the_run(run_doc, document, message) -> None:
    execution = run_doc(document)
    assert execution.status == "Failed"
    assert execution.failure_message.startswith(message), execution.failure_message


def test_unsupported_feature_is_not_skipped_by_on_failure_continue(run_doc) -> None:
    step = {
        "name": "S",
        "action": "aws:executeScript",
        "onFailure": "Continue",
        "isCritical": False,
        "inputs": {"Runtime": "python3.11", "Handler": "handler", "Script": "def handler(e, c):\n  return 1\n"},
        "outputs": [{"Name": "X", "Selector": "$.Payload[0:1]"}],
    }
    execution = run_doc(doc(step, returns("After", 1)))
    assert execution.status == "Failed"
    assert execution.executed_steps() == ["S"]
    assert execution.failure_message.startswith("unsupported: JSONPath syntax")


def test_unsupported_in_a_child_fails_the_parent_as_unsupported(run_doc, registry) -> None:
    registry.add("Child", doc({"name": "Run", "action": "aws:runCommand", "inputs": {}}))
    parent = doc(
        {
            "name": "Call",
            "action": "aws:executeAutomation",
            "onFailure": "Continue",
            "inputs": {"DocumentName": "Child"},
        },
        returns("After", 1),
    )
    execution = run_doc(parent)
    assert execution.status == "Failed"
    assert execution.failure_message.startswith("unsupported: action 'aws:runCommand'")
    assert "in child execution" in execution.failure_message


def test_document_errors_fail_the_run(run_doc) -> None:
    execution = run_doc(doc(returns("A", 1, nextStep="Nowhere")))
    assert execution.failure_message == "step 'A' goes to unknown step 'Nowhere'"
    execution = run_doc(doc(fails("A"), returns("A", 1)))
    assert execution.failure_message == "duplicate step name 'A'"
    execution = run_doc(
        doc({**returns("A", 1), "inputs": {"Runtime": "python3.11", "Handler": "h", "Script": "{{ Missing }}"}})
    )
    assert execution.failure_message == "{{ Missing }} names no parameter of the document"
