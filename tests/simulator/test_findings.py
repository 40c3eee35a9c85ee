"""Finding fixtures: both ASFF shapes, every standard identity, partitions, EventBridge envelopes."""

from __future__ import annotations

import re

import pytest

from asr.simulator.findings import STANDARDS, custom_action_event, imported_event, make_finding

UUID = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
LAMBDA_ARN = "arn:aws:lambda:us-east-1:111111111111:function:f"


def test_standard_specific_afsbp_finding() -> None:
    finding = make_finding(
        "Lambda.1",
        LAMBDA_ARN,
        resource_type="AwsLambdaFunction",
        finding_uuid=UUID,
        config_rule_name="securityhub-lambda-function-public-access-prohibited-abc",
    )
    path = "aws-foundational-security-best-practices/v/1.0.0"
    assert finding["Id"] == f"arn:aws:securityhub:us-east-1:111111111111:subscription/{path}/Lambda.1/finding/{UUID}"
    assert finding["GeneratorId"] == f"{path}/Lambda.1"
    fields = finding["ProductFields"]
    assert fields["StandardsControlArn"] == f"arn:aws:securityhub:us-east-1:111111111111:control/{path}/Lambda.1"
    assert fields["ControlId"] == "Lambda.1"
    assert fields["aws/securityhub/ProductName"] == "Security Hub"
    assert fields["RelatedAWSResources:0/type"] == "AWS::Config::ConfigRule"
    assert fields["RelatedAWSResources:0/name"].startswith("securityhub-lambda")
    assert finding["ProductArn"] == "arn:aws:securityhub:us-east-1::product/aws/securityhub"
    assert finding["Resources"] == [
        {"Type": "AwsLambdaFunction", "Id": LAMBDA_ARN, "Partition": "aws", "Region": "us-east-1"}
    ]
    assert (finding["Compliance"]["Status"], finding["Workflow"]["Status"], finding["RecordState"]) == (
        "FAILED",
        "NEW",
        "ACTIVE",
    )
    assert "SecurityControlId" not in finding["Compliance"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", finding["UpdatedAt"])


def test_consolidated_finding() -> None:
    finding = make_finding(
        "Lambda.1",
        LAMBDA_ARN,
        resource_type="AwsLambdaFunction",
        finding_uuid=UUID,
        standard_name="security-control",
        standard_version="2.0.0",
    )
    assert finding["Id"] == f"arn:aws:securityhub:us-east-1:111111111111:security-control/Lambda.1/finding/{UUID}"
    assert finding["GeneratorId"] == "security-control/Lambda.1"
    assert finding["Compliance"]["SecurityControlId"] == "Lambda.1"
    assert "StandardsControlArn" not in finding["ProductFields"]


def test_cis_120_uses_the_ruleset_shape() -> None:
    finding = make_finding(
        "1.3",
        "arn:aws:iam::111111111111:root",
        resource_type="AwsAccount",
        standard_name="cis-aws-foundations-benchmark",
        standard_version="1.2.0",
    )
    assert finding["GeneratorId"] == "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/1.3"
    assert finding["ProductFields"]["RuleId"] == "1.3"
    assert "ControlId" not in finding["ProductFields"]


@pytest.mark.parametrize(("name", "version"), [k for k in STANDARDS if k[0] != "security-control"])
def test_every_standard_identity(name: str, version: str) -> None:
    finding = make_finding(
        "IAM.1",
        "arn:aws:iam::111111111111:root",
        resource_type="AwsAccount",
        standard_name=name,
        standard_version=version,
    )
    assert finding["ProductFields"]["StandardsControlArn"].endswith(f"control/{name}/v/{version}/IAM.1")
    assert f"subscription/{name}/v/{version}/IAM.1/finding/" in finding["Id"]


@pytest.mark.parametrize(
    ("region", "partition"), [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"), ("eu-west-1", "aws")]
)
def test_partitions(region: str, partition: str) -> None:
    finding = make_finding("S3.1", "arn:x", resource_type="AwsS3Bucket", region=region)
    assert finding["ProductArn"] == f"arn:{partition}:securityhub:{region}::product/aws/securityhub"
    assert finding["Resources"][0]["Partition"] == partition
    assert finding["Id"].startswith(f"arn:{partition}:securityhub:{region}:")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"account_id": "12345"}, "account_id must be 12 digits, got '12345'"),
        ({"region": "useast1"}, "region must look like 'us-east-1', got 'useast1'"),
        ({"region": "us-east-1", "partition": "aws-cn"}, "region 'us-east-1' is not in partition 'aws-cn'"),
        ({"standard_name": "pci-dss", "standard_version": "4.0.0"}, "unknown standard 'pci-dss' version '4.0.0'"),
        ({"severity": "SEVERE"}, "severity must be one of"),
    ],
)
def test_invalid_inputs(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        make_finding("S3.1", "arn:x", resource_type="AwsS3Bucket", **kwargs)


def test_custom_action_envelope() -> None:
    finding = make_finding("S3.1", "arn:x", resource_type="AwsS3Bucket", account_id="222222222222", region="us-west-2")
    event = custom_action_event([finding], action_name="Remediate with ASR", action_description="Send to ASR")
    assert event["detail-type"] == "Security Hub Findings - Custom Action"
    assert event["source"] == "aws.securityhub"
    assert (event["account"], event["region"]) == ("222222222222", "us-west-2")
    assert event["resources"] == ["arn:aws:securityhub:us-west-2:222222222222:action/custom/ASRRemediation"]
    assert event["detail"]["actionName"] == "Remediate with ASR"
    assert event["detail"]["actionDescription"] == "Send to ASR"
    assert event["detail"]["findings"] == [finding]


def test_imported_envelope() -> None:
    finding = make_finding("S3.1", "arn:x", resource_type="AwsS3Bucket")
    event = imported_event([finding])
    assert event["detail-type"] == "Security Hub Findings - Imported"
    assert event["resources"] == [f"{finding['ProductArn']}/{finding['Id']}"]
    assert "actionName" not in event["detail"]
    with pytest.raises(ValueError):
        imported_event([])
