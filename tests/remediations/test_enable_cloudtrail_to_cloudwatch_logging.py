"""ASR-EnableCloudTrailToCloudWatchLogging: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import json

import boto3
import pytest

from asr import documents, solution
from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_cloudtrail_to_cloudwatch_logging import (
    RemediationError,
    enable_cloudtrail_to_cloudwatch_logging,
)
from tests.conftest import ACCOUNT, REGION
from tests.remediations.conftest import NAMESPACE

DOC = "EnableCloudTrailToCloudWatchLogging"
SERVICE_ROLE = solution.service_role("CloudTrailToCloudWatchLogs", NAMESPACE)
SERVICE_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{SERVICE_ROLE}"


def setup_account() -> None:
    """The trail bucket and the service role the member-roles stack creates."""
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="trail-bucket")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    boto3.client("iam").create_role(RoleName=SERVICE_ROLE, AssumeRolePolicyDocument=json.dumps(trust))


def make_trail(name: str, **kwargs) -> str:
    return boto3.client("cloudtrail", region_name=REGION).create_trail(
        Name=name, S3BucketName="trail-bucket", **kwargs
    )["TrailARN"]


def trail(name: str) -> dict:
    return boto3.client("cloudtrail", region_name=REGION).get_trail(Name=name)["Trail"]


def log_groups() -> set[str]:
    return {g["logGroupName"] for g in boto3.client("logs", region_name=REGION).describe_log_groups()["logGroups"]}


def params(name: str, role: str = SERVICE_ROLE_ARN) -> dict[str, str]:
    return {"TrailName": name, "CloudWatchLogsRole": role, "LogGroupName": f"CloudTrail/{name}"}


@pytest.fixture
def aws_only(aws_only):
    setup_account()


@pytest.fixture
def account(run_runbook):
    setup_account()


def test_service_role_is_declared():
    (role,) = documents.permissions(DOC).service_roles
    assert solution.service_role(role.name, NAMESPACE) == SERVICE_ROLE
    assert role.principal == "cloudtrail.amazonaws.com"


# --- script --------------------------------------------------------------------


def test_creates_the_log_group_and_points_the_trail_at_it(aws_only):
    make_trail("target", KmsKeyId="k")
    make_trail("bystander")
    out = enable_cloudtrail_to_cloudwatch_logging(params("target"), None)
    got = trail("target")
    assert got["CloudWatchLogsLogGroupArn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:CloudTrail/target:*"
    assert got["CloudWatchLogsRoleArn"] == SERVICE_ROLE_ARN and got["KmsKeyId"] == "k"
    assert "CloudWatchLogsLogGroupArn" not in trail("bystander") or not trail("bystander")["CloudWatchLogsLogGroupArn"]
    assert out["LogGroupCreated"] == "true"


def test_reuses_an_existing_log_group(aws_only):
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="CloudTrail/target")
    logs.put_retention_policy(logGroupName="CloudTrail/target", retentionInDays=400)
    make_trail("target")
    out = enable_cloudtrail_to_cloudwatch_logging(params("target"), None)
    assert out["LogGroupCreated"] == "false"
    assert logs.describe_log_groups()["logGroups"][0]["retentionInDays"] == 400


def test_role_without_namespace_suffix_is_refused_before_any_change(aws_only):
    make_trail("target")
    unsuffixed = f"arn:aws:iam::{ACCOUNT}:role/SO0111-CloudTrailToCloudWatchLogs"
    with pytest.raises(RemediationError, match=f"CloudWatchLogsRole {unsuffixed}: no such IAM role"):
        enable_cloudtrail_to_cloudwatch_logging(params("target", unsuffixed), None)
    assert log_groups() == set()


def test_role_of_another_account_is_refused(aws_only):
    make_trail("target")
    with pytest.raises(RemediationError, match="not a role ARN of account"):
        foreign = SERVICE_ROLE_ARN.replace(ACCOUNT, "222222222222")
        enable_cloudtrail_to_cloudwatch_logging(params("target", foreign), None)


# --- document ------------------------------------------------------------------


def test_document_enables_cloudwatch_delivery(run_runbook, account):
    make_trail("target", IsMultiRegionTrail=True, EnableLogFileValidation=True)
    make_trail("bystander")
    execution = run_runbook(DOC, **params("target"))
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    got = trail("target")
    assert got["CloudWatchLogsLogGroupArn"].endswith(":log-group:CloudTrail/target:*")
    assert got["IsMultiRegionTrail"] is True and got["LogFileValidationEnabled"] is True
    assert not trail("bystander").get("CloudWatchLogsLogGroupArn")
    assert log_groups() == {"CloudTrail/target"}


def test_document_second_run_changes_nothing(run_runbook, account):
    make_trail("target")
    run_runbook(DOC, **params("target"))
    second = run_runbook(DOC, **params("target"))
    assert second["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in str(second["Outputs"])
    assert log_groups() == {"CloudTrail/target"}


@pytest.mark.parametrize(
    ("param", "value"),
    [("TrailName", "a"), ("CloudWatchLogsRole", "SO0111-CloudTrailToCloudWatchLogs-sim"),
     ("LogGroupName", "/aws/other"), ("LogGroupName", "CloudTrail/bad name")],
)
def test_document_rejects_malformed_input(run_runbook, account, param, value):
    make_trail("target")
    with pytest.raises(ParameterValidationError, match=param):
        run_runbook(DOC, **{**params("target"), param: value})
    assert log_groups() == set()


def test_document_fails_on_a_missing_trail_or_role_and_changes_nothing(run_runbook, account):
    make_trail("target")
    execution = run_runbook(DOC, **params("absent"))
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "TrailName absent: no such trail" in execution["FailureMessage"]
    # The member-roles stack's service role not deployed (the only role this remediation may read).
    boto3.client("iam").delete_role(RoleName=SERVICE_ROLE)
    missing_role = SERVICE_ROLE_ARN
    execution = run_runbook(DOC, **params("target", missing_role))
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"CloudWatchLogsRole {missing_role}: no such IAM role" in execution["FailureMessage"]
    assert log_groups() == set() and not trail("target").get("CloudWatchLogsLogGroupArn")


# --- a created log group has a retention (CloudWatch.16 / cost) -----------------------------


def retention(name: str):
    (group,) = [g for g in boto3.client("logs", region_name=REGION).describe_log_groups()["logGroups"]
                if g["logGroupName"] == name]
    return group.get("retentionInDays")


def test_a_created_log_group_keeps_events_365_days_by_default(aws_only):
    make_trail("target")
    out = enable_cloudtrail_to_cloudwatch_logging(params("target"), None)
    assert retention("CloudTrail/target") == 365
    assert "retention 365 days" in out["Message"]


def test_document_gives_the_created_log_group_the_retention_asked_for(run_runbook, account):
    make_trail("target")
    execution = run_runbook(DOC, **params("target"), RetentionDays=731)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert retention("CloudTrail/target") == 731


def test_document_keeps_the_retention_of_an_existing_log_group(run_runbook, account):
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName="CloudTrail/target")
    make_trail("target")
    execution = run_runbook(DOC, **params("target"))
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert retention("CloudTrail/target") is None


@pytest.mark.parametrize("days", [0, 366, 4000])
def test_document_rejects_a_retention_cloudwatch_logs_does_not_accept(run_runbook, account, days):
    make_trail("target")
    with pytest.raises(ParameterValidationError, match="RetentionDays"):
        run_runbook(DOC, **params("target"), RetentionDays=days)
    assert log_groups() == set()


def test_script_rejects_a_bad_retention_naming_it(aws_only):
    make_trail("target")
    with pytest.raises(RemediationError, match="RetentionDays 366: must be one of 1, 3, 5"):
        enable_cloudtrail_to_cloudwatch_logging({**params("target"), "RetentionDays": 366}, None)
    assert log_groups() == set()


def test_reads_the_trail_back_until_it_shows_the_log_group(aws_only, monkeypatch):
    # IAM and CloudWatch Logs on moto; the trail's answers from Stubber: the first read after UpdateTrail
    # does not show the log group yet.
    from tests.remediations.helpers.stubs import stubbed_boto3_client

    arn = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/target"
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:CloudTrail/target:*"
    plain = {"Trail": {"Name": "target", "TrailARN": arn, "HomeRegion": REGION}}
    with stubbed_boto3_client(monkeypatch, "cloudtrail") as stub:
        stub.add_response("get_trail", plain, {"Name": "target"})
        stub.add_response("update_trail", {}, {"Name": arn, "CloudWatchLogsLogGroupArn": group,
                                               "CloudWatchLogsRoleArn": SERVICE_ROLE_ARN})
        stub.add_response("get_trail", plain, {"Name": arn})
        stub.add_response("get_trail", {"Trail": {**plain["Trail"], "CloudWatchLogsLogGroupArn": group}}, {"Name": arn})
        sleeps = []
        out = enable_cloudtrail_to_cloudwatch_logging(params("target"), None, sleep=sleeps.append)
    assert sleeps == [10] and out["LogGroupArn"] == group
