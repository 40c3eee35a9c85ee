"""ASR-EnableCloudTrailEncryption: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import json

import boto3
import pytest

from asr import solution
from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts import enable_cloudtrail_encryption as script
from remediation_runbooks.scripts.enable_cloudtrail_encryption import RemediationError, enable_cloudtrail_encryption
from tests.conftest import ACCOUNT, REGION
from tests.remediations.helpers import new_kms_key
from tests.remediations.helpers.stubs import stub_every_boto3_client

DOC = "EnableCloudTrailEncryption"


def make_trail(name: str, **kwargs) -> str:
    s3 = boto3.client("s3", region_name=REGION)
    if "trail-bucket" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket="trail-bucket")
    cloudtrail = boto3.client("cloudtrail", region_name=REGION)
    return cloudtrail.create_trail(Name=name, S3BucketName="trail-bucket", **kwargs)["TrailARN"]


def kms_of(trail_arn: str) -> str | None:
    return boto3.client("cloudtrail", region_name=REGION).get_trail(Name=trail_arn)["Trail"].get("KmsKeyId")


def run_script(trail_arn: str, key: str, region: str = REGION) -> dict:
    return enable_cloudtrail_encryption({"TrailArn": trail_arn, "TrailRegion": region, "KMSKeyArn": key}, None)


# --- script --------------------------------------------------------------------


def test_encrypts_the_named_trail_only(aws_only):
    target, bystander, key = make_trail("target", S3KeyPrefix="logs"), make_trail("bystander"), new_kms_key()
    out = run_script(target, key)
    assert kms_of(target) == key and kms_of(bystander) is None
    assert boto3.client("cloudtrail").get_trail(Name=target)["Trail"]["S3KeyPrefix"] == "logs"
    assert out["KmsKeyBefore"] == "none" and out["KmsKeyAfter"] == key


def test_alias_arn_resolves_to_the_key(aws_only):
    key = new_kms_key()
    boto3.client("kms").create_alias(AliasName="alias/trail", TargetKeyId=key)
    trail = make_trail("trl")
    run_script(trail, key.replace(key.split(":")[-1], "alias/trail"))
    assert kms_of(trail) == key


def test_keeps_an_existing_key(aws_only):
    own, other = new_kms_key(), new_kms_key()
    trail = make_trail("trl", KmsKeyId=own)
    out = run_script(trail, other)
    assert kms_of(trail) == own and "nothing changed" in out["Message"]


def test_disabled_key_is_refused(aws_only):
    key, trail = new_kms_key(), make_trail("trl")
    boto3.client("kms").disable_key(KeyId=key.split("/")[-1])
    with pytest.raises(RemediationError, match=f"KMSKeyArn {key}: key is Disabled"):
        run_script(trail, key)
    assert kms_of(trail) is None


def test_asymmetric_key_is_refused(aws_only):
    key, trail = new_kms_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT"), make_trail("trl")
    with pytest.raises(RemediationError, match="key spec RSA_2048"):
        run_script(trail, key)


def test_region_mismatch_is_refused(aws_only):
    trail = make_trail("trl")
    with pytest.raises(RemediationError, match="TrailRegion eu-west-1 does not match the home Region us-east-1"):
        run_script(trail, new_kms_key(), "eu-west-1")


# --- document ------------------------------------------------------------------


def test_document_encrypts_with_the_solution_key_by_default(run_runbook):
    key = new_kms_key()
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name=solution.SSM_CMK_REMEDIATION_ARN, Value=key, Type="String")
    target, bystander = make_trail("target", IsMultiRegionTrail=True), make_trail("bystander")
    execution = run_runbook(DOC, TrailArn=target, TrailRegion=REGION)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert kms_of(target) == key and kms_of(bystander) is None
    trail = boto3.client("cloudtrail").get_trail(Name=target)["Trail"]
    assert trail["IsMultiRegionTrail"] is True and trail["S3BucketName"] == "trail-bucket"


def test_document_second_run_changes_nothing(run_runbook):
    key, trail = new_kms_key(), make_trail("trl")
    run_runbook(DOC, TrailArn=trail, TrailRegion=REGION, KMSKeyArn=key)
    second = run_runbook(DOC, TrailArn=trail, TrailRegion=REGION, KMSKeyArn=new_kms_key())
    assert second["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in str(second["Outputs"]) and kms_of(trail) == key


@pytest.mark.parametrize(
    ("param", "value"),
    [("TrailArn", "my-trail"), ("TrailRegion", "us-east"), ("KMSKeyArn", "alias/aws/cloudtrail"),
     ("KMSKeyArn", "arn:aws:kms:us-east-1:111111111111:key/not-a-uuid")],
)
def test_document_rejects_malformed_input(run_runbook, param, value):
    trail = make_trail("trl")
    good = {"TrailArn": trail, "TrailRegion": REGION, "KMSKeyArn": new_kms_key()}
    with pytest.raises(ParameterValidationError, match=param):
        run_runbook(DOC, **{**good, param: value})
    assert kms_of(trail) is None


def test_document_fails_on_a_missing_trail_or_key(run_runbook):
    trail = make_trail("trl")
    missing_trail = trail.replace("trail/trl", "trail/gone")
    execution = run_runbook(DOC, TrailArn=missing_trail, TrailRegion=REGION, KMSKeyArn=new_kms_key())
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"TrailArn {missing_trail}: no such trail" in execution["FailureMessage"]
    missing_key = "arn:aws:kms:us-east-1:111111111111:key/11111111-2222-3333-4444-555555555555"
    execution = run_runbook(DOC, TrailArn=trail, TrailRegion=REGION, KMSKeyArn=missing_key)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"KMSKeyArn {missing_key}: no such KMS key" in execution["FailureMessage"]
    assert kms_of(trail) is None


# --- the key goes where the bucket is; readers of other accounts are not locked out ----------
#
# "The key that you choose must be in the same region as the S3 bucket that receives your log files", and a
# reader of the log files then also needs kms:Decrypt from the key policy
# (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/encrypting-cloudtrail-log-files-with-aws-kms.html).

OTHER_REGION = "eu-west-1"
PARTNER = "222222222222"


def bucket_in(region: str, name: str) -> str:
    boto3.client("s3", region_name=region).create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": region}
    )
    return name


def key_in(region: str, policy: dict | None = None) -> str:
    kwargs = {"Policy": json.dumps(policy)} if policy else {}
    return boto3.client("kms", region_name=region).create_key(**kwargs)["KeyMetadata"]["Arn"]


def solution_key(region: str, key: str) -> None:
    boto3.client("ssm", region_name=region).put_parameter(
        Name=solution.SSM_CMK_REMEDIATION_ARN, Value=key, Type="String", Overwrite=True
    )


def readable_by_partner(bucket: str) -> None:
    statement = {"Sid": "PartnerReads", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"},
                 "Action": ["s3:GetObject", "s3:ListBucket"],
                 "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}
    boto3.client("s3").put_bucket_policy(
        Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )


def test_document_uses_the_remediation_key_of_the_buckets_region(run_runbook):
    here, there = key_in(REGION), key_in(OTHER_REGION)
    solution_key(REGION, here)
    solution_key(OTHER_REGION, there)
    bucket = bucket_in(OTHER_REGION, "trail-bucket-eu")
    trail = boto3.client("cloudtrail", region_name=REGION).create_trail(Name="trl", S3BucketName=bucket)["TrailARN"]
    execution = run_runbook(DOC, TrailArn=trail, TrailRegion=REGION)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert kms_of(trail) == there


def test_document_refuses_a_key_in_another_region_than_the_bucket(run_runbook):
    here = key_in(REGION)
    solution_key(REGION, here)  # no member key (RemediationKeyMode None) in eu-west-1
    bucket = bucket_in(OTHER_REGION, "trail-bucket-eu")
    trail = boto3.client("cloudtrail", region_name=REGION).create_trail(Name="trl", S3BucketName=bucket)["TrailARN"]
    execution = run_runbook(DOC, TrailArn=trail, TrailRegion=REGION, KMSKeyArn=here)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "CloudTrail needs a key in the Region of the trail's bucket trail-bucket-eu (eu-west-1)" in (
        execution["FailureMessage"]
    )
    # Without KMSKeyArn: the member key of the bucket's Region, and there is none there.
    execution = run_runbook(DOC, TrailArn=trail, TrailRegion=REGION)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "CloudTrail.2 needs a customer managed KMS key in eu-west-1 (the Region of the trail's bucket " in (
        execution["FailureMessage"]
    )
    assert "RemediationKeyMode" in execution["FailureMessage"]
    assert kms_of(trail) is None


def test_document_refuses_to_lock_out_readers_of_other_accounts(run_runbook):
    key = key_in(REGION)
    trail = make_trail("trl")
    readable_by_partner("trail-bucket")
    execution = run_runbook(DOC, TrailArn=trail, TrailRegion=REGION, KMSKeyArn=key)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"lets {PARTNER} read the log files, and the policy of key {key} does not let them decrypt" in (
        execution["FailureMessage"]
    )
    assert kms_of(trail) is None


def test_document_encrypts_when_the_key_lets_the_other_readers_decrypt(run_runbook):
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*",
         "Resource": "*"},
        {"Sid": "PartnerDecrypts", "Effect": "Allow", "Principal": {"AWS": PARTNER}, "Action": "kms:Decrypt",
         "Resource": "*"},
    ]}
    key = key_in(REGION, policy)
    trail = make_trail("trl")
    readable_by_partner("trail-bucket")
    execution = run_runbook(DOC, TrailArn=trail, TrailRegion=REGION, KMSKeyArn=key)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert kms_of(trail) == key


def test_bucket_of_another_account_is_refused(monkeypatch):
    # A trail delivering to a central log-archive bucket: real S3 answers 403 to GetBucketLocation with
    # ExpectedBucketOwner of this account (moto does not model bucket ownership), proven with Stubber.
    stub = stub_every_boto3_client(monkeypatch, "s3")
    stub.add_client_error("get_bucket_location", "AccessDenied", http_status_code=403,
                          expected_params={"Bucket": "central-logs", "ExpectedBucketOwner": ACCOUNT})
    with pytest.raises(RemediationError, match="its bucket central-logs is not a bucket of account 111111111111"):
        script._bucket_region("central-logs", ACCOUNT, f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/t")
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("statement", "readers"),
    [
        ({"Effect": "Allow", "Principal": "*", "Action": "s3:Get*", "Resource": "*"}, {"*"}),
        ({"Effect": "Allow", "Principal": {"AWS": PARTNER}, "Action": "s3:ListBucket", "Resource": "*"}, set()),
        ({"Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:root", PARTNER]}, "NotAction": "s3:Put*",
          "Resource": "*"}, {PARTNER}),
        ({"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetObject",
          "Resource": "*"}, set()),
        ({"Effect": "Deny", "Principal": {"AWS": PARTNER}, "Action": "s3:GetObject", "Resource": "*"}, set()),
    ],
)
def test_other_readers_are_read_from_the_bucket_policy(statement, readers):
    assert script.other_readers({"Statement": [statement]}, ACCOUNT) == readers


def test_reads_the_trail_back_until_it_shows_the_key(aws_only, monkeypatch):
    # The bucket and key checks run on moto; the trail's GetTrail answers come from Stubber: the first
    # read after UpdateTrail still shows no key.
    from tests.remediations.helpers.stubs import stubbed_boto3_client

    key = new_kms_key()
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="trail-bucket")
    arn = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/t"
    plain = {"Trail": {"Name": "t", "TrailARN": arn, "S3BucketName": "trail-bucket"}}
    with stubbed_boto3_client(monkeypatch, "cloudtrail") as stub:
        stub.add_response("get_trail", plain, {"Name": arn})
        stub.add_response("update_trail", {}, {"Name": arn, "KmsKeyId": key})
        stub.add_response("get_trail", plain, {"Name": arn})
        stub.add_response("get_trail", {"Trail": {**plain["Trail"], "KmsKeyId": key}}, {"Name": arn})
        sleeps = []
        out = enable_cloudtrail_encryption({"TrailArn": arn, "TrailRegion": REGION, "KMSKeyArn": key}, None,
                                           sleep=sleeps.append)
    assert sleeps == [10] and out["KmsKeyAfter"] == key
