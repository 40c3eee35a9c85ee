"""From an API call to the authorization requests: actions, resource ARNs, keys, dependent permissions."""

from __future__ import annotations

import pytest

from asr.iam import catalog
from asr.iam.policy import ModelError
from asr.iam.requests import GENERATED, Call, checks


def _call(service: str, operation: str, prefix: str | None = None, **params) -> Call:
    return Call(service, operation, params, "111111111111", "eu-west-1", "aws", prefix or service)


@pytest.mark.parametrize(
    ("service", "operation", "prefix", "action"),
    [
        ("s3", "GetBucketEncryption", "s3", "s3:GetEncryptionConfiguration"),
        ("s3", "PutBucketLifecycleConfiguration", "s3", "s3:PutLifecycleConfiguration"),
        ("s3", "ListObjectsV2", "s3", "s3:ListBucket"),
        ("s3", "HeadBucket", "s3", "s3:ListBucket"),
        ("s3", "GetPublicAccessBlock", "s3", "s3:GetBucketPublicAccessBlock"),
        ("s3control", "GetPublicAccessBlock", "s3", "s3:GetAccountPublicAccessBlock"),
        ("ssm", "StartAutomationExecution", "ssm", "ssm:StartAutomationExecution"),
        ("cloudwatch", "PutMetricData", "cloudwatch", "cloudwatch:PutMetricData"),
    ],
)
def test_operation_to_action(service, operation, prefix, action):
    assert catalog.actions_for(service, operation, prefix) == (action,)


def test_prefixes_of_botocore_services():
    assert catalog.iam_prefix("elbv2") == "elasticloadbalancing"
    assert catalog.iam_prefix("stepfunctions") == "states"
    assert catalog.iam_prefix("cloudwatch", "monitoring", "monitoring") == "cloudwatch"
    with pytest.raises(catalog.CatalogError):
        catalog.iam_prefix("no-such-service", "nope", "nope")


def test_unknown_operation_is_loud():
    with pytest.raises(catalog.CatalogError, match="NoSuchOperation"):
        catalog.actions_for("s3", "NoSuchOperation", "s3")


def test_bucket_arn_from_the_bucket_parameter():
    (check,) = checks(_call("s3", "PutBucketPolicy", Bucket="b1", Policy="{}"))
    assert (check.action, check.resource) == ("s3:PutBucketPolicy", "arn:aws:s3:::b1")


def test_security_group_arn_from_group_id():
    (check,) = checks(_call("ec2", "RevokeSecurityGroupIngress", GroupId="sg-123", IpPermissions=[]))
    assert check.resource == "arn:aws:ec2:eu-west-1:111111111111:security-group/sg-123"


def test_action_without_resource_types_is_authorized_on_star():
    (check,) = checks(_call("ec2", "DescribeSecurityGroups", GroupIds=["sg-1"]))
    assert check.resource == "*"


def test_aws_owned_documents_have_no_account_in_their_arns():
    found = checks(_call("ssm", "StartAutomationExecution", DocumentName="AWS-TerminateEC2Instance"))
    resources = {c.resource for c in found if c.action == "ssm:StartAutomationExecution"}
    assert "arn:aws:ssm:eu-west-1::document/AWS-TerminateEC2Instance" in resources
    assert "arn:aws:ssm:eu-west-1::automation-definition/AWS-TerminateEC2Instance:$DEFAULT" in resources
    assert f"arn:aws:ssm:eu-west-1:111111111111:automation-execution/{GENERATED}" in resources


def test_own_documents_are_in_the_account():
    found = checks(_call("ssm", "StartAutomationExecution", DocumentName="ASR-EnableKeyRotation", DocumentVersion="3"))
    resources = {c.resource for c in found}
    assert "arn:aws:ssm:eu-west-1:111111111111:document/ASR-EnableKeyRotation" in resources
    assert "arn:aws:ssm:eu-west-1:111111111111:automation-definition/ASR-EnableKeyRotation:3" in resources


def test_a_role_handed_to_a_service_needs_pass_role_to_that_service():
    role = "arn:aws:iam::111111111111:role/flow-logs"
    found = checks(
        _call("ec2", "CreateFlowLogs", ResourceIds=["vpc-1"], ResourceType="VPC", DeliverLogsPermissionArn=role)
    )
    (passed,) = [c for c in found if c.action == "iam:PassRole"]
    assert passed.resource == role
    assert passed.context["iam:passedtoservice"] == "vpc-flow-logs.amazonaws.com"
    assert "DeliverLogsPermissionArn" in passed.reason


def test_automation_assume_role_is_passed_to_ssm():
    role = "arn:aws:iam::111111111111:role/SO0111-X-ns"
    found = checks(
        _call("ssm", "StartAutomationExecution", DocumentName="ASR-X", Parameters={"AutomationAssumeRole": [role]})
    )
    (passed,) = [c for c in found if c.action == "iam:PassRole"]
    assert passed.resource == role and passed.context["iam:passedtoservice"] == "ssm.amazonaws.com"


def test_tags_on_create_need_the_tagging_action():
    found = checks(
        _call(
            "ec2",
            "CreateSecurityGroup",
            GroupName="g",
            Description="d",
            VpcId="vpc-1",
            TagSpecifications=[{"ResourceType": "security-group", "Tags": [{"Key": "a", "Value": "b"}]}],
        )
    )
    tags = [c for c in found if c.action == "ec2:CreateTags"]
    assert tags and all(c.context["ec2:createaction"] == "CreateSecurityGroup" for c in tags)


def test_snapshot_permission_removal_sets_the_remove_group_key():
    found = checks(
        _call(
            "ec2",
            "ModifySnapshotAttribute",
            SnapshotId="snap-1",
            Attribute="createVolumePermission",
            CreateVolumePermission={"Remove": [{"Group": "all"}]},
        )
    )
    (check,) = found
    assert check.resource == "arn:aws:ec2:eu-west-1::snapshot/snap-1"
    assert check.context["ec2:remove/group"] == ["all"]


def test_service_linked_role_created_on_first_use():
    found = checks(_call("guardduty", "CreateDetector", Enable=True))
    (slr,) = [c for c in found if c.action == "iam:CreateServiceLinkedRole"]
    assert slr.context["iam:awsservicename"] == "guardduty.amazonaws.com"


def test_a_resource_it_cannot_derive_is_loud():
    with pytest.raises(ModelError, match="function"):
        checks(_call("lambda", "RemovePermission", StatementId="s"))
