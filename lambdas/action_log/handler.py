"""Action Log event processor (member account).

Triggered by S3 ObjectCreated for each CloudTrail log file the member trail writes. Forwards,
to the admin account's Action Log log group (through the cross-account writer role), the
management events the solution's remediations made, and nothing else.

Which events (:func:`is_remediation_action`, docs/action-log.md): a record is forwarded when

* ``userIdentity.type`` is ``AssumedRole`` and ``userIdentity.arn`` is
  ``arn:<partition>:sts::<account>:assumed-role/<role name>/<session>`` where the role name is one of
  the solution's (``SO0111-``, asr/solution.py: the remediation roles ``SO0111-<Remediation>-<ns>``, the
  service roles and the customer's ``SO0111-Remediate-...`` roles), but not the orchestrator's own roles
  (``SO0111-ASR-Orchestrator-Admin``/``-Member``: they start runbooks, they do not remediate);
* ``<account>`` is the account the trail records (``recipientAccountId``): a role of the same name in
  another account is not ours;
* ``sourceIPAddress`` is ``ssm.amazonaws.com`` (the call came from an SSM Automation, as in the
  reference), and ``eventName`` is not orchestration (StartAutomationExecution, BatchUpdateFindings).

Errors (docs/action-log.md): a file that is not gzip, not JSON or has no ``Records`` list is
permanent: it is logged as an ERROR naming ``s3://bucket/key``, counted in the returned summary's
``failed``, and the other files of the notification are still forwarded; the function does not raise
for it (S3's asynchronous retries would only read the same bytes again, and forward the good files
twice). A file that cannot be read (GetObject fails: throttling, access) may work later: after the
other files are forwarded, the function raises naming it, so that Lambda's asynchronous retries and
the function's on-failure destination or DLQ, if configured, see it. CloudTrail digest files
(``/CloudTrail-Digest/``, log file validation) carry no events and are skipped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import json
import logging
import os
import re
import zlib
from typing import Any
from urllib.parse import unquote_plus

import boto3
from botocore.exceptions import BotoCoreError, ClientError

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
SSM_SOURCE = "ssm.amazonaws.com"
#: Every role the solution creates or honours is named ``SO0111-...`` (asr/solution.py).
SOLUTION_ROLE_PREFIX = f"{solution.SOLUTION_ID}-"
ORCHESTRATION_ROLES = frozenset({solution.ORCHESTRATOR_ADMIN_ROLE, solution.ORCHESTRATOR_MEMBER_ROLE})
#: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
ASSUMED_ROLE_ARN = re.compile(
    r"arn:aws[a-z-]*:sts::(\d{12}):assumed-role/([\w+=,.@-]{1,64})/[\w+=,.@-]{2,64}", re.ASCII
)
DIGEST_FOLDER = "/CloudTrail-Digest/"
#: PutLogEvents limits (events per call, bytes per call with 26 bytes per event): asr/limits.py.
MAX_BATCH_EVENTS = limits.LOG_BATCH_EVENTS
MAX_BATCH_BYTES = limits.LOG_BATCH_BYTES


class MalformedLogFile(ValueError):
    """A file that is not a CloudTrail log file: reading it again will not help."""


def solution_role_of(record: dict[str, Any]) -> str | None:
    """The solution role that made the call, or None (not an assumed role of ours in this account)."""
    identity = record.get("userIdentity")
    if not isinstance(identity, dict) or identity.get("type") != "AssumedRole":
        return None
    match = ASSUMED_ROLE_ARN.fullmatch(str(identity.get("arn") or ""))
    if match is None:
        return None
    account, role = match.groups()
    if account != record.get("recipientAccountId"):
        return None
    if not role.startswith(SOLUTION_ROLE_PREFIX) or role in ORCHESTRATION_ROLES:
        return None
    return role


def is_remediation_action(record: dict[str, Any]) -> bool:
    """A write made by an ASR remediation: SSM calling as one of the solution's roles (module docstring)."""
    return (
        isinstance(record, dict)
        and record.get("sourceIPAddress") == SSM_SOURCE
        and record.get("eventName") not in IGNORED_EVENTS
        and solution_role_of(record) is not None
    )


def summarize(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in KEPT_FIELDS if k in record}


def read_records(s3_client: Any, bucket: str, key: str) -> list[dict[str, Any]]:
    """The records of one trail file; MalformedLogFile if it is not one (S3 errors propagate)."""
    body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    try:
        document = json.loads(gzip.decompress(body))
    except (OSError, EOFError, zlib.error, ValueError) as err:
        raise MalformedLogFile(f"s3://{bucket}/{key}: not a gzipped CloudTrail log file ({err})") from None
    if isinstance(document, dict) and DIGEST_FOLDER in key and "Records" not in document:
        return []  # a digest file (log file validation): no events
    records = document.get("Records") if isinstance(document, dict) else None
    if not isinstance(records, list):
        raise MalformedLogFile(f"s3://{bucket}/{key}: not a CloudTrail log file (no Records list)")
    return [r for r in records if isinstance(r, dict)]


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
    written = 0
    for batch in _batches(events):
        answer = logs_client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
        rejected = answer.get("rejectedLogEventsInfo") or {}
        if rejected:  # too old / too new / past the group's retention: not stored, and said so
            logger.error("%s/%s: CloudWatch Logs rejected part of a batch: %s", group, stream, rejected)
            written += len(batch) - _rejected_count(rejected, len(batch))
        else:
            written += len(batch)
    return written


def _rejected_count(info: dict[str, int], size: int) -> int:
    """Events PutLogEvents refused: those before tooOldLogEventEndIndex ("exclusive") or
    expiredLogEventEndIndex (read the same way), and from tooNewLogEventStartIndex ("inclusive") on.
    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_RejectedLogEventsInfo.html"""
    old = max(info.get("tooOldLogEventEndIndex", 0), info.get("expiredLogEventEndIndex", 0))
    new = size - info["tooNewLogEventStartIndex"] if "tooNewLogEventStartIndex" in info else 0
    return min(size, old + new)


def _epoch_ms(value: Any, default: dt.datetime) -> int:
    """CloudTrail's eventTime (ISO 8601, UTC); the processing time when it is missing or not a time."""
    try:
        when = dt.datetime.fromisoformat(str(value or "").replace("Z", "+00:00"))
    except ValueError:
        when = default
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
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
    files = failed = 0
    unreadable: list[str] = []
    for notification in event.get("Records") or []:
        s3_info = notification.get("s3") or {}
        bucket = (s3_info.get("bucket") or {}).get("name")
        key = unquote_plus((s3_info.get("object") or {}).get("key") or "")
        if not bucket or not key:
            logger.error("skipping a notification without bucket/key: %s", json.dumps(notification)[:500])
            failed += 1
            continue
        files += 1
        try:
            records = read_records(s3_client, bucket, key)
        except MalformedLogFile as err:
            logger.error("%s", err)
            failed += 1
            continue
        except (ClientError, BotoCoreError) as err:
            logger.error("s3://%s/%s: cannot read it (%s)", bucket, key, err)
            unreadable.append(f"s3://{bucket}/{key}")
            failed += 1
            continue
        kept.extend(r for r in records if is_remediation_action(r))
    written = 0
    if kept:
        logs_client = _writer_session(role_arn).client("logs")
        written = write_events(logs_client, group, kept, dt.datetime.now(dt.UTC))
    logger.info("processed %d file(s), forwarded %d remediation action(s), %d failed", files, written, failed)
    if unreadable:
        # may work on a retry: let Lambda's asynchronous retries and the on-failure destination see it
        raise RuntimeError(f"could not read {len(unreadable)} trail file(s): {', '.join(unreadable)[:1000]}")
    return {"files": files, "forwarded": written, "failed": failed}
