"""Action Log processor: filters a real-shaped CloudTrail file and writes cross-account."""

from __future__ import annotations

import gzip
import json

import boto3
import pytest
from moto import mock_aws

from lambdas.action_log import handler
from tests.conftest import OTHER_ACCOUNT

ADMIN_GROUP = "/aws/lambda/SO0111-ASR-CloudTrailEvents"
WRITER_ROLE = f"arn:aws:iam::{OTHER_ACCOUNT}:role/CrossAccountLogWriterRole"
# The Action Log bucket of the member CloudTrail stack (Namespace "sim"), where the trail writes under cloudtrail-logs/.
BUCKET = "so0111-asr-sim-mgmt-events-111111111111-us-east-1"

# The processor runs as its synthesized execution role, the stack deployed with this writer role.
pytestmark = pytest.mark.stack_parameters(LogWriterRoleArn=WRITER_ROLE)


@pytest.fixture(autouse=True)
def _as_the_processor(as_function):
    as_function(handler, "SO0111-ASR-EventProcessor")


def _record(
    name: str,
    ip: str = "ssm.amazonaws.com",
    arn: str = "arn:aws:sts::111111111111:assumed-role/SO0111-EnableKeyRotation-abc/x",
):
    return {
        "eventTime": "2026-11-23T10:00:00Z",
        "eventSource": "kms.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": ip,
        "userIdentity": {"arn": arn},
        "requestParameters": {"keyId": "k"},
        "responseElements": None,
        "recipientAccountId": "111111111111",
        "resources": [{"ARN": "arn:aws:kms:us-east-1:111111111111:key/k"}],
        "userAgent": "dropped",
    }


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("LOG_WRITER_ROLE_ARN", WRITER_ROLE)
    monkeypatch.setenv("LOG_GROUP_NAME", ADMIN_GROUP)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        admin = boto3.client("sts").assume_role(RoleArn=WRITER_ROLE, RoleSessionName="setup")["Credentials"]
        admin_logs = boto3.client(
            "logs",
            aws_access_key_id=admin["AccessKeyId"],
            aws_secret_access_key=admin["SecretAccessKey"],
            aws_session_token=admin["SessionToken"],
        )
        admin_logs.create_log_group(logGroupName=ADMIN_GROUP)
        yield s3, admin_logs


def _put(s3, key, records):
    s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(json.dumps({"Records": records}).encode()))
    return {"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": key}}}]}


def _messages(admin_logs):
    streams = admin_logs.describe_log_streams(logGroupName=ADMIN_GROUP)["logStreams"]
    return [
        json.loads(e["message"])
        for s in streams
        for e in admin_logs.get_log_events(logGroupName=ADMIN_GROUP, logStreamName=s["logStreamName"])["events"]
    ]


def test_forwards_only_remediation_writes_to_the_admin_account(env):
    s3, admin_logs = env
    event = _put(
        s3,
        "cloudtrail-logs/AWSLogs/111111111111/f1.json.gz",
        [
            _record("EnableKeyRotation"),
            _record("StartAutomationExecution"),  # orchestration itself
            _record("BatchUpdateFindings"),
            _record("EnableKeyRotation", ip="1.2.3.4"),  # a person, not SSM
            _record("EnableKeyRotation", arn="arn:aws:sts::111111111111:assumed-role/Other/x"),
        ],
    )
    assert handler.lambda_handler(event, None) == {"files": 1, "forwarded": 1}
    [message] = _messages(admin_logs)
    assert message["eventName"] == "EnableKeyRotation"
    assert "userAgent" not in message and "sourceIPAddress" not in message
    assert set(message) == set(handler.KEPT_FIELDS)


def test_second_file_same_day_appends_to_the_existing_stream(env):
    s3, admin_logs = env
    handler.lambda_handler(_put(s3, "cloudtrail-logs/a.json.gz", [_record("PutBucketPolicy")]), None)
    handler.lambda_handler(_put(s3, "cloudtrail-logs/b.json.gz", [_record("PutBucketAcl")]), None)
    assert len(admin_logs.describe_log_streams(logGroupName=ADMIN_GROUP)["logStreams"]) == 1
    assert sorted(m["eventName"] for m in _messages(admin_logs)) == ["PutBucketAcl", "PutBucketPolicy"]


def test_nothing_to_forward_writes_nothing(env):
    s3, admin_logs = env
    assert (
        handler.lambda_handler(_put(s3, "cloudtrail-logs/k.json.gz", [_record("X", ip="1.1.1.1")]), None)["forwarded"]
        == 0
    )
    assert admin_logs.describe_log_streams(logGroupName=ADMIN_GROUP)["logStreams"] == []


def test_a_file_that_is_not_cloudtrail_names_the_object(env):
    s3, _ = env
    s3.put_object(Bucket=BUCKET, Key="cloudtrail-logs/bad.json.gz", Body=b"not gzip")
    event = {"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": "cloudtrail-logs/bad.json.gz"}}}]}
    with pytest.raises(
        ValueError, match=f"s3://{BUCKET}/cloudtrail-logs/bad.json.gz: not a gzipped CloudTrail log file"
    ):
        handler.lambda_handler(event, None)


def test_large_volumes_are_split_into_put_log_events_batches():
    events = [{"timestamp": i, "message": "x" * 400} for i in range(5000)]
    batches = handler._batches(events)
    assert sum(len(b) for b in batches) == 5000
    assert all(sum(len(e["message"]) + 26 for e in b) <= handler.MAX_BATCH_BYTES for b in batches)
    assert len(batches) == 3
