"""ASR-EnableCloudTrailEncryption: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import boto3
import pytest

from asr import solution
from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_cloudtrail_encryption import RemediationError, enable_cloudtrail_encryption
from tests.conftest import REGION
from tests.remediations.helpers import new_kms_key

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
