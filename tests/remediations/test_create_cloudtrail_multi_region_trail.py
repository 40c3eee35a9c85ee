"""ASR-CreateCloudTrailMultiRegionTrail: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from asr import solution
from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts import create_cloudtrail_multi_region_trail as script
from tests.conftest import ACCOUNT, REGION
from tests.remediations.helpers import new_kms_key

DOC = "CreateCloudTrailMultiRegionTrail"
LOG_BUCKET, TRAIL_BUCKET = script.bucket_names(ACCOUNT, REGION)


def trails() -> dict[str, dict]:
    return {t["Name"]: t for t in boto3.client("cloudtrail", region_name=REGION).describe_trails()["trailList"]}


def is_logging(name: str) -> bool:
    return boto3.client("cloudtrail", region_name=REGION).get_trail_status(Name=name)["IsLogging"]


def policy(bucket: str) -> dict:
    return json.loads(boto3.client("s3").get_bucket_policy(Bucket=bucket)["Policy"])


def run_script(key: str) -> tuple[dict, dict]:
    buckets = script.create_buckets({"AWSPartition": "aws", "KMSKeyArn": key}, None)
    trail = script.create_trail({"KMSKeyArn": key, "TrailBucket": buckets["TrailBucket"]}, None)
    return buckets, trail


# --- script --------------------------------------------------------------------


def test_creates_hardened_buckets_and_a_logging_multi_region_trail(aws_only):
    key = new_kms_key()
    buckets, out = run_script(key)
    s3 = boto3.client("s3")
    for bucket in (LOG_BUCKET, TRAIL_BUCKET):
        assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        assert policy(bucket)["Statement"][-1]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert s3.get_bucket_logging(Bucket=TRAIL_BUCKET)["LoggingEnabled"]["TargetBucket"] == LOG_BUCKET
    write = policy(TRAIL_BUCKET)["Statement"][1]
    assert write["Condition"]["StringEquals"]["aws:SourceArn"].endswith(f":{ACCOUNT}:trail/{script.TRAIL_NAME}")
    trail = trails()[script.TRAIL_NAME]
    assert trail["IsMultiRegionTrail"] and trail["LogFileValidationEnabled"] and trail["KmsKeyId"] == key
    assert trail["S3BucketName"] == TRAIL_BUCKET and is_logging(script.TRAIL_NAME)
    assert buckets["BucketsCreated"] == f"{LOG_BUCKET}, {TRAIL_BUCKET}"
    assert out["Message"] == "Trail created; logging started."


def test_existing_bucket_policy_is_kept(aws_only):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=TRAIL_BUCKET)
    mine = {"Sid": "Mine", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket",
            "Resource": f"arn:aws:s3:::{TRAIL_BUCKET}"}
    own = {"Version": "2012-10-17", "Statement": [mine]}
    s3.put_bucket_policy(Bucket=TRAIL_BUCKET, Policy=json.dumps(own))
    buckets, _ = run_script(new_kms_key())
    assert policy(TRAIL_BUCKET) == own
    assert buckets["BucketsCreated"] == LOG_BUCKET


def test_stopped_trail_is_restarted_not_recreated(aws_only):
    key = new_kms_key()
    run_script(key)
    boto3.client("cloudtrail").stop_logging(Name=script.TRAIL_NAME)
    _, out = run_script(new_kms_key())
    assert is_logging(script.TRAIL_NAME) and out["Message"] == "logging started."
    assert trails()[script.TRAIL_NAME]["KmsKeyId"] == key


def test_single_region_trail_of_the_solution_is_made_multi_region(aws_only, as_remediation_role):
    key = new_kms_key()
    buckets = script.create_buckets({"AWSPartition": "aws", "KMSKeyArn": key}, None)
    boto3.client("cloudtrail").create_trail(Name=script.TRAIL_NAME, S3BucketName=buckets["TrailBucket"])
    with as_remediation_role("CreateCloudTrailMultiRegionTrail"):
        script.create_trail({"KMSKeyArn": key, "TrailBucket": buckets["TrailBucket"]}, None)
    trail = trails()[script.TRAIL_NAME]
    assert trail["IsMultiRegionTrail"] and trail["IncludeGlobalServiceEvents"]
    assert is_logging(script.TRAIL_NAME)


def test_bucket_owned_by_another_account_is_refused(monkeypatch):
    # moto does not model bucket ownership across accounts (HeadBucket with ExpectedBucketOwner);
    # the real API answers 403, so this case is proven with Stubber.
    s3 = boto3.client("s3", region_name=REGION)
    stub = Stubber(s3)
    stub.add_client_error("head_bucket", "403", http_status_code=403,
                          expected_params={"Bucket": LOG_BUCKET, "ExpectedBucketOwner": ACCOUNT})
    with stub, pytest.raises(script.RemediationError, match=f"bucket {LOG_BUCKET} exists but is not owned"):
        script._ensure_bucket(s3, LOG_BUCKET, ACCOUNT)
    stub.assert_no_pending_responses()


def test_partition_mismatch_names_the_input(aws_only):
    with pytest.raises(script.RemediationError, match="AWSPartition aws-cn: this account is in partition aws"):
        script.create_buckets({"AWSPartition": "aws-cn", "KMSKeyArn": new_kms_key()}, None)


# --- document ------------------------------------------------------------------


@pytest.fixture
def account(run_runbook):
    key = new_kms_key()
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=solution.SSM_CMK_REMEDIATION_ARN, Value=key, Type="String")
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="team-bucket")
    boto3.client("cloudtrail", region_name=REGION).create_trail(Name="team-trail", S3BucketName="team-bucket")
    return key


def test_document_creates_the_trail_with_solution_defaults(run_runbook, account):
    execution = run_runbook(DOC)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    trail = trails()[script.TRAIL_NAME]
    assert trail["IsMultiRegionTrail"] and trail["KmsKeyId"] == account and is_logging(script.TRAIL_NAME)
    # the bystander trail and bucket are untouched
    assert not trails()["team-trail"]["IsMultiRegionTrail"] and not is_logging("team-trail")
    with pytest.raises(ClientError):
        boto3.client("s3").get_bucket_policy(Bucket="team-bucket")
    assert "CreateTrail.Output" in execution["Outputs"]


def test_document_second_run_changes_nothing(run_runbook, account):
    run_runbook(DOC)
    before = policy(TRAIL_BUCKET)
    second = run_runbook(DOC)
    assert second["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in str(second["Outputs"]) and '"BucketsCreated":"none"' in str(second["Outputs"])
    assert policy(TRAIL_BUCKET) == before and len(trails()) == 2


@pytest.mark.parametrize(("param", "value"), [("KMSKeyArn", "mykey"), ("AWSPartition", "aws-eu")])
def test_document_rejects_malformed_input(run_runbook, account, param, value):
    with pytest.raises(ParameterValidationError, match=param):
        run_runbook(DOC, **{param: value})
    assert set(trails()) == {"team-trail"}


def test_document_fails_on_a_missing_key_and_creates_nothing(run_runbook, account):
    missing = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
    execution = run_runbook(DOC, KMSKeyArn=missing)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"KMSKeyArn {missing}: no such KMS key" in execution["FailureMessage"]
    assert set(trails()) == {"team-trail"}
    assert {b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]} == {"team-bucket"}
