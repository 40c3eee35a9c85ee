"""CloudTrail control evaluators on moto: the shapes the control pages and their Config rules name."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate

ACCOUNT, REGION = "111111111111", "us-east-1"
LOG_BUCKET = "asr-trail-logs"
ACCOUNT_RESOURCE = Resource.account_level(ACCOUNT, REGION)
MANAGEMENT_ALL = {"ReadWriteType": "All", "IncludeManagementEvents": True}


@pytest.fixture
def aws():
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=LOG_BUCKET)
        yield


def _trail(
    name: str = "asr-trail", region: str = REGION, *, logging: bool = True, selectors=None, **kwargs
) -> Resource:
    ct = boto3.client("cloudtrail", region_name=region)
    arn = ct.create_trail(Name=name, S3BucketName=LOG_BUCKET, **kwargs)["TrailARN"]
    if logging:
        ct.start_logging(Name=name)
    if selectors is not None:
        # moto returns no event selector for a new trail (AWS returns the default "All management
        # events" one), so every trail that should log management events is given one explicitly.
        ct.put_event_selectors(TrailName=name, **selectors)
    return Resource.of_arn(arn, "AwsCloudTrailTrail")


def _verdict(control_id: str, resource: Resource = ACCOUNT_RESOURCE, **parameters):
    return evaluate(control_id, boto3.Session(), resource, parameters)


# --------------------------------------------------------------------------- CloudTrail.1


def test_cloudtrail_1_no_trail_fails(aws):
    verdict = _verdict("CloudTrail.1")
    assert verdict.status is Status.FAILED
    assert "IsMultiRegionTrail" in verdict.reason


def test_cloudtrail_1_single_region_trail_fails(aws):
    _trail(selectors={"EventSelectors": [MANAGEMENT_ALL]})
    assert _verdict("CloudTrail.1").status is Status.FAILED


def test_cloudtrail_1_multi_region_trail_logging_all_management_events_passes(aws):
    _trail(IsMultiRegionTrail=True, selectors={"EventSelectors": [MANAGEMENT_ALL]})
    verdict = _verdict("CloudTrail.1")
    assert verdict.status is Status.PASSED, verdict.reason


def test_cloudtrail_1_multi_region_trail_that_is_not_logging_fails(aws):
    _trail(IsMultiRegionTrail=True, logging=False, selectors={"EventSelectors": [MANAGEMENT_ALL]})
    verdict = _verdict("CloudTrail.1")
    assert verdict.status is Status.FAILED
    assert "IsLogging is false" in verdict.reason


def test_cloudtrail_1_excluded_management_event_source_fails(aws):
    selector = {**MANAGEMENT_ALL, "ExcludeManagementEventSources": ["kms.amazonaws.com"]}
    _trail(IsMultiRegionTrail=True, selectors={"EventSelectors": [selector]})
    verdict = _verdict("CloudTrail.1")
    assert verdict.status is Status.FAILED
    assert "ExcludeManagementEventSources is ['kms.amazonaws.com']" in verdict.reason


def test_cloudtrail_1_write_only_fails_unless_read_write_type_is_overridden(aws):
    _trail(IsMultiRegionTrail=True, selectors={"EventSelectors": [{**MANAGEMENT_ALL, "ReadWriteType": "WriteOnly"}]})
    verdict = _verdict("CloudTrail.1")
    assert verdict.status is Status.FAILED
    assert "ReadWriteType is 'WriteOnly'" in verdict.reason
    assert _verdict("CloudTrail.1", readWriteType="WriteOnly").status is Status.PASSED


def test_cloudtrail_1_read_only_and_write_only_selectors_together_pass(aws):
    selectors = [{**MANAGEMENT_ALL, "ReadWriteType": "ReadOnly"}, {**MANAGEMENT_ALL, "ReadWriteType": "WriteOnly"}]
    _trail(IsMultiRegionTrail=True, selectors={"EventSelectors": selectors})
    assert _verdict("CloudTrail.1").status is Status.PASSED


def test_cloudtrail_1_management_events_off_fails(aws):
    _trail(
        IsMultiRegionTrail=True, selectors={"EventSelectors": [{**MANAGEMENT_ALL, "IncludeManagementEvents": False}]}
    )
    verdict = _verdict("CloudTrail.1")
    assert verdict.status is Status.FAILED
    assert "IncludeManagementEvents is false" in verdict.reason


def test_cloudtrail_1_advanced_selectors(aws):
    management = {"Field": "eventCategory", "Equals": ["Management"]}
    _trail(
        IsMultiRegionTrail=True,
        selectors={"AdvancedEventSelectors": [{"Name": "mgmt", "FieldSelectors": [management]}]},
    )
    assert _verdict("CloudTrail.1").status is Status.PASSED
    excluding = [management, {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]}]
    boto3.client("cloudtrail", region_name=REGION).put_event_selectors(
        TrailName="asr-trail", AdvancedEventSelectors=[{"Name": "mgmt", "FieldSelectors": excluding}]
    )
    verdict = _verdict("CloudTrail.1")
    assert verdict.status is Status.FAILED
    assert "eventSource" in verdict.reason


def test_cloudtrail_1_multi_region_trail_homed_in_another_region_counts(aws):
    _trail(region="us-west-2", IsMultiRegionTrail=True, selectors={"EventSelectors": [MANAGEMENT_ALL]})
    verdict = _verdict("CloudTrail.1")
    assert verdict.status is Status.PASSED, verdict.reason


# --------------------------------------------------------------------------- CloudTrail.2 / 4 / 5


def test_cloudtrail_2_kms_key(aws):
    plain = _trail("asr-plain")
    verdict = _verdict("CloudTrail.2", plain)
    assert verdict.status is Status.FAILED
    assert "KmsKeyId is not set" in verdict.reason
    key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    encrypted = _trail("asr-encrypted", KmsKeyId=key)
    assert _verdict("CloudTrail.2", encrypted).status is Status.PASSED


def test_cloudtrail_4_log_file_validation(aws):
    assert _verdict("CloudTrail.4", _trail("asr-plain")).status is Status.FAILED
    verdict = _verdict("CloudTrail.4", _trail("asr-validated", EnableLogFileValidation=True))
    assert verdict.status is Status.PASSED
    assert verdict.reason == "LogFileValidationEnabled is true"


def test_cloudtrail_5_cloudwatch_logs(aws):
    verdict = _verdict("CloudTrail.5", _trail("asr-plain"))
    assert verdict.status is Status.FAILED
    assert verdict.reason == "CloudWatchLogsLogGroupArn is empty"
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:asr-trail:*"
    role = f"arn:aws:iam::{ACCOUNT}:role/asr-trail-to-logs"
    integrated = _trail("asr-logs", CloudWatchLogsLogGroupArn=group, CloudWatchLogsRoleArn=role)
    assert _verdict("CloudTrail.5", integrated).status is Status.PASSED


@pytest.mark.parametrize("control_id", ["CloudTrail.2", "CloudTrail.4", "CloudTrail.5"])
def test_unknown_trail_is_an_evaluation_error(aws, control_id):
    ghost = Resource.of_arn(f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/asr-ghost", "AwsCloudTrailTrail")
    with pytest.raises(EvaluationError, match="asr-ghost"):
        _verdict(control_id, ghost)


# --------------------------------------------------------------------------- CloudTrail.3


def test_cloudtrail_3_no_trail_fails(aws):
    verdict = _verdict("CloudTrail.3")
    assert verdict.status is Status.FAILED
    assert "no CloudTrail trail" in verdict.reason


def test_cloudtrail_3_trail_not_logging_fails_and_logging_passes(aws):
    _trail(logging=False)
    verdict = _verdict("CloudTrail.3")
    assert verdict.status is Status.FAILED
    assert "IsLogging is false" in verdict.reason
    boto3.client("cloudtrail", region_name=REGION).start_logging(Name="asr-trail")
    verdict = _verdict("CloudTrail.3")
    assert verdict.status is Status.PASSED
    assert "'asr-trail' IsLogging is true" in verdict.reason


# --------------------------------------------------------------------------- CloudTrail.6 / 7


def _bucket_resource(name: str = LOG_BUCKET) -> Resource:
    return Resource(f"arn:aws:s3:::{name}", "AwsS3Bucket", ACCOUNT, REGION)


@pytest.mark.parametrize("control_id", ["CloudTrail.6", "CloudTrail.7"])
def test_bucket_holding_no_cloudtrail_logs_is_not_applicable(aws, control_id):
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="asr-unrelated")
    verdict = _verdict(control_id, _bucket_resource("asr-unrelated"))
    assert verdict.status is Status.NOT_APPLICABLE
    assert "not a CloudTrail log bucket" in verdict.reason


def test_cloudtrail_6_private_trail_bucket_passes_and_public_acl_fails(aws):
    _trail()
    verdict = _verdict("CloudTrail.6", _bucket_resource())
    assert verdict.status is Status.PASSED, verdict.reason
    boto3.client("s3", region_name=REGION).put_bucket_acl(Bucket=LOG_BUCKET, ACL="public-read")
    verdict = _verdict("CloudTrail.6", _bucket_resource())
    assert verdict.status is Status.FAILED
    assert "publicly readable" in verdict.reason and "READ to AllUsers" in verdict.reason


def test_cloudtrail_6_central_bucket_found_through_its_cloudtrail_policy(aws):
    # No trail of this account delivers here, but the policy lets CloudTrail write: a central log bucket.
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="asr-central-logs")
    statements = [
        {
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::asr-central-logs/AWSLogs/*",
        },
        {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::asr-central-logs/*"},
    ]
    s3.put_bucket_policy(
        Bucket="asr-central-logs", Policy=json.dumps({"Version": "2012-10-17", "Statement": statements})
    )
    verdict = _verdict("CloudTrail.6", _bucket_resource("asr-central-logs"))
    assert verdict.status is Status.FAILED
    assert "publicly writable" in verdict.reason


def test_cloudtrail_6_trail_resource_resolves_to_its_bucket(aws):
    trail = _trail()
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_public_access_block(
        Bucket=LOG_BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    verdict = _verdict("CloudTrail.6", trail)
    assert verdict.status is Status.PASSED
    assert LOG_BUCKET in verdict.reason


def test_cloudtrail_7_trail_bucket_access_logging(aws):
    _trail()
    verdict = _verdict("CloudTrail.7", _bucket_resource())
    assert verdict.status is Status.FAILED
    assert "LoggingEnabled is not set" in verdict.reason
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="asr-access-logs")
    s3.put_bucket_acl(Bucket="asr-access-logs", ACL="log-delivery-write")
    s3.put_bucket_logging(
        Bucket=LOG_BUCKET,
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "asr-access-logs", "TargetPrefix": ""}},
    )
    verdict = _verdict("CloudTrail.7", _bucket_resource())
    assert verdict.status is Status.PASSED
    assert "'asr-access-logs'" in verdict.reason
