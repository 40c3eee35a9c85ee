"""ASR-CreateAccessLoggingBucket: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import json

import boto3
import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.create_access_logging_bucket import (
    RemediationError,
    create_access_logging_bucket,
)
from tests.conftest import ACCOUNT
from tests.remediations.helpers.stubs import stub_every_boto3_client

NAME = "CreateAccessLoggingBucket"
BUCKET = f"so0111-cloudtrailaccesslogs-{ACCOUNT}-us-east-1"
ALL_ON = dict.fromkeys(("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True)


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="so0111-bystander")
    return client


def _event(bucket=BUCKET, region="us-east-1"):
    return {"BucketName": bucket, "AccountId": ACCOUNT, "Region": region, "Partition": "aws"}


def _statements(s3, bucket=BUCKET):
    return {s["Sid"]: s for s in json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]}


def _assert_configured(s3, bucket=BUCKET):
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == ALL_ON
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "ObjectWriter"}
    ]
    statements = _statements(s3, bucket)
    delivery = statements["S3ServerAccessLogsPolicy"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert statements["AllowSSLRequestsOnly"]["Effect"] == "Deny"


def _bystander_untouched(s3):
    assert s3.list_objects_v2(Bucket="so0111-bystander")["KeyCount"] == 0
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket="so0111-bystander")


# --- script ------------------------------------------------------------------------


def test_script_creates_a_configured_bucket(s3):
    out = create_access_logging_bucket(_event(), None)
    _assert_configured(s3)
    assert out["Created"] == "true"
    _bystander_untouched(s3)


def test_script_creates_outside_us_east_1_with_a_location_constraint(s3):
    create_access_logging_bucket(_event("so0111-logs-eu", "eu-west-1"), None)
    assert s3.get_bucket_location(Bucket="so0111-logs-eu")["LocationConstraint"] == "eu-west-1"


def test_script_completes_an_existing_bucket_and_keeps_its_statements(s3):
    s3.create_bucket(Bucket=BUCKET, ObjectOwnership="ObjectWriter")
    mine = {
        "Sid": "Mine",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
    }
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [mine]}))
    out = create_access_logging_bucket(_event(), None)
    _assert_configured(s3)
    assert _statements(s3)["Mine"] == mine
    assert out["Created"] == "false"


def test_script_keeps_an_existing_default_encryption(s3):
    s3.create_bucket(Bucket=BUCKET)
    kms = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/mine"}
    s3.put_bucket_encryption(
        Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": kms}]}
    )
    create_access_logging_bucket(_event(), None)
    rules = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"] == kms


def test_script_refuses_a_bucket_of_that_name_in_another_region(s3):
    s3.create_bucket(Bucket="so0111-logs-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    with pytest.raises(
        RemediationError, match="BucketName so0111-logs-eu: the bucket already exists in Region eu-west-1"
    ):
        create_access_logging_bucket(_event("so0111-logs-eu"), None)
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket="so0111-logs-eu")


def test_script_refuses_a_name_owned_by_another_account(monkeypatch):
    # moto ignores ExpectedBucketOwner (HeadBucket answers 200 for another account's
    # bucket), so this is proven with Stubber: real S3 answers 403 and nothing is called after.
    stub = stub_every_boto3_client(monkeypatch, "s3")
    stub.add_client_error(
        "head_bucket",
        service_error_code="403",
        http_status_code=403,
        expected_params={"Bucket": "so0111-taken", "ExpectedBucketOwner": ACCOUNT},
    )
    with pytest.raises(
        RemediationError, match=f"BucketName so0111-taken: the bucket exists but is not owned by account {ACCOUNT}"
    ):
        create_access_logging_bucket(_event("so0111-taken"), None)
    stub.assert_no_pending_responses()


def test_script_refuses_a_name_taken_in_another_account_at_create(monkeypatch):
    # Real S3: HeadBucket may say 404 to a stranger while CreateBucket says BucketAlreadyExists.
    stub = stub_every_boto3_client(monkeypatch, "s3")
    stub.add_client_error("head_bucket", service_error_code="404", http_status_code=404)
    stub.add_client_error(
        "create_bucket",
        service_error_code="BucketAlreadyExists",
        http_status_code=409,
        expected_params={"Bucket": "so0111-taken", "ObjectOwnership": "ObjectWriter"},
    )
    with pytest.raises(RemediationError, match="BucketName so0111-taken: the name is taken by another account"):
        create_access_logging_bucket(_event("so0111-taken"), None)
    stub.assert_no_pending_responses()


# --- document ----------------------------------------------------------------------


def test_document_creates_the_logging_bucket(s3, run_runbook):
    result = run_runbook(NAME, BucketName=BUCKET)
    assert result["AutomationExecutionStatus"] == "Success", result.get("FailureMessage")
    _assert_configured(s3)
    _bystander_untouched(s3)
    assert "created bucket" in str(result["Outputs"]["CreateAccessLoggingBucket.Output"])


def test_document_second_run_changes_nothing(s3, run_runbook):
    assert run_runbook(NAME, BucketName=BUCKET)["AutomationExecutionStatus"] == "Success"
    policy = s3.get_bucket_policy(Bucket=BUCKET)["Policy"]
    result = run_runbook(NAME, BucketName=BUCKET)
    assert result["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in str(result["Outputs"])
    assert s3.get_bucket_policy(Bucket=BUCKET)["Policy"] == policy


@pytest.mark.parametrize("bad", [f"arn:aws:s3:::{BUCKET}", "So0111-Logs", "so0111_logs", "x" * 64])
def test_document_rejects_a_malformed_bucket_name(s3, run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="parameter 'BucketName'"):
        run_runbook(NAME, BucketName=bad)
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["so0111-bystander"]


def test_document_refuses_a_bucket_in_another_region(s3, run_runbook):
    s3.create_bucket(Bucket="so0111-logs-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    result = run_runbook(NAME, BucketName="so0111-logs-eu")
    assert result["AutomationExecutionStatus"] == "Failed"
    assert "BucketName so0111-logs-eu: the bucket already exists in Region eu-west-1" in result["FailureMessage"]
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchPublicAccessBlockConfiguration"):
        s3.get_public_access_block(Bucket="so0111-logs-eu")


# --- the solution's log bucket never logs into itself (S3.9 / CloudTrail.7) -------------------
#
# "When your source bucket and destination bucket are the same bucket, additional logs are created for the
# logs that are written to the bucket, which creates an infinite loop of logs"
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html).


def test_script_refuses_the_log_bucket_as_its_own_source(s3):
    with pytest.raises(RemediationError, match=f"SourceBucketName {BUCKET}: it is the access-log bucket itself"):
        create_access_logging_bucket({**_event(), "SourceBucketName": BUCKET}, None)
    assert BUCKET not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_script_refuses_a_source_the_log_bucket_logs_to(s3):
    create_access_logging_bucket(_event(), None)
    s3.put_bucket_acl(Bucket="so0111-bystander", ACL="log-delivery-write")
    s3.put_bucket_logging(Bucket=BUCKET, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": "so0111-bystander", "TargetPrefix": "x/"}})
    with pytest.raises(RemediationError, match=f"the access-log bucket {BUCKET} delivers its own logs to so0111-bys"):
        create_access_logging_bucket({**_event(), "SourceBucketName": "so0111-bystander"}, None)


def test_document_accepts_another_source_bucket(s3, run_runbook):
    result = run_runbook(NAME, BucketName=BUCKET, SourceBucketName="so0111-bystander")
    assert result["AutomationExecutionStatus"] == "Success", result.get("FailureMessage")
    _assert_configured(s3)


@pytest.fixture
def control_world(monkeypatch):
    """The playbook tests' world: moto with accounts apart, BatchUpdateFindings, solution parameters."""
    from tests.conftest import REGION, multi_account_moto
    from tests.playbooks import securityhub
    from tests.playbooks.harness import CLIENTS, solution_parameters

    CLIENTS.clear()
    securityhub.install(monkeypatch)
    with multi_account_moto(monkeypatch):
        solution_parameters(ACCOUNT, REGION)
        yield
    CLIENTS.clear()


@pytest.mark.parametrize(("key", "control_id"), [("SC", "S3.9"), ("AFSBP", "S3.9"), ("CIS140", "3.6")])
def test_control_runbook_never_makes_the_log_bucket_log_into_itself(control_world, key, control_id):
    from asr.playbooks import data
    from tests.playbooks.harness import client, finding_for, import_finding, real_registry, run_control, stored_finding

    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET)  # the log bucket, as an earlier S3.9 remediation left it
    std = data.load_standard(key)
    entry = std.control(control_id)
    finding = finding_for(std, control_id, f"arn:aws:s3:::{BUCKET}", resource_type="AwsS3Bucket")
    import_finding(finding)
    _, execution = run_control(real_registry(), std, entry.remap or control_id, finding)
    assert execution.status == "Failed"
    assert f"SourceBucketName {BUCKET}: it is the access-log bucket itself" in execution.failure_message
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=BUCKET)
    assert stored_finding(finding["Id"])["Workflow"]["Status"] == "NEW"
