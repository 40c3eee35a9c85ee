"""cfn-lint, cdk-nag and CloudFormation limits on every built template."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from cfnlint.api import ManualArgs, lint

from asr.app import build_app
from asr.cdk_common import Distribution, acknowledge, nag_evidence

LIMITS = {"bytes": 1_000_000, "resources": 500, "parameters": 200, "outputs": 200}


def test_cfn_lint_finds_no_errors(templates):
    errors = {}
    for path, template in templates.items():
        matches = lint(json.dumps(template), config=ManualArgs(regions=["us-east-1", "us-gov-west-1", "cn-north-1"]))
        found = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")]
        if found:
            errors[path] = found
    assert errors == {}


def test_every_template_is_within_cloudformation_limits(templates, template_bytes):
    over = []
    for path, template in templates.items():
        counts = {
            "bytes": template_bytes[path],
            "resources": len(template.get("Resources", {})),
            "parameters": len(template.get("Parameters", {})),
            "outputs": len(template.get("Outputs", {})),
        }
        over += [f"{path}: {k} {v} > {LIMITS[k]}" for k, v in counts.items() if v > LIMITS[k]]
    assert over == []


def test_the_limits_check_would_catch_an_oversized_template():
    template = {"Resources": {f"R{i}": {"Type": "AWS::SNS::Topic"} for i in range(501)}}
    assert len(template["Resources"]) > LIMITS["resources"]


def test_cdk_nag_blocks_an_unacknowledged_finding(tmp_path):
    """The real app with one insecure bucket added must fail synthesis."""
    built = build_app(outdir=str(tmp_path), dist=Distribution(bucket_base="bkt", version="v1.0.0"))
    stack = built.app.node.find_child("MemberCloudTrailStack")
    s3.Bucket(stack, "InsecureBucket")  # no SSL enforcement, no access logs
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        built.app.synth()
    report = (tmp_path / "validation-report.json").read_text()
    assert "AwsSolutions-S10" in report and "InsecureBucket" in report


def test_an_acknowledgment_needs_a_reason():
    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ValueError, match="AwsSolutions-S1 needs a reason"):
        acknowledge(stack, S1="  ")


def test_wildcard_acknowledgments_carry_the_evidence_cdk_nag_reports():
    stack = cdk.Stack(cdk.App(), "S")
    arn = cdk.Fn.join("", ["arn:", cdk.Aws.PARTITION, ":ssm:*:", cdk.Aws.ACCOUNT_ID, ":automation-execution/*"])
    assert nag_evidence(stack, arn) == "arn:<AWS::Partition>:ssm:*:<AWS::AccountId>:automation-execution/*"
    assert nag_evidence(stack, "*") == "*"
