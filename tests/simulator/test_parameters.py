"""Parameters: types, defaults, allowedPattern/allowedValues, missing and unknown ones."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from asr.simulator.errors import ParameterValidationError
from tests.simulator.conftest import ACCOUNT, REGION
from tests.simulator.helpers import doc, echo, events_of

PARAMETERS: dict[str, Any] = {
    "Name": {"type": "String", "allowedPattern": r"^[a-z][a-z0-9-]{2,62}$"},
    "Ids": {"type": "StringList", "allowedPattern": r"^i-[0-9a-f]+$", "default": ["i-0abc"]},
    "Count": {"type": "Integer", "default": 2},
    "Enabled": {"type": "Boolean", "default": False},
    "Tags": {"type": "StringMap", "default": {"team": "sec"}},
    "Rules": {"type": "MapList", "default": [{"Port": 22}]},
    "Mode": {"type": "String", "allowedValues": ["fast", "safe"], "default": "safe"},
}
PAYLOAD = {k: "{{ " + k + " }}" for k in PARAMETERS}


@pytest.fixture
def run(run_doc):
    def go(**params: Any):
        return run_doc(doc(echo("Echo", PAYLOAD), parameters=PARAMETERS), **params)

    return go


def test_typed_values_and_defaults_reach_the_step(run) -> None:
    execution = run(Name="bucket-1", Count="5", Enabled=["true"], Ids=["i-01", "i-0f"])
    assert execution.status == "Success", execution.failure_message
    assert events_of(execution, "Echo") == {
        "Name": "bucket-1",
        "Ids": ["i-01", "i-0f"],
        "Count": 5,
        "Enabled": True,
        "Tags": {"team": "sec"},
        "Rules": [{"Port": 22}],
        "Mode": "safe",
    }
    assert execution.to_dict()["Parameters"]["Count"] == ["5"]
    assert execution.to_dict()["Parameters"]["Ids"] == ["i-01", "i-0f"]


def test_json_text_for_map_types(run) -> None:
    execution = run(Name="abc", Tags='{"a": "b"}', Rules='[{"x": 1}, {"y": 2}]')
    assert events_of(execution, "Echo")["Tags"] == {"a": "b"}
    assert events_of(execution, "Echo")["Rules"] == [{"x": 1}, {"y": 2}]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"Name": "Bad_Name"}, r"'Name' value 'Bad_Name' does not match the allowedPattern"),
        ({"Name": "abc", "Ids": ["i-01", "vol-1"]}, r"'Ids' value 'vol-1' does not match the allowedPattern"),
        ({"Name": "abc", "Mode": "slow"}, r"'Mode' value 'slow' is not one of the allowedValues"),
        ({"Name": "abc", "Count": "many"}, r"'Count' value 'many': expected an Integer"),
        ({"Name": "abc", "Enabled": "yes"}, r"'Enabled' value 'yes': expected a Boolean"),
        ({}, r"missing required parameter 'Name'"),
        ({"Name": "abc", "Nmae": "x"}, r"unknown parameter 'Nmae' \(value 'x'\)"),
    ],
)
def test_invalid_parameters_are_refused_before_anything_runs(run, runner, params, message) -> None:
    with pytest.raises(ParameterValidationError, match=message):
        run(**params)
    assert runner.executions == []


def test_allowed_pattern_uses_search_semantics_like_anchored_patterns(run_doc) -> None:
    document = doc(echo("Echo", {"v": "{{ V }}"}), parameters={"V": {"type": "String", "allowedPattern": "[0-9]"}})
    assert run_doc(document, V="abc1").status == "Success"
    with pytest.raises(ParameterValidationError):
        run_doc(document, V="abc")


def test_item_and_char_limits(run_doc) -> None:
    parameters = {"L": {"type": "StringList", "maxItems": 2, "maxChars": 3}}
    document = doc(echo("Echo", {"v": "{{ L }}"}), parameters=parameters)
    assert run_doc(document, L=["a", "bcd"]).status == "Success"
    with pytest.raises(ParameterValidationError, match="more than maxItems 2"):
        run_doc(document, L=["a", "b", "c"])
    with pytest.raises(ParameterValidationError, match="longer than maxChars 3"):
        run_doc(document, L=["abcd"])


def test_ssm_parameter_in_a_default_comes_from_the_execution_account(run_doc) -> None:
    boto3.client("ssm", region_name=REGION).put_parameter(Name="/asr/bucket", Value="from-ssm", Type="String")
    parameters = {"Bucket": {"type": "String", "default": "{{ ssm:/asr/bucket }}"}}
    execution = run_doc(
        doc(echo("Echo", {"b": "{{ Bucket }}", "direct": "x-{{ssm:/asr/bucket}}"}), parameters=parameters)
    )
    assert events_of(execution, "Echo") == {"b": "from-ssm", "direct": "x-from-ssm"}
    assert execution.account_id == ACCOUNT


def test_missing_ssm_parameter_in_a_default_is_a_parameter_error(run_doc) -> None:
    parameters = {"Bucket": {"type": "String", "default": "{{ ssm:/nope }}"}}
    with pytest.raises(ParameterValidationError, match="ParameterNotFound"):
        run_doc(doc(echo("Echo", {"b": "{{ Bucket }}"}), parameters=parameters))
