"""The shared ParseInput script (playbooks/scripts/parse_input.py), directly."""

from __future__ import annotations

import importlib.util

import pytest

from asr.playbooks import data, generator
from asr.simulator.findings import make_finding

spec = importlib.util.spec_from_file_location("parse_input", data.SCRIPT_DIR / "parse_input.py")
parse_input = importlib.util.module_from_spec(spec)
spec.loader.exec_module(parse_input)

LAMBDA = "arn:aws:lambda:us-east-1:111111111111:function:fn"


def _event(finding, **overrides):
    event = {
        "Finding": finding,
        "parse_id_pattern": data.regexes()["lambda_function_arn"].pattern,
        "resource_index": 1,
        "expected_control_id": ["Lambda.1"],
        "standard_long_name": "security-control",
        "standard_version": "2.0.0",
    }
    event.update(overrides)
    return event


def _finding(**kw):
    kw.setdefault("standard_name", "security-control")
    kw.setdefault("standard_version", "2.0.0")
    return make_finding("Lambda.1", kw.pop("resource", LAMBDA), resource_type="AwsLambdaFunction", **kw)


def test_consolidated_finding():
    out = parse_input.parse_event(_event(_finding()))
    assert out["resource_id"] == "fn"
    assert (out["control_id"], out["standard"]) == ("Lambda.1", "security-control")
    assert (out["remediation_account"], out["remediation_region"]) == ("111111111111", "us-east-1")
    assert out["affected_object"] == {"Type": "AwsLambdaFunction", "Id": "fn", "OutputKey": "Remediation.Output"}


@pytest.mark.parametrize("region", ["us-gov-west-1", "cn-north-1"])
def test_standard_subscription_finding_in_other_partitions(region):
    partition = "aws-us-gov" if region.startswith("us-gov") else "aws-cn"
    resource = f"arn:{partition}:lambda:{region}:222222222222:function:fn"
    # the resource is in the finding's own account (another account would be refused)
    shape = {"standard_name": "nist-800-53", "standard_version": "5.0.0", "account_id": "222222222222"}
    finding = _finding(region=region, resource=resource, **shape)
    out = parse_input.parse_event(_event(finding, standard_long_name="nist-800-53", standard_version="5.0.0"))
    assert (out["remediation_account"], out["remediation_region"]) == ("222222222222", region)
    assert out["standard"] == "nist-800-53"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Id": "arn:aws:securityhub:us-east-1:111111111111:finding/abc"}, "is neither a standard-subscription"),
        ({"AwsAccountId": "1111"}, r"field AwsAccountId is not a 12-digit account id \(got '1111'\)"),
        ({"AwsAccountId": "222222222222"}, "differs from the account 111111111111 of its Id"),
        ({"ProductArn": "arn:aws:securityhub:us-east-1::product/other/x"}, "ProductArn"),
        ({"Resources": []}, "Resources is missing or empty"),
    ],
)
def test_bad_findings_are_named(change, message):
    finding = {**_finding(), **change}
    with pytest.raises(ValueError, match=message):
        parse_input.parse_event(_event(finding))


def test_missing_id_is_named():
    finding = _finding()
    del finding["Id"]
    with pytest.raises(ValueError, match="finding field Id is missing"):
        parse_input.parse_event(_event(finding))


def test_control_parameters_convert_to_the_remediation_types():
    assert parse_input.convert("60", "Integer", "x") == 60
    assert parse_input.convert("False", "Boolean", "x") is False
    assert parse_input.convert("80, 443", "StringList", "x") == ["80", "443"]
    assert parse_input.convert(["a", "b"], "String", "x") == "a,b"
    with pytest.raises(ValueError, match="control parameter x value 'abc' is not an integer"):
        parse_input.convert("abc", "Integer", "x")


def test_defaults_apply_without_a_config_rule():
    out = parse_input.parse_event(
        _event(
            _finding(), control_params={"MaxPasswordAge": {"name": "MaxPasswordAge", "default": 90, "type": "Integer"}}
        )
    )
    assert out["params"] == {"MaxPasswordAge": 90}


def test_the_embedded_script_is_the_tested_one_without_docstrings():
    text = generator.parse_script()
    assert "def parse_event(" in text and '"""' not in text
    assert "{{" not in text  # SSM would read it as a variable
    namespace: dict = {}
    exec(compile(text, "parse_input", "exec"), namespace)
    assert namespace["parse_event"](_event(_finding()))["resource_id"] == "fn"
