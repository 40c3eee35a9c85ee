"""ASR-EnableBucketEventNotifications: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import json

import boto3
import pytest

from asr import solution
from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_bucket_event_notifications import (
    CONFIG_ID,
    TOPIC_SID,
    RemediationError,
    enable_bucket_event_notifications,
    overlaps,
)
from tests.conftest import ACCOUNT

NAME = "EnableBucketEventNotifications"
TOPIC = "SO0111-ASR-S3BucketNotifications"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:{TOPIC}"
DEFAULT_EVENTS = [
    "s3:ReducedRedundancyLostObject",
    "s3:ObjectCreated:*",
    "s3:ObjectRemoved:*",
    "s3:ObjectRestore:*",
    "s3:Replication:*",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectTagging:*",
    "s3:ObjectAcl:Put",
]


@pytest.fixture
def env(aws):
    # The member stack's remediation key behind /Solutions/SO0111/CMK_REMEDIATION_ARN (the topic's key).
    key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name=solution.SSM_CMK_REMEDIATION_ARN, Value=key, Type="String"
    )
    s3 = boto3.client("s3", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName="their-queue")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    theirs = {"Id": "theirs", "QueueArn": queue_arn, "Events": ["s3:ObjectCreated:Put"]}
    for name in ("target-bucket", "bystander-bucket"):
        s3.create_bucket(Bucket=name)
        s3.put_bucket_notification_configuration(
            Bucket=name, NotificationConfiguration={"QueueConfigurations": [theirs]}
        )
    return s3, boto3.client("sns", region_name="us-east-1"), theirs


def _config(s3, bucket="target-bucket"):
    config = s3.get_bucket_notification_configuration(Bucket=bucket)
    config.pop("ResponseMetadata")
    return config


def _key():
    return boto3.client("ssm", region_name="us-east-1").get_parameter(Name=solution.SSM_CMK_REMEDIATION_ARN)[
        "Parameter"
    ]["Value"]


def _event(bucket="target-bucket", events=DEFAULT_EVENTS, region="us-east-1"):
    return {
        "BucketName": bucket,
        "AccountId": ACCOUNT,
        "TopicName": TOPIC,
        "KmsKeyArn": _key(),
        "EventTypes": events,
        "Region": region,
        "Partition": "aws",
    }


def _mine(config):
    return next(c for c in config["TopicConfigurations"] if c["Id"] == CONFIG_ID)


def test_event_type_overlap():
    assert overlaps("s3:ObjectCreated:*", "s3:ObjectCreated:Put")
    assert overlaps("s3:ObjectCreated:Put", "s3:ObjectCreated:*")
    assert not overlaps("s3:ObjectCreated:*", "s3:ObjectRemoved:*")
    assert not overlaps("s3:LifecycleTransition", "s3:LifecycleExpiration:*")


# --- script ------------------------------------------------------------------------


def test_script_creates_the_topic_and_keeps_other_notifications(env):
    s3, sns, theirs = env
    out = enable_bucket_event_notifications(_event(), None)
    config = _config(s3)
    assert config["QueueConfigurations"] == [theirs]
    mine = _mine(config)
    assert mine["TopicArn"] == TOPIC_ARN
    assert set(mine["Events"]) == set(DEFAULT_EVENTS) - {"s3:ObjectCreated:*"}
    assert out["SkippedEventTypes"] == ["s3:ObjectCreated:*"]
    policy = json.loads(sns.get_topic_attributes(TopicArn=TOPIC_ARN)["Attributes"]["Policy"])
    statement = next(s for s in policy["Statement"] if s["Sid"] == TOPIC_SID)
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}


def test_script_reuses_an_existing_topic_and_keeps_its_policy(env):
    _, sns, _ = env
    sns.create_topic(Name=TOPIC)
    theirs = {
        "Sid": "Theirs",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "SNS:Subscribe",
        "Resource": TOPIC_ARN,
    }
    sns.set_topic_attributes(
        TopicArn=TOPIC_ARN,
        AttributeName="Policy",
        AttributeValue=json.dumps({"Version": "2012-10-17", "Statement": [theirs]}),
    )
    enable_bucket_event_notifications(_event(), None)
    statements = json.loads(sns.get_topic_attributes(TopicArn=TOPIC_ARN)["Attributes"]["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["Theirs", TOPIC_SID]
    assert statements[0] == theirs


def test_script_all_events_taken_changes_nothing(env):
    s3, sns, theirs = env
    out = enable_bucket_event_notifications(_event(events=["s3:ObjectCreated:Put"]), None)
    assert "nothing changed" in out["Message"]
    assert _config(s3) == {"QueueConfigurations": [theirs]}
    assert sns.list_topics()["Topics"] == []


def test_script_refuses_a_bucket_in_another_region(env):
    s3, sns, _ = env
    s3.create_bucket(Bucket="eu-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    with pytest.raises(
        RemediationError,
        match="BucketName eu-bucket: the bucket is in Region eu-west-1, this document runs in us-east-1",
    ):
        enable_bucket_event_notifications(_event("eu-bucket"), None)
    assert sns.list_topics()["Topics"] == []


def test_script_missing_bucket(env):
    with pytest.raises(RemediationError, match="BucketName no-such-bucket: no such bucket"):
        enable_bucket_event_notifications(_event("no-such-bucket"), None)


# --- document ----------------------------------------------------------------------


def test_document_enables_notifications_and_touches_nothing_else(env, run_runbook):
    s3, _, theirs = env
    result = run_runbook(NAME, BucketName="target-bucket", AccountId=ACCOUNT)
    assert result["AutomationExecutionStatus"] == "Success", result.get("FailureMessage")
    config = _config(s3)
    assert config["QueueConfigurations"] == [theirs]
    assert set(_mine(config)["Events"]) == set(DEFAULT_EVENTS) - {"s3:ObjectCreated:*"}
    assert _config(s3, "bystander-bucket") == {"QueueConfigurations": [theirs]}
    assert TOPIC_ARN in str(result["Outputs"]["EnableBucketEventNotifications.Output"])


def test_document_second_run_changes_nothing(env, run_runbook):
    s3, sns, _ = env
    assert run_runbook(NAME, BucketName="target-bucket", AccountId=ACCOUNT)["AutomationExecutionStatus"] == "Success"
    policy = sns.get_topic_attributes(TopicArn=TOPIC_ARN)["Attributes"]["Policy"]
    config = _config(s3)
    result = run_runbook(NAME, BucketName="target-bucket", AccountId=ACCOUNT)
    assert result["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in str(result["Outputs"])
    assert _config(s3) == config
    assert sns.get_topic_attributes(TopicArn=TOPIC_ARN)["Attributes"]["Policy"] == policy


def test_document_takes_a_list_of_event_types(env, run_runbook):
    s3, _, _ = env
    result = run_runbook(NAME, BucketName="target-bucket", AccountId=ACCOUNT, EventTypes=["s3:ObjectRemoved:*"])
    assert result["AutomationExecutionStatus"] == "Success", result.get("FailureMessage")
    assert _mine(_config(s3))["Events"] == ["s3:ObjectRemoved:*"]


@pytest.mark.parametrize(
    ("param", "bad"),
    [
        ("BucketName", "arn:aws:s3:::target-bucket"),
        ("AccountId", "123"),
        ("TopicName", "arn:aws:sns:us-east-1:111111111111:t"),
        # A customer's topic: the role may only create or change the solution's (SO0111-*) topics.
        ("TopicName", "team-alerts"),
        ("EventTypes", ["ObjectCreated"]),
        ("EventTypes", []),
    ],
)
def test_document_rejects_malformed_input(env, run_runbook, param, bad):
    s3, sns, theirs = env
    with pytest.raises(ParameterValidationError, match=f"parameter '{param}'"):
        run_runbook(NAME, **{"BucketName": "target-bucket", "AccountId": ACCOUNT, param: bad})
    assert _config(s3) == {"QueueConfigurations": [theirs]}
    assert sns.list_topics()["Topics"] == []


def test_document_missing_bucket_fails_naming_it(env, run_runbook):
    _, sns, _ = env
    result = run_runbook(NAME, BucketName="no-such-bucket", AccountId=ACCOUNT)
    assert result["AutomationExecutionStatus"] == "Failed"
    assert "BucketName no-such-bucket: no such bucket" in result["FailureMessage"]
    assert sns.list_topics()["Topics"] == []


# --- the topic is encrypted (SNS.1) ---------------------------------------------------------


def _topic_key(sns):
    return sns.get_topic_attributes(TopicArn=TOPIC_ARN)["Attributes"].get("KmsMasterKeyId")


def test_document_creates_the_topic_encrypted_with_the_remediation_key(env, run_runbook):
    _, sns, _ = env
    result = run_runbook(NAME, BucketName="target-bucket", AccountId=ACCOUNT)
    assert result["AutomationExecutionStatus"] == "Success", result.get("FailureMessage")
    assert _topic_key(sns) == _key()
    # as Security Hub judges the topic: SNS.1 (encrypted with KMS) passes
    from asr.controls import Resource, Status, evaluate

    assert evaluate("SNS.1", boto3.Session(), Resource.of_arn(TOPIC_ARN, "AwsSnsTopic")).status is Status.PASSED


def test_script_encrypts_an_unencrypted_topic_of_the_solution(env):
    _, sns, _ = env
    sns.create_topic(Name=TOPIC)  # left by an earlier version, unencrypted
    out = enable_bucket_event_notifications(_event(), None)
    assert _topic_key(sns) == _key()
    assert f"topic encrypted with {_key()}" in out["Changes"]


def test_script_keeps_the_key_of_an_encrypted_topic(env):
    _, sns, _ = env
    sns.create_topic(Name=TOPIC, Attributes={"KmsMasterKeyId": "alias/team-key"})
    enable_bucket_event_notifications(_event(), None)
    assert _topic_key(sns) == "alias/team-key"


def test_document_fails_on_a_missing_key_and_creates_no_topic(env, run_runbook):
    s3, sns, theirs = env
    missing = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
    result = run_runbook(NAME, BucketName="target-bucket", AccountId=ACCOUNT, KmsKeyArn=missing)
    assert result["AutomationExecutionStatus"] == "Failed"
    assert f"KmsKeyArn {missing}: no such KMS key" in result["FailureMessage"]
    assert sns.list_topics()["Topics"] == [] and _config(s3) == {"QueueConfigurations": [theirs]}


def test_document_rejects_a_key_that_is_not_an_arn(env, run_runbook):
    with pytest.raises(ParameterValidationError, match="parameter 'KmsKeyArn'"):
        run_runbook(NAME, BucketName="target-bucket", AccountId=ACCOUNT, KmsKeyArn="alias/aws/sns")


# --- read back: bucket notification settings are eventually consistent -----------------------


def test_script_reads_back_until_s3_shows_the_notification(env, monkeypatch):
    from tests.remediations.helpers.stubs import stubbed_boto3_client

    bucket = {"Bucket": "target-bucket", "ExpectedBucketOwner": ACCOUNT}
    mine = {"Id": CONFIG_ID, "TopicArn": TOPIC_ARN, "Events": ["s3:ObjectRemoved:*"]}
    with stubbed_boto3_client(monkeypatch, "s3") as stub:
        stub.add_response("get_bucket_location", {"LocationConstraint": ""}, bucket)
        stub.add_response("get_bucket_notification_configuration", {}, bucket)
        stub.add_response("put_bucket_notification_configuration", {}, None)
        stub.add_response("get_bucket_notification_configuration", {}, bucket)
        stub.add_response("get_bucket_notification_configuration", {"TopicConfigurations": [mine]}, bucket)
        sleeps = []
        out = enable_bucket_event_notifications(_event(events=["s3:ObjectRemoved:*"]), None, sleep=sleeps.append)
    assert sleeps == [10] and out["EventTypes"] == ["s3:ObjectRemoved:*"]
