"""ASR-EnableCloudTrailLogFileValidation: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import boto3
import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts import enable_cloudtrail_log_file_validation as script
from tests.conftest import ACCOUNT, REGION
from tests.remediations.helpers.stubs import stub_every_boto3_client

DOC = "EnableCloudTrailLogFileValidation"


def make_trail(name: str, bucket: str = "trail-bucket", **kwargs) -> dict:
    s3 = boto3.client("s3", region_name=REGION)
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket)
    return boto3.client("cloudtrail", region_name=REGION).create_trail(Name=name, S3BucketName=bucket, **kwargs)


def trail(name: str) -> dict:
    return boto3.client("cloudtrail", region_name=REGION).get_trail(Name=name)["Trail"]


# --- script --------------------------------------------------------------------


def test_enables_validation_on_the_named_trail_only(aws_only):
    make_trail("target", S3KeyPrefix="p", IsMultiRegionTrail=True)
    make_trail("bystander")
    out = script.enable_cloudtrail_log_file_validation({"TrailName": "target"}, None)
    assert trail("target")["LogFileValidationEnabled"] is True
    assert trail("bystander")["LogFileValidationEnabled"] is False
    assert trail("target")["S3KeyPrefix"] == "p" and trail("target")["IsMultiRegionTrail"] is True
    assert out["ValidationBefore"] == "false" and out["ValidationAfter"] == "true"


def test_accepts_the_trail_arn(aws_only):
    arn = make_trail("by-arn")["TrailARN"]
    script.enable_cloudtrail_log_file_validation({"TrailName": arn}, None)
    assert trail("by-arn")["LogFileValidationEnabled"] is True


def test_missing_trail_names_the_input(aws_only):
    with pytest.raises(script.RemediationError, match="TrailName nope: no such trail"):
        script.enable_cloudtrail_log_file_validation({"TrailName": "nope"}, None)


def test_shadow_trail_is_refused(monkeypatch):
    # moto's GetTrail does not return a multi-Region trail outside its home Region;
    # the real API does (with HomeRegion), so this case is proven with Stubber.
    stub = stub_every_boto3_client(monkeypatch, "cloudtrail", REGION)
    stub.add_response(
        "get_trail",
        {"Trail": {"Name": "org", "TrailARN": f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:trail/org",
                   "HomeRegion": "eu-west-1", "IsMultiRegionTrail": True, "LogFileValidationEnabled": False}},
        {"Name": "org"},
    )
    with pytest.raises(script.RemediationError, match="home Region is eu-west-1"):
        script.enable_cloudtrail_log_file_validation({"TrailName": "org"}, None)
    stub.assert_no_pending_responses()  # and no UpdateTrail was called


# --- document ------------------------------------------------------------------


def test_document_enables_validation(run_runbook):
    make_trail("target", IsMultiRegionTrail=True, IncludeGlobalServiceEvents=True)
    make_trail("bystander")
    execution = run_runbook(DOC, TrailName="target")
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert trail("target")["LogFileValidationEnabled"] is True
    assert trail("target")["IsMultiRegionTrail"] is True
    assert trail("bystander")["LogFileValidationEnabled"] is False


def test_document_second_run_changes_nothing(run_runbook):
    arn = make_trail("target")["TrailARN"]
    run_runbook(DOC, TrailName=arn)
    second = run_runbook(DOC, TrailName=arn)
    assert second["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in str(second["Outputs"])
    assert trail("target")["LogFileValidationEnabled"] is True


@pytest.mark.parametrize("bad", ["x", "-bad-start", "arn:aws:s3:::bucket", "name with space"])
def test_document_rejects_a_malformed_trail_name(run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="TrailName"):
        run_runbook(DOC, TrailName=bad)


def test_document_fails_on_a_missing_trail_and_changes_nothing(run_runbook):
    make_trail("present")
    execution = run_runbook(DOC, TrailName="absent")
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "TrailName absent: no such trail" in execution["FailureMessage"]
    assert trail("present")["LogFileValidationEnabled"] is False


# --- read back after UpdateTrail -----------------------------------------------------------------

_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/t"


def _trail_response(validation: bool) -> dict:
    return {"Trail": {"Name": "t", "TrailARN": _ARN, "HomeRegion": REGION, "LogFileValidationEnabled": validation}}


def _stub_reads(monkeypatch, reads: list[bool]):
    stub = stub_every_boto3_client(monkeypatch, "cloudtrail", REGION)
    stub.add_response("get_trail", _trail_response(False), {"Name": "t"})
    stub.add_response("update_trail", {}, {"Name": _ARN, "EnableLogFileValidation": True})
    for validation in reads:
        stub.add_response("get_trail", _trail_response(validation), {"Name": _ARN})
    return stub


def test_reads_the_trail_back_until_it_shows_validation(monkeypatch):
    stub = _stub_reads(monkeypatch, [False, False, True])
    sleeps = []
    out = script.enable_cloudtrail_log_file_validation({"TrailName": "t"}, None, sleep=sleeps.append)
    assert sleeps == [10, 10] and out["ValidationAfter"] == "true"
    stub.assert_no_pending_responses()


def test_gives_up_after_a_minute_naming_the_trail(monkeypatch):
    stub = _stub_reads(monkeypatch, [False] * 6)
    sleeps = []
    with pytest.raises(script.RemediationError, match="TrailName t: log file validation is still off 6 reads"):
        script.enable_cloudtrail_log_file_validation({"TrailName": "t"}, None, sleep=sleeps.append)
    assert sleeps == [10] * 5
    stub.assert_no_pending_responses()
