"""Issue 14, item 2: resource ids from a finding match the regex registry ASCII-only and whole.

playbooks/regexes.yaml patterns (``{A}``, ``{R}`` tokens, ``\\d``, ``\\w``) are compiled ``re.ASCII``
and used with ``fullmatch`` by asr/playbooks/data.py and by the generated ParseInput step: a
Unicode digit (``"\\u0661"``) or a trailing newline never yields a resource id.
"""

from __future__ import annotations

import importlib.util

import pytest

from asr.playbooks import data
from asr.simulator.findings import make_finding

spec = importlib.util.spec_from_file_location("parse_input", data.SCRIPT_DIR / "parse_input.py")
parse_input = importlib.util.module_from_spec(spec)
spec.loader.exec_module(parse_input)

ARABIC = "\u0661" * 12
LAMBDA = "arn:aws:lambda:us-east-1:111111111111:function:fn"


@pytest.mark.parametrize(
    ("regex", "resource_id"),
    [
        ("account", f"AWS::::Account:{ARABIC}"),
        ("account", "AWS::::Account:111111111111\n"),
        ("lambda_function_arn", f"arn:aws:lambda:us-east-1:{ARABIC}:function:fn"),
        ("lambda_function_arn", "arn:aws:lambda:us-east-\u0661:111111111111:function:fn"),
        ("lambda_function_arn", f"{LAMBDA}\n"),
        ("cloudtrail_arn", "arn:aws:cloudtrail:us-east-1:111111111111:trail/t\u0661\u0661x"),
    ],
    ids=["account-arabic", "account-newline", "arn-arabic-account", "arn-arabic-region", "arn-newline", "arabic-w"],
)
def test_registry_extract_is_ascii_and_whole(regex, resource_id):
    assert data.regexes()[regex].extract(resource_id) is None


def test_registry_tokens_are_ascii_classes():
    assert data.REGEX_TOKENS["{A}"] == "[0-9]{12}"
    assert data.REGEX_TOKENS["{R}"].endswith("-[0-9]")
    assert data.regexes()["lambda_function_arn"].extract(LAMBDA) == "fn"


def _event(resource_id: str) -> dict:
    finding = make_finding(
        "Lambda.1",
        resource_id,
        resource_type="AwsLambdaFunction",
        standard_name="security-control",
        standard_version="2.0.0",
    )
    return {
        "Finding": finding,
        "parse_id_pattern": data.regexes()["lambda_function_arn"].pattern,
        "resource_index": 1,
        "expected_control_id": ["Lambda.1"],
        "standard_long_name": "security-control",
        "standard_version": "2.0.0",
    }


def test_parse_input_refuses_a_resource_id_with_a_trailing_newline():
    # Before: re.match(... "$") took "fn" from "...:function:fn\n" and remediated it.
    with pytest.raises(ValueError) as err:
        parse_input.parse_event(_event(f"{LAMBDA}\n"))
    assert str(err.value).startswith(f"finding field Resources[0].Id: resource id {LAMBDA + chr(10)!r}")
    assert "does not match" in str(err.value)


def test_parse_input_still_takes_a_plain_resource_id():
    assert parse_input.parse_event(_event(LAMBDA))["resource_id"] == "fn"
