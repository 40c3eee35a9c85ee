"""ASR-EnableAWSConfig: the scripts against moto, then the YAML document (with its child
ASR-CreateAccessLoggingBucket) through the runner."""

from __future__ import annotations

import json

import boto3
import pytest

from asr import solution
from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts import enable_aws_config as script
from tests.conftest import ACCOUNT, REGION
from tests.remediations.helpers import new_kms_key

DOC = "EnableAWSConfig"
TOPIC = "SO0111-ASR-AWSConfigNotification"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC}"
CONFIG_BUCKET = f"so0111-aws-config-{REGION}-{ACCOUNT}"
ACCESS_LOG_BUCKET = f"so0111-accesslogs-{ACCOUNT}-{REGION}"
SLR_ARN = f"arn:aws:iam::{ACCOUNT}:role/{script.DEFAULT_ROLE}"


def config():
    return boto3.client("config", region_name=REGION)


def recorder() -> dict:
    (found,) = config().describe_configuration_recorders()["ConfigurationRecorders"]
    return found


def recording() -> bool:
    return config().describe_configuration_recorder_status()["ConfigurationRecordersStatus"][0]["recording"]


def buckets() -> set[str]:
    return {b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]}


def existing_setup(recording_group: dict) -> None:
    """A customer's own recorder and channel (bucket + topic), recorder stopped."""
    boto3.client("s3").create_bucket(Bucket="team-config")
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="team-config")["TopicArn"]
    role = f"arn:aws:iam::{ACCOUNT}:role/team-config-role"
    config().put_configuration_recorder(
        ConfigurationRecorder={"name": "team", "roleARN": role, "recordingGroup": recording_group})
    config().put_delivery_channel(DeliveryChannel={"name": "team", "s3BucketName": "team-config", "snsTopicARN": topic})


# --- scripts -------------------------------------------------------------------


def test_plan_changes_nothing_and_names_the_buckets(aws_only):
    out = script.plan({"KMSKeyArn": new_kms_key(), "AWSServiceRoleForConfig": script.DEFAULT_ROLE,
                       "AccessLogBucketRoleName": "SO0111-CreateAccessLoggingBucket-sim"}, None)
    assert out == {
        "NeedsDeliveryChannel": True, "AccessLogBucket": ACCESS_LOG_BUCKET, "ConfigBucket": CONFIG_BUCKET,
        "AccessLogBucketRole": f"arn:aws:iam::{ACCOUNT}:role/SO0111-CreateAccessLoggingBucket-sim",
    }
    assert config().describe_configuration_recorders()["ConfigurationRecorders"] == []


def test_plan_refuses_a_missing_key_or_custom_role(aws_only):
    base = {"KMSKeyArn": new_kms_key(), "AWSServiceRoleForConfig": script.DEFAULT_ROLE, "AccessLogBucketRoleName": "r"}
    missing = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
    with pytest.raises(script.RemediationError, match=f"KMSKeyArn {missing}: no such KMS key"):
        script.plan({**base, "KMSKeyArn": missing}, None)
    with pytest.raises(script.RemediationError, match="AWSServiceRoleForConfig my/role: no such IAM role"):
        script.plan({**base, "AWSServiceRoleForConfig": "my/role"}, None)


def test_recorder_is_created_with_the_service_linked_role(aws_only):
    script.set_recorder({"AWSServiceRoleForConfig": script.DEFAULT_ROLE}, None)
    # The recorder names the role by its documented ARN (moto names the role it creates
    # AWSServiceRoleForconfig; AWS: AWSServiceRoleForConfig, the ARN the role's policy grants PassRole on).
    assert len(boto3.client("iam").list_roles(PathPrefix="/aws-service-role/config.amazonaws.com/")["Roles"]) == 1
    assert recorder()["roleARN"] == SLR_ARN
    assert recorder()["recordingGroup"]["allSupported"] and recorder()["recordingGroup"]["includeGlobalResourceTypes"]


def test_existing_service_linked_role_is_used(aws_only):
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    boto3.client("iam").create_role(RoleName="AWSServiceRoleForConfig", Path="/aws-service-role/config.amazonaws.com/",
                                    AssumeRolePolicyDocument=json.dumps(trust))
    script.set_recorder({"AWSServiceRoleForConfig": script.DEFAULT_ROLE}, None)
    assert recorder()["roleARN"] == SLR_ARN


def test_existing_recorder_keeps_its_name_and_moves_to_the_service_linked_role(aws_only):
    """Config.1 requires the service-linked role: a recorder with a custom role stays FAILED
    (the remediation used to keep the team's role). Global types stay as the team chose."""
    existing_setup({"allSupported": False, "includeGlobalResourceTypes": False, "resourceTypes": ["AWS::S3::Bucket"]})
    out = script.set_recorder({"AWSServiceRoleForConfig": script.DEFAULT_ROLE}, None)
    assert recorder()["name"] == "team"
    assert "aws-service-role/config.amazonaws.com/" in recorder()["roleARN"]
    assert recorder()["recordingGroup"]["allSupported"] is True
    assert recorder()["recordingGroup"]["includeGlobalResourceTypes"] is False
    assert out["Message"] == "Recorder team updated to record all resource types as the service-linked role."


# --- document ------------------------------------------------------------------


@pytest.fixture
def account(run_runbook):
    key = new_kms_key()
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=solution.SSM_CMK_REMEDIATION_ARN, Value=key, Type="String")
    boto3.client("s3").create_bucket(Bucket="team-bucket")
    return key


def test_document_enables_config_from_scratch(run_runbook, account):
    execution = run_runbook(DOC)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert recording() and recorder()["recordingGroup"]["allSupported"]
    (channel,) = config().describe_delivery_channels()["DeliveryChannels"]
    assert channel["s3BucketName"] == CONFIG_BUCKET and channel["snsTopicARN"] == TOPIC_ARN
    s3 = boto3.client("s3")
    assert buckets() == {"team-bucket", CONFIG_BUCKET, ACCESS_LOG_BUCKET}
    assert s3.get_bucket_logging(Bucket=CONFIG_BUCKET)["LoggingEnabled"]["TargetBucket"] == ACCESS_LOG_BUCKET
    assert all(s3.get_public_access_block(Bucket=CONFIG_BUCKET)["PublicAccessBlockConfiguration"].values())
    sids = [s["Sid"] for s in json.loads(s3.get_bucket_policy(Bucket=CONFIG_BUCKET)["Policy"])["Statement"]]
    assert "AWSConfigBucketDelivery" in sids and "AllowSSLRequestsOnly" in sids
    attrs = boto3.client("sns", region_name=REGION).get_topic_attributes(TopicArn=TOPIC_ARN)["Attributes"]
    assert attrs["KmsMasterKeyId"] == account
    ssm = boto3.client("ssm", region_name=REGION)
    assert ssm.get_parameter(Name=script.TOPIC_PARAMETER)["Parameter"]["Value"] == TOPIC_ARN
    with pytest.raises(s3.exceptions.ClientError):
        s3.get_bucket_policy(Bucket="team-bucket")


def test_document_second_run_changes_nothing(run_runbook, account):
    run_runbook(DOC)
    second = run_runbook(DOC)
    assert second["AutomationExecutionStatus"] == "Success", second.get("FailureMessage")
    assert "nothing changed" in str(second["Outputs"]["SetRecorder.Output"])
    assert "nothing changed" in str(second["Outputs"]["StartRecorder.Output"])
    steps = {s["StepName"]: s["StepStatus"] for s in second["StepExecutions"]}
    assert "CreateAccessLoggingBucket" not in steps and "CreateDeliveryChannel" not in steps


def test_document_keeps_an_existing_delivery_channel(run_runbook, account):
    existing_setup({"allSupported": False, "includeGlobalResourceTypes": False, "resourceTypes": ["AWS::S3::Bucket"]})
    execution = run_runbook(DOC)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    (channel,) = config().describe_delivery_channels()["DeliveryChannels"]
    assert channel["name"] == "team" and channel["s3BucketName"] == "team-config"
    assert recorder()["name"] == "team" and recorder()["recordingGroup"]["allSupported"] and recording()
    assert CONFIG_BUCKET not in buckets() and ACCESS_LOG_BUCKET not in buckets()


@pytest.mark.parametrize(
    ("param", "value"),
    [("KMSKeyArn", "not-a-key"), ("SNSTopicName", "bad topic"), ("AWSServiceRoleForConfig", "arn:aws:iam::1:role/x")],
)
def test_document_rejects_malformed_input(run_runbook, account, param, value):
    with pytest.raises(ParameterValidationError, match=param):
        run_runbook(DOC, **{param: value})
    assert config().describe_configuration_recorders()["ConfigurationRecorders"] == []


def test_document_fails_on_a_missing_key_and_changes_nothing(run_runbook, account):
    missing = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
    execution = run_runbook(DOC, KMSKeyArn=missing)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"KMSKeyArn {missing}: no such KMS key" in execution["FailureMessage"]
    assert config().describe_configuration_recorders()["ConfigurationRecorders"] == []
    assert buckets() == {"team-bucket"}


# --- global resource types in one Region; an existing recorder keeps its recording mode -------


def test_new_recorder_outside_the_home_region_does_not_record_global_types(aws_only, monkeypatch):
    # One configuration item per Region for each IAM change otherwise (the reference switched global
    # types on in every Region it enabled Config in). The script's clients follow the execution Region.
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    out = script.set_recorder({"AWSServiceRoleForConfig": script.DEFAULT_ROLE}, None)
    (found,) = boto3.client("config", region_name="eu-west-1").describe_configuration_recorders()[
        "ConfigurationRecorders"
    ]
    assert found["recordingGroup"]["allSupported"] is True
    assert found["recordingGroup"]["includeGlobalResourceTypes"] is False
    assert out["Message"] == "Recorder default created (global resource types are recorded only in us-east-1)."


@pytest.mark.parametrize(
    ("partition", "region", "chosen", "expected"),
    [
        ("aws", "us-east-1", "", True),
        ("aws", "eu-west-1", "", False),
        ("aws", "eu-west-1", "eu-west-1", True),
        ("aws", "us-east-1", "eu-west-1", False),
        ("aws-us-gov", "us-gov-west-1", "", True),
        ("aws-cn", "cn-northwest-1", "", False),
    ],
)
def test_global_types_are_recorded_in_one_region(partition, region, chosen, expected):
    assert script.records_global_types(partition, region, chosen) is expected


def test_document_records_global_types_in_the_region_asked_for(run_runbook, account):
    execution = run_runbook(DOC, GlobalResourceTypesRegion="eu-west-1")
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert recorder()["recordingGroup"]["includeGlobalResourceTypes"] is False


def test_existing_recorder_keeps_its_recording_mode(aws_only, monkeypatch):
    # moto drops recordingMode; AWS Config keeps it. The exact PutConfigurationRecorder call is proven with
    # Stubber: the team's daily frequency and overrides stay, the role becomes the service-linked role.
    from tests.remediations.helpers.stubs import stubbed_boto3_client

    mode = {"recordingFrequency": "DAILY", "recordingModeOverrides": [
        {"description": "hourly for security groups", "resourceTypes": ["AWS::EC2::SecurityGroup"],
         "recordingFrequency": "CONTINUOUS"}]}
    team = {"name": "team", "roleARN": f"arn:aws:iam::{ACCOUNT}:role/team-config-role",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": False}, "recordingMode": mode}
    with stubbed_boto3_client(monkeypatch, "config") as stub:
        stub.add_response("describe_configuration_recorders", {"ConfigurationRecorders": [team]}, {})
        stub.add_response("put_configuration_recorder", {}, {"ConfigurationRecorder": {
            "name": "team", "roleARN": SLR_ARN, "recordingMode": mode,
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": False}}})
        out = script.set_recorder({"AWSServiceRoleForConfig": script.DEFAULT_ROLE}, None)
    assert out["Message"] == "Recorder team updated to record all resource types as the service-linked role."


def _stub_recorder_reads(monkeypatch, reads: list[bool]):
    from tests.remediations.helpers.stubs import stub_every_boto3_client

    stub = stub_every_boto3_client(monkeypatch, "config")
    team = {"name": "team", "roleARN": SLR_ARN, "recordingGroup": {"allSupported": True}}
    names = {"ConfigurationRecorderNames": ["team"]}
    stub.add_response("describe_configuration_recorders", {"ConfigurationRecorders": [team]}, {})
    stub.add_response("describe_configuration_recorder_status",
                      {"ConfigurationRecordersStatus": [{"name": "team", "recording": False}]}, names)
    stub.add_response("start_configuration_recorder", {}, {"ConfigurationRecorderName": "team"})
    for recording_now in reads:
        stub.add_response("describe_configuration_recorder_status",
                          {"ConfigurationRecordersStatus": [{"name": "team", "recording": recording_now}]}, names)
    return stub


def test_start_reads_the_status_back_until_it_shows_recording(monkeypatch):
    stub = _stub_recorder_reads(monkeypatch, [False, True])
    sleeps = []
    out = script.start_recorder({}, None, sleep=sleeps.append)
    assert sleeps == [10] and out["Message"] == "Recorder team started."
    stub.assert_no_pending_responses()


def test_start_gives_up_after_a_minute(monkeypatch):
    stub = _stub_recorder_reads(monkeypatch, [False] * 6)
    sleeps = []
    with pytest.raises(script.RemediationError, match="recorder team is still not recording 6 reads after"):
        script.start_recorder({}, None, sleep=sleeps.append)
    assert sleeps == [10] * 5
    stub.assert_no_pending_responses()
