"""Action Log event processor (member account).

Triggered by S3 ObjectCreated for each CloudTrail log file the member trail writes.
Keeps the management events the solution's remediations made (calls by SSM as a
``SO0111`` role), drops the orchestration calls themselves, and writes the rest to
the admin account's Action Log log group through the cross-account writer role.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import json
import logging
import os
from typing import Any
from urllib.parse import unquote_plus

import boto3

from asr import limits, solution

logger = logging.getLogger(__name__)
logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

IGNORED_EVENTS = frozenset({"StartAutomationExecution", "BatchUpdateFindings"})
KEPT_FIELDS = (
    "eventSource",
    "eventName",
    "awsRegion",
    "eventTime",
    "requestParameters",
    "responseElements",
    "recipientAccountId",
    "resources",
)
SESSION_NAME = "EventProcessorSession"
#: PutLogEvents limits (events per call, bytes per call with 26 bytes per event): asr/limits.py.
MAX_BATCH_EVENTS = limits.LOG_BATCH_EVENTS
MAX_BATCH_BYTES = limits.LOG_BATCH_BYTES


def is_remediation_action(record: dict[str, Any]) -> bool:
    """A write made by an ASR remediation: SSM calling as an SO0111 role."""
    arn = (record.get("userIdentity") or {}).get("arn") or ""
    return (
        record.get("sourceIPAddress") == "ssm.amazonaws.com"
        and solution.SOLUTION_ID in arn
        and record.get("eventName") not in IGNORED_EVENTS
    )


def summarize(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in KEPT_FIELDS if k in record}


def read_records(s3_client: Any, bucket: str, key: str) -> list[dict[str, Any]]:
    body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    try:
        document = json.loads(gzip.decompress(body))
    except (OSError, ValueError) as err:
        raise ValueError(f"s3://{bucket}/{key}: not a gzipped CloudTrail log file ({err})") from None
    return document.get("Records") or []


def _batches(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """PutLogEvents batches: each message bounded (a CloudTrail record can be larger than one
    event may be: it is cut visibly), each batch within the per-call limits (asr/limits.py)."""
    return limits.log_batches(events)


def write_events(logs_client: Any, group: str, records: list[dict[str, Any]], now: dt.datetime) -> int:
    if not records:
        return 0
    stream = limits.log_stream_name(now.strftime("%Y-%m-%d"))
    with contextlib.suppress(logs_client.exceptions.ResourceAlreadyExistsException):
        logs_client.create_log_stream(logGroupName=group, logStreamName=stream)
    events = sorted(
        (
            {
                "timestamp": _epoch_ms(record.get("eventTime"), now),
                "message": json.dumps(summarize(record), sort_keys=True),
            }
            for record in records
        ),
        key=lambda e: e["timestamp"],
    )
    for batch in _batches(events):
        logs_client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
    return len(events)


def _epoch_ms(value: str | None, default: dt.datetime) -> int:
    try:
        when = dt.datetime.fromisoformat((value or "").replace("Z", "+00:00"))
    except ValueError:
        when = default
    return int(when.timestamp() * 1000)


def _writer_session(role_arn: str) -> boto3.session.Session:
    creds = boto3.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME)["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def lambda_handler(event: dict[str, Any], _context: Any) -> dict[str, int]:
    role_arn = os.environ["LOG_WRITER_ROLE_ARN"]
    group = os.environ["LOG_GROUP_NAME"]
    s3_client = boto3.client("s3")
    kept: list[dict[str, Any]] = []
    files = 0
    for notification in event.get("Records") or []:
        s3_info = notification.get("s3") or {}
        bucket = (s3_info.get("bucket") or {}).get("name")
        key = unquote_plus((s3_info.get("object") or {}).get("key") or "")
        if not bucket or not key:
            logger.warning("skipping a notification without bucket/key: %s", json.dumps(notification)[:500])
            continue
        files += 1
        kept.extend(r for r in read_records(s3_client, bucket, key) if is_remediation_action(r))
    written = 0
    if kept:
        logs_client = _writer_session(role_arn).client("logs")
        written = write_events(logs_client, group, kept, dt.datetime.now(dt.UTC))
    logger.info("processed %d file(s), forwarded %d remediation action(s)", files, written)
    return {"files": files, "forwarded": written}
