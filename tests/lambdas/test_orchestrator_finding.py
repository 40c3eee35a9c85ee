"""The finding model: both ASFF shapes, other products, and malformed findings."""

from __future__ import annotations

import copy

import pytest

from asr.simulator.findings import make_finding
from lambdas.orchestrator.finding import Finding, FindingError, clean_ssm, summary

ARN = "arn:aws:lambda:us-east-1:111111111111:function:f"


def _sc() -> dict:
    return make_finding(
        "Lambda.1",
        ARN,
        resource_type="AwsLambdaFunction",
        standard_name="security-control",
        standard_version="2.0.0",
        resource_region="eu-west-1",
    )


def test_consolidated_finding():
    f = Finding.parse(_sc())
    assert (f.standard_name, f.standard_version, f.control_id) == ("security-control", "2.0.0", "Lambda.1")
    assert f.account == "111111111111"
    assert f.resource_region == "eu-west-1" and f.region == "us-east-1"
    assert f.security_hub and f.workflow_status == "NEW"
    assert f.affected_object == f"AwsLambdaFunction {ARN}"


@pytest.mark.parametrize(
    "name, version, control",
    [
        ("aws-foundational-security-best-practices", "1.0.0", "Lambda.1"),
        ("cis-aws-foundations-benchmark", "1.2.0", "1.5"),
        ("pci-dss", "3.2.1", "PCI.Lambda.1"),
        ("nist-800-53", "5.0.0", "Lambda.1"),
    ],
)
def test_standard_specific_findings(name, version, control):
    raw = make_finding(control, ARN, resource_type="AwsLambdaFunction", standard_name=name, standard_version=version)
    f = Finding.parse(raw)
    assert (f.standard_name, f.standard_version, f.control_id) == (name, version, control)


def test_other_products_have_no_standard():
    raw = _sc()
    raw["ProductFields"]["aws/securityhub/ProductName"] = "Config"
    f = Finding.parse(raw)
    assert not f.security_hub and f.control_id == ""


def _broken(path: str, value):
    raw = copy.deepcopy(_sc())
    node = raw
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is KeyError:
        del node[parts[-1]]
    else:
        node[int(parts[-1]) if parts[-1].isdigit() else parts[-1]] = value
    return raw


@pytest.mark.parametrize(
    "raw, field",
    [
        ("not a finding", "Finding"),
        (None, "Finding"),
        (_broken("Id", KeyError), "Id"),
        (_broken("Id", 42), "Id"),
        (_broken("ProductArn", "arn:aws:s3:::bucket"), "ProductArn"),
        (_broken("AwsAccountId", "12345"), "AwsAccountId"),
        (_broken("AwsAccountId", 111111111111), "AwsAccountId"),
        (_broken("Resources", []), "Resources"),
        (_broken("Resources", "x"), "Resources"),
        (_broken("Resources.0.Id", KeyError), "Resources.0.Id"),
        (_broken("Resources.0.Region", "moon-1"), "Resources.0.Region"),
        (_broken("Region", "nowhere"), "Region"),
        (_broken("ProductFields", "x"), "ProductFields"),
        (_broken("Workflow", {"Status": 3}), "Workflow.Status"),
        (_broken("Compliance", {}), "ProductFields.StandardsControlArn"),
        (_broken("Compliance.SecurityControlId", "Lambda 1; rm -rf"), "Compliance.SecurityControlId"),
    ],
)
def test_malformed_findings_name_the_field(raw, field):
    with pytest.raises(FindingError) as err:
        Finding.parse(raw)
    assert err.value.path == field
    assert field in str(err.value)


def test_bad_standards_control_arn():
    raw = make_finding("Lambda.1", ARN, resource_type="AwsLambdaFunction")
    raw["ProductFields"]["StandardsControlArn"] = "arn:aws:securityhub:us-east-1:111111111111:control/../v/x/y"
    with pytest.raises(FindingError, match="StandardsControlArn"):
        Finding.parse(raw)


@pytest.mark.parametrize(
    "value, cleaned",
    [("my-rule", "my-rule"), ("a/../b", "a--b"), ("x", "unknown"), ("a\x00b c", "ab-c"), ("a\\b", "a-b")],
)
def test_clean_ssm(value, cleaned):
    assert clean_ssm(value) == cleaned


def test_summary_of_an_unparsable_finding_keeps_what_it_can():
    assert summary(None, {"Id": "x/finding/1", "AwsAccountId": 5})["finding_id"] == "1"
    assert summary(None, "garbage")["account"] == ""
