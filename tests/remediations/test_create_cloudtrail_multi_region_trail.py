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
from tests.remediations.helpers.stubs import stub_every_boto3_client

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


# --- an existing multi-Region trail is corrected, never duplicated (CloudTrail.1) -------------

OTHER_REGION = "eu-west-1"
ALL = [{"ReadWriteType": "All", "IncludeManagementEvents": True}]


def team_trail(name: str, region: str = REGION, selectors: list | None = None, logging: bool = True) -> str:
    """A team's multi-Region trail homed in ``region``, with explicit event selectors."""
    s3 = boto3.client("s3", region_name=region)
    bucket = f"{name}-bucket"
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **location)
    cloudtrail = boto3.client("cloudtrail", region_name=region)
    arn = cloudtrail.create_trail(Name=name, S3BucketName=bucket, IsMultiRegionTrail=True)["TrailARN"]
    if selectors is not None:
        cloudtrail.put_event_selectors(TrailName=arn, EventSelectors=selectors)
    if logging:
        cloudtrail.start_logging(Name=arn)
    return arn


def selectors_of(arn: str) -> dict:
    out = boto3.client("cloudtrail", region_name=arn.split(":")[3]).get_event_selectors(TrailName=arn)
    return {k: out[k] for k in ("EventSelectors", "AdvancedEventSelectors") if out.get(k)}


def all_trail_arns() -> list[str]:
    found = boto3.client("cloudtrail", region_name=REGION).describe_trails(includeShadowTrails=True)["trailList"]
    return sorted(t["TrailARN"] for t in found)


def test_document_corrects_a_read_only_shadow_trail_in_its_home_region(run_runbook, account):
    # A multi-Region trail homed in another Region appears here as a shadow trail: it is the account's
    # multi-Region trail. The reference created a second one (and paid for a second copy of events).
    arn = team_trail("org-wide", OTHER_REGION, [{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}])
    before = all_trail_arns()
    execution = run_runbook(DOC)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert all_trail_arns() == before  # nothing created
    assert selectors_of(arn) == {"EventSelectors": ALL}
    assert TRAIL_BUCKET not in {b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]}
    second = run_runbook(DOC)
    assert second["AutomationExecutionStatus"] == "Success" and "nothing changed" in str(second["Outputs"])


def test_document_adds_management_events_to_a_data_events_trail(run_runbook, account):
    data = {"ReadWriteType": "All", "IncludeManagementEvents": False,
            "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::data-bucket/"]}]}
    arn = team_trail("data-only", selectors=[data])
    execution = run_runbook(DOC)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    got = selectors_of(arn)["EventSelectors"]
    assert got[0]["DataResources"] == data["DataResources"] and got[0]["IncludeManagementEvents"] is False
    assert got[1]["ReadWriteType"] == "All" and got[1]["IncludeManagementEvents"] is True
    assert script.TRAIL_NAME not in trails()


def test_document_restarts_a_stopped_multi_region_trail_instead_of_creating_one(run_runbook, account):
    arn = team_trail("stopped", selectors=ALL, logging=False)
    execution = run_runbook(DOC)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert is_logging(arn) and script.TRAIL_NAME not in trails()


def test_write_only_selector_with_excluded_source_is_made_to_record_everything():
    selectors = {"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True,
                                     "ExcludeManagementEventSources": ["kms.amazonaws.com"], "DataResources": []}]}
    assert script.corrected_selectors("t", selectors) == {
        "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}]
    }


def test_advanced_selectors_get_a_management_selector_added():
    data = {"Name": "s3 data", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                                   {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}
    assert script.corrected_selectors("t", {"AdvancedEventSelectors": [data]}) == {
        "AdvancedEventSelectors": [data, script.ADVANCED_MANAGEMENT_SELECTOR]
    }


def test_five_data_selectors_are_refused_naming_the_trail():
    data = {"ReadWriteType": "All", "IncludeManagementEvents": False,
            "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::b/"]}]}
    with pytest.raises(script.RemediationError, match="trail t: it has 5 data event selectors"):
        script.corrected_selectors("t", {"EventSelectors": [data] * 5})


def test_a_trail_of_another_account_is_not_a_candidate():
    trails_seen = [
        {"Name": "org", "TrailARN": "arn:aws:cloudtrail:us-east-1:999999999999:trail/org", "IsMultiRegionTrail": True},
    ]

    class Fake:
        def describe_trails(self, includeShadowTrails):
            return {"trailList": trails_seen}

    assert script._own_multi_region_trails(Fake(), ACCOUNT) == []


def test_verify_reads_back_until_the_trail_shows_the_change(monkeypatch):
    stub = stub_every_boto3_client(monkeypatch, "cloudtrail")
    arn = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/t"
    for logging, selectors in ((False, ALL), (True, [{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}]),
                               (True, ALL)):
        stub.add_response("get_trail_status", {"IsLogging": logging}, {"Name": arn})
        stub.add_response("get_event_selectors", {"TrailARN": arn, "EventSelectors": selectors}, {"TrailName": arn})
    sleeps = []
    script._verify(arn, REGION, sleeps.append)
    assert sleeps == [10, 10]
    stub.assert_no_pending_responses()


def test_verify_gives_up_after_a_minute(monkeypatch):
    stub = stub_every_boto3_client(monkeypatch, "cloudtrail")
    arn = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/t"
    for _ in range(6):
        stub.add_response("get_trail_status", {"IsLogging": False}, {"Name": arn})
        stub.add_response("get_event_selectors", {"TrailARN": arn, "EventSelectors": ALL}, {"TrailName": arn})
    sleeps = []
    with pytest.raises(script.RemediationError, match=f"trail {arn} is not logging all management events after 6"):
        script._verify(arn, REGION, sleeps.append)
    assert sleeps == [10] * 5
