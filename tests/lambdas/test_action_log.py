"""Action Log processor: filters real-shaped CloudTrail files and writes through the writer role.

Here the member stack is in the admin account itself (the writer role's "AdminAccount" trust
statement, no organization needed); across accounts and organizations:
tests/lambdas/test_action_log_path.py.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import logging

import boto3
import pytest
from moto import mock_aws

from lambdas.action_log import handler
from tests.conftest import ACCOUNT

ADMIN_GROUP = "/aws/lambda/SO0111-ASR-CloudTrailEvents"
WRITER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/CrossAccountLogWriterRole"
# The Action Log bucket of the member CloudTrail stack (Namespace "sim"), where the trail writes under cloudtrail-logs/.
BUCKET = f"so0111-asr-sim-mgmt-events-{ACCOUNT}-us-east-1"
REMEDIATION_ROLE = "SO0111-EnableKeyRotation-sim"
#: CloudWatch Logs refuses events older than 14 days: the trail's events are a few minutes old.
EVENT_TIME = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=7)).strftime("%Y-%m-%dT%H:%M:%SZ")

# The processor runs as its synthesized execution role, the stack deployed with this writer role.
pytestmark = pytest.mark.stack_parameters(LogWriterRoleArn=WRITER_ROLE)


@pytest.fixture(autouse=True)
def _as_the_processor(as_function):
    as_function(handler, "SO0111-ASR-EventProcessor")


def identity(role: str = REMEDIATION_ROLE, account: str = ACCOUNT, session: str = "a1b2c3d4-session") -> dict:
    """``userIdentity`` of a call made with an assumed role, as CloudTrail writes it
    (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html)."""
    return {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLEID:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
        "accountId": account,
        "accessKeyId": "ASIAEXAMPLEKEY",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROAEXAMPLEID",
                "arn": f"arn:aws:iam::{account}:role/{role}",
                "accountId": account,
                "userName": role,
            },
            "attributes": {"creationDate": "2026-11-23T09:59:00Z", "mfaAuthenticated": "false"},
        },
        "invokedBy": "ssm.amazonaws.com",
    }


def _record(name: str, ip: str = "ssm.amazonaws.com", user: dict | None = None, account: str = ACCOUNT) -> dict:
    return {
        "eventVersion": "1.09",
        "userIdentity": user if user is not None else identity(account=account),
        "eventTime": EVENT_TIME,
        "eventSource": "kms.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": ip,
        "userAgent": "ssm.amazonaws.com",
        "requestParameters": {"keyId": "k"},
        "responseElements": None,
        "requestID": "0f6a5f0e-1111-2222-3333-444455556666",
        "eventID": "7c1d9f0e-1111-2222-3333-444455556666",
        "readOnly": False,
        "resources": [{"accountId": account, "type": "AWS::KMS::Key", "ARN": f"arn:aws:kms:us-east-1:{account}:key/k"}],
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("LOG_WRITER_ROLE_ARN", WRITER_ROLE)
    monkeypatch.setenv("LOG_GROUP_NAME", ADMIN_GROUP)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        logs = boto3.client("logs")
        logs.create_log_group(logGroupName=ADMIN_GROUP)
        yield s3, logs


def _notification(*keys: str) -> dict:
    return {"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": key}}} for key in keys]}


def _put(s3, key, records):
    s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(json.dumps({"Records": records}).encode()))
    return _notification(key)


def _messages(logs):
    streams = logs.describe_log_streams(logGroupName=ADMIN_GROUP)["logStreams"]
    return [
        json.loads(e["message"])
        for s in streams
        for e in logs.get_log_events(logGroupName=ADMIN_GROUP, logStreamName=s["logStreamName"])["events"]
    ]


def test_forwards_only_remediation_writes(env):
    s3, logs = env
    event = _put(
        s3,
        "cloudtrail-logs/AWSLogs/111111111111/f1.json.gz",
        [
            _record("EnableKeyRotation"),
            _record("StartAutomationExecution"),  # orchestration itself
            _record("BatchUpdateFindings"),
            _record("EnableKeyRotation", ip="1.2.3.4"),  # not through SSM
            _record("EnableKeyRotation", user=identity("Other")),
        ],
    )
    assert handler.lambda_handler(event, None) == {"files": 1, "forwarded": 1, "failed": 0}
    [message] = _messages(logs)
    assert message["eventName"] == "EnableKeyRotation"
    assert "userAgent" not in message and "sourceIPAddress" not in message and "userIdentity" not in message
    assert set(message) == set(handler.KEPT_FIELDS)


@pytest.mark.parametrize(
    ("user", "why"),
    [
        (identity("Admin", session="SO0111-lookalike"), "SO0111 only in the session name"),
        (identity("MySO0111-Copy"), "SO0111 inside, not the prefix"),
        (identity("SO0111-ASR-Orchestrator-Member"), "the orchestrator starts runbooks, it does not remediate"),
        (identity(REMEDIATION_ROLE, account="999999999999"), "a role of the same name in another account"),
        ({**identity(), "type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/SO0111-person"}, "a user"),
        ({"type": "AWSService", "invokedBy": "ssm.amazonaws.com"}, "a service, no role"),
        ({**identity(), "arn": f"arn:aws:iam::{ACCOUNT}:role/{REMEDIATION_ROLE}"}, "not an assumed-role ARN"),
        ({}, "no identity"),
        ("SO0111-EnableKeyRotation-sim", "not an object"),
    ],
)
def test_only_the_solutions_assumed_roles_in_this_account_count(user, why):
    """The old rule ("SO0111" anywhere in the ARN) took the first two; none is a remediation."""
    assert not handler.is_remediation_action(_record("EnableKeyRotation", user=user)), why


@pytest.mark.parametrize(
    "role",
    ["SO0111-EnableKeyRotation-sim", "SO0111-CloudTrailToCloudWatchLogs-test", "SO0111-Remediate-SC-2.0.0-KMS.4"],
)
def test_the_solutions_remediation_service_and_custom_roles_count(role):
    assert handler.solution_role_of(_record("X", user=identity(role))) == role
    assert handler.is_remediation_action(_record("X", user=identity(role)))


def test_second_file_same_day_appends_to_the_existing_stream(env):
    s3, logs = env
    handler.lambda_handler(_put(s3, "cloudtrail-logs/a.json.gz", [_record("PutBucketPolicy")]), None)
    handler.lambda_handler(_put(s3, "cloudtrail-logs/b.json.gz", [_record("PutBucketAcl")]), None)
    assert len(logs.describe_log_streams(logGroupName=ADMIN_GROUP)["logStreams"]) == 1
    assert sorted(m["eventName"] for m in _messages(logs)) == ["PutBucketAcl", "PutBucketPolicy"]


def test_nothing_to_forward_writes_nothing(env):
    s3, logs = env
    out = handler.lambda_handler(_put(s3, "cloudtrail-logs/k.json.gz", [_record("X", ip="1.1.1.1")]), None)
    assert out == {"files": 1, "forwarded": 0, "failed": 0}
    assert logs.describe_log_streams(logGroupName=ADMIN_GROUP)["logStreams"] == []


BAD_FILES = {
    "cloudtrail-logs/not-gzip.json.gz": (b"not gzip", "not a gzipped CloudTrail log file"),
    "cloudtrail-logs/truncated.json.gz": (
        gzip.compress(json.dumps({"Records": [_record("EnableKeyRotation")]}).encode())[:40],
        "not a gzipped CloudTrail log file",
    ),
    "cloudtrail-logs/not-json.json.gz": (gzip.compress(b'{"Records": [}'), "not a gzipped CloudTrail log file"),
    "cloudtrail-logs/no-records.json.gz": (gzip.compress(b'{"records": []}'), "no Records list"),
    "cloudtrail-logs/a-list.json.gz": (gzip.compress(b"[1, 2]"), "no Records list"),
}


def test_bad_files_are_counted_and_named_and_do_not_lose_the_good_ones(env, caplog):
    s3, logs = env
    for key, (body, _) in BAD_FILES.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    _put(s3, "cloudtrail-logs/good.json.gz", [_record("EnableKeyRotation")])
    keys = [*BAD_FILES, "cloudtrail-logs/good.json.gz"]
    with caplog.at_level(logging.ERROR, logger=handler.__name__):
        out = handler.lambda_handler(_notification(*keys), None)
    assert out == {"files": 6, "forwarded": 1, "failed": 5}
    assert [m["eventName"] for m in _messages(logs)] == ["EnableKeyRotation"]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    for key, (_, reason) in BAD_FILES.items():
        assert any(f"s3://{BUCKET}/{key}: " in e and reason in e for e in errors), key


def test_digest_files_carry_no_events_and_are_not_errors(env):
    s3, _ = env
    key = "cloudtrail-logs/AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2026/11/23/x_CloudTrail-Digest_y.json.gz"
    digest = {"awsAccountId": ACCOUNT, "digestStartTime": "2026-11-23T09:00:00Z", "logFiles": []}
    s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(json.dumps(digest).encode()))
    assert handler.lambda_handler(_notification(key), None) == {"files": 1, "forwarded": 0, "failed": 0}


def test_an_unreadable_file_raises_for_the_retry_after_forwarding_the_others(env, caplog):
    s3, logs = env
    _put(s3, "cloudtrail-logs/good.json.gz", [_record("EnableKeyRotation")])
    with (
        caplog.at_level(logging.ERROR, logger=handler.__name__),
        pytest.raises(RuntimeError, match=f"could not read 1 trail file\\(s\\): s3://{BUCKET}/cloudtrail-logs/gone"),
    ):
        handler.lambda_handler(_notification("cloudtrail-logs/gone.json.gz", "cloudtrail-logs/good.json.gz"), None)
    assert [m["eventName"] for m in _messages(logs)] == ["EnableKeyRotation"]
    assert any("cloudtrail-logs/gone.json.gz: cannot read it" in r.getMessage() for r in caplog.records)


def test_a_notification_without_bucket_or_key_is_counted(env, caplog):
    with caplog.at_level(logging.ERROR, logger=handler.__name__):
        out = handler.lambda_handler({"Records": [{"s3": {"bucket": {"name": BUCKET}}}]}, None)
    assert out == {"files": 0, "forwarded": 0, "failed": 1}
    assert "without bucket/key" in caplog.text


def test_url_encoded_keys_are_decoded(env):
    s3, _ = env
    key = "cloudtrail-logs/AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/23/a b+c.json.gz"
    _put(s3, key, [_record("EnableKeyRotation")])
    encoded = key.replace("+", "%2B").replace(" ", "+")  # as S3 notifications encode keys
    assert handler.lambda_handler(_notification(encoded), None)["forwarded"] == 1


def test_rejected_events_are_not_counted_as_written():
    """PutLogEvents answers rejectedLogEventsInfo instead of failing (moto never does: counted offline)."""
    assert handler._rejected_count({"tooOldLogEventEndIndex": 2}, 5) == 2
    assert handler._rejected_count({"tooNewLogEventStartIndex": 4}, 5) == 1
    assert handler._rejected_count({"expiredLogEventEndIndex": 3, "tooNewLogEventStartIndex": 3}, 5) == 5


def test_event_times_are_read_as_utc_and_bad_ones_fall_back_to_now():
    now = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    assert handler._epoch_ms("2026-11-23T10:00:00Z", now) == 1795428000000
    assert handler._epoch_ms("2026-11-23T10:00:00", now) == 1795428000000
    for bad in (None, "", "yesterday", 12345, ["2026"]):
        assert handler._epoch_ms(bad, now) == int(now.timestamp() * 1000), bad


def test_large_volumes_are_split_into_put_log_events_batches():
    events = [{"timestamp": i, "message": "x" * 400} for i in range(5000)]
    batches = handler._batches(events)
    assert sum(len(b) for b in batches) == 5000
    assert all(sum(len(e["message"]) + 26 for e in b) <= handler.MAX_BATCH_BYTES for b in batches)
    assert len(batches) == 3
