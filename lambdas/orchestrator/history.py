"""Remediation history: one record per attempt, written when its final notification goes out.

``notifications.send`` calls :func:`record` after it has published (the notification never waits
for, or depends on, the history). A record is written only when the invocation bound the
attempt's context (:func:`bind`: the state machine execution, its start, the Map index, the event
type ...): the worker binds its job, the notify function the state it was given.

Idempotent: the key (``RecordId``) is a hash of the execution, the Map index and the finding id
(the worker's job id), and the write is a conditional ``PutItem`` (``attribute_not_exists``), so a
redelivered message, a Step Functions Retry of the notify task or a second worker delivery never
creates a second record. A failed write is logged (``history write failed``, with the table, the
record id and the error code), counted in metric ``ASR/HistoryWriteFailure`` and never raised.

Table schema, indexes, retention and cost: docs/history.md.
"""

from __future__ import annotations

import hashlib
import os
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from asr import limits, solution
from lambdas.orchestrator import aws, outcomes
from lambdas.orchestrator.log import get_logger

if TYPE_CHECKING:  # notifications imports this module
    from collections.abc import Callable

    from lambdas.orchestrator.notifications import Notification

logger = get_logger(__name__)

#: Who asked for the remediation: a Security Hub custom action, an AutoTrigger rule (an Imported
#: finding), or the remediation policy's retry (the worker's, attempt 2 or more).
CUSTOM_ACTION, AUTO, RETRY, UNKNOWN = "CUSTOM_ACTION", "AUTO", "RETRY", "UNKNOWN"
INITIATORS = (CUSTOM_ACTION, AUTO, RETRY, UNKNOWN)

#: Bounds of the free-text attributes (a DynamoDB item holds at most 400 KB:
#: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items).
MESSAGE_BYTES = 8 * 1024
FIELD_BYTES = 2 * 1024

_context: ContextVar[dict[str, Any] | None] = ContextVar("asr_history_context", default=None)


# --- context -------------------------------------------------------------------------------------


def clear() -> None:
    _context.set({})


def bind(
    *,
    execution: Any,
    started: Any = None,
    map_index: Any = None,
    event_type: Any = None,
    action: Any = None,
    runbook: Any = None,
    attempt: Any = None,
    initiator: Any = None,
    finding_id: Any = None,
    policy_version: Any = None,
) -> None:
    """The attempt this invocation notifies; without ``execution`` nothing is recorded."""
    _context.set(
        {
            "execution": execution if isinstance(execution, str) else "",
            "started": started if isinstance(started, str) else "",
            "map_index": "" if map_index is None else str(map_index),
            "event_type": event_type if isinstance(event_type, str) else "",
            "action": action if isinstance(action, str) else "",
            "runbook": runbook if isinstance(runbook, str) else "",
            "attempt": attempt,
            "initiator": initiator,
            "finding_id": finding_id if isinstance(finding_id, str) else "",
            "policy_version": policy_version if isinstance(policy_version, str) else "",
        }
    )


def set_policy_version(version: str) -> None:
    """The remediation policy that decided this attempt (resolve, once it has read it)."""
    ctx = _context.get()
    if ctx:
        _context.set({**ctx, "policy_version": version})


def bind_state(state: dict[str, Any], execution: Any, started: Any = None) -> None:
    """Bind from a state machine item (the notify task's state, or the worker's ``Job``)."""
    target, finding = state.get("Target"), state.get("Finding")
    bind(
        execution=execution,
        started=started,
        map_index=state.get("MapIndex"),
        event_type=state.get("EventType"),
        action=state.get("CustomActionName"),
        runbook=target.get("Runbook") if isinstance(target, dict) else None,
        attempt=state.get("Attempt"),
        initiator=state.get("Initiator"),
        finding_id=finding.get("Id") if isinstance(finding, dict) else None,
        policy_version=target.get("PolicyVersion") if isinstance(target, dict) else None,
    )


def bind_job(body: dict[str, Any]) -> None:
    """Bind from a scheduling message (``{TaskToken, ExecutionArn, ExecutionStartTime, Job}``)."""
    job = body.get("Job")
    bind_state(job if isinstance(job, dict) else {}, body.get("ExecutionArn"), body.get("ExecutionStartTime"))


#: The payload of the tasks that may send a final notification (resolve and the notify tasks,
#: asr/admin/orchestrator.py): the item state, and the execution it belongs to
#: (``$$.Execution.Id`` / ``StartTime``), which the history record needs.
STATE, EXECUTION, STARTED = "State", "ExecutionArn", "ExecutionStartTime"


def unwrap(event: dict[str, Any]) -> dict[str, Any]:
    """The item state of ``{State, ExecutionArn, ExecutionStartTime}``, binding the attempt for the
    history. Any other input is the state itself (nothing is recorded then)."""
    clear()
    if set(event) == {STATE, EXECUTION, STARTED} and isinstance(event[STATE], dict):
        state = event[STATE]
        bind_state(state, event[EXECUTION], event[STARTED])
        return state
    return event


# --- the record ----------------------------------------------------------------------------------


def record_id(execution: str, map_index: str, finding_id: str, attempt: int = 1) -> str:
    """The worker's job id (worker.job_identity) for the first attempt, whichever function records
    it; a retry (attempt 2 or more, the worker's: remediation policy ``retries``) has its own."""
    suffix = f"#{attempt}" if attempt > 1 else ""
    return hashlib.sha256(f"{execution}#{map_index}#{finding_id}{suffix}".encode()).hexdigest()[:32]


def set_attempt(attempt: int, started: str | None = None) -> None:
    """The attempt the next notification is about (the worker's retries): its number, initiator
    (RETRY from the second) and start."""
    ctx = _context.get()
    if ctx:
        more: dict[str, Any] = {"attempt": attempt, "initiator": RETRY if attempt > 1 else ctx.get("initiator")}
        if started:
            more["started"] = started
        _context.set({**ctx, **more})


def initiator(event_type: str, action: str, given: Any = None) -> str:
    if given == RETRY:
        return RETRY
    if event_type == solution.EVENT_CUSTOM_ACTION:
        return CUSTOM_ACTION
    if event_type == solution.EVENT_IMPORTED:
        return AUTO
    return UNKNOWN


def iso(moment: datetime) -> str:
    """UTC, milliseconds, ``Z``: sorts as text, which the indexes' sort key needs."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: Any) -> datetime | None:
    """An ASFF / Step Functions timestamp (ISO 8601, ``Z`` or an offset), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def first_seen(raw: Any) -> datetime | None:
    """When Security Hub first saw the problem: ``FirstObservedAt``, else ``CreatedAt``."""
    if not isinstance(raw, dict):
        return None
    return parse_time(raw.get("FirstObservedAt")) or parse_time(raw.get("CreatedAt"))


def retention_days() -> int:
    value = os.environ.get(solution.HISTORY_RETENTION_ENV, str(solution.HISTORY_RETENTION_DEFAULT_DAYS)).strip()
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= solution.HISTORY_RETENTION_MAX_DAYS:
        raise ValueError(
            f"{solution.HISTORY_RETENTION_ENV} must be a whole number of days from 1 to "
            f"{solution.HISTORY_RETENTION_MAX_DAYS}, got {limits.shown(value)}"
        )
    return int(value)


def control_of(note: Notification) -> str:
    finding = note.finding
    if finding is None:
        return ""
    return finding.security_control_id or finding.control_id


def time_to_remediate(note: Notification, finished: datetime) -> float | None:
    """Seconds from the finding's first sighting to this SUCCESS (None otherwise, or unknown)."""
    if note.outcome != outcomes.SUCCESS or note.finding is None:
        return None
    seen = first_seen(note.finding.raw)
    if seen is None or seen > finished:
        return None
    return round((finished - seen).total_seconds(), 3)


def build(note: Notification, status: str, message: str, finished: datetime) -> dict[str, Any] | None:
    """The item of this attempt, or None when no attempt is bound to the invocation."""
    ctx = _context.get() or {}
    if not ctx.get("execution"):
        return None
    finding = note.finding
    raw = note.raw_finding if isinstance(note.raw_finding, dict) else {}
    finding_id = finding.id if finding else str(raw.get("Id", ""))
    if ctx.get("finding_id") and ctx["finding_id"] != finding_id:
        # not the finding the invocation was given (a notification about another one): no record
        logger.warning("history context is for another finding", extra={"data": {"bound": ctx["finding_id"]}})
        return None
    attempt = ctx.get("attempt")
    attempt = attempt if isinstance(attempt, int) and not isinstance(attempt, bool) and attempt >= 1 else 1
    seen = first_seen(finding.raw if finding else raw)
    ttr = time_to_remediate(note, finished)

    def text(value: Any, limit: int = FIELD_BYTES) -> str:
        return limits.truncate_bytes(limits.clean(value or ""), limit)

    item: dict[str, Any] = {
        solution.HISTORY_KEY: record_id(ctx["execution"], ctx["map_index"], finding_id, attempt),
        "FinishedAt": iso(finished),
        "FinishedDay": iso(finished)[:10],
        "FindingId": text(finding_id),
        "Standard": text(
            " ".join(p for p in (finding.standard_name, finding.standard_version) if p) if finding else ""
        ),
        "StandardShortName": text(note.standard_short_name),
        "AccountId": text(finding.account if finding else raw.get("AwsAccountId", "")),
        "Region": text(finding.resource_region if finding else ""),
        "Resource": text(finding.resource_id if finding else ""),
        "ResourceType": text(finding.resource_type if finding else ""),
        "Runbook": text(ctx["runbook"]),
        "ExecutionArn": text(ctx["execution"]),
        "AutomationExecutionId": text(note.exec_id),
        "Initiator": initiator(ctx["event_type"], ctx["action"], ctx.get("initiator")),
        "CustomActionName": text("" if ctx["action"] in ("", "None") else ctx["action"]),
        "Outcome": text(status, 256),
        "Message": text(message, MESSAGE_BYTES),
        "StartedAt": iso(parse_time(ctx["started"])) if parse_time(ctx["started"]) else "",
        "Attempt": attempt,
        # the remediation policy that decided (resolve, enforce.py); empty without a policy (docs/policy.md)
        "PolicyVersion": text(ctx.get("policy_version", "")),
        "FirstSeenAt": iso(seen) if seen else "",
        solution.HISTORY_TTL_ATTRIBUTE: int((finished + timedelta(days=retention_days())).timestamp()),
    }
    control = control_of(note)
    if control:  # an index key cannot be empty: a finding without a control is in ByDay only
        item["ControlId"] = text(control, 1024)
    if ttr is not None:
        item["TimeToRemediateSeconds"] = Decimal(str(ttr))
    return item


def _dynamo(item: dict[str, Any]) -> dict[str, Any]:
    typed: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, int | Decimal):
            typed[key] = {"N": str(value)}
        else:
            typed[key] = {"S": str(value)}
    return typed


def write(item: dict[str, Any]) -> bool:
    """Conditional put; False when the attempt was already recorded (a redelivery)."""
    table = os.environ.get(solution.HISTORY_TABLE_ENV, "")
    if not table:
        raise RuntimeError(f"{solution.HISTORY_TABLE_ENV} is not set: no history table to write to")
    ddb = aws.client("dynamodb")
    try:
        ddb.put_item(
            TableName=table,
            Item=_dynamo(item),
            ConditionExpression="attribute_not_exists(#k)",
            ExpressionAttributeNames={"#k": solution.HISTORY_KEY},
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        logger.info("attempt already recorded", extra={"data": {"record": item[solution.HISTORY_KEY]}})
        return False
    return True


def _put_metric(data: list[dict[str, Any]]) -> None:
    aws.client("cloudwatch").put_metric_data(Namespace=solution.METRICS_NAMESPACE, MetricData=data)


def time_to_remediate_metric(control: str, seconds: float) -> None:
    _put_metric(
        [
            {
                "MetricName": solution.METRIC_TIME_TO_REMEDIATE,
                "Dimensions": [{"Name": solution.DIMENSION_CONTROL_ID, "Value": limits.dimension_value(control)}],
                "Unit": "Seconds",
                "Value": seconds,
            }
        ]
    )


def write_failure_metric() -> None:
    _put_metric([{"MetricName": solution.METRIC_HISTORY_WRITE_FAILURE, "Unit": "Count", "Value": 1}])


def _code(err: Exception) -> str:
    return (aws.error_code(err) if isinstance(err, ClientError) else "") or type(err).__name__


def record(
    note: Notification, status: str, message: str, finished: datetime, metrics_on: Callable[[], bool]
) -> bool | None:
    """Record the attempt (True), find it already recorded (False) or record nothing (None: no
    attempt bound, or the write failed -- logged and counted). Sends the time-to-remediate of a
    SUCCESS when metrics are on. Never raises: the notification is already out."""
    try:
        ttr = time_to_remediate(note, finished)
        control = control_of(note)
        if ttr is not None and control and metrics_on():
            time_to_remediate_metric(control, ttr)
    except Exception as err:
        logger.warning("time-to-remediate metric failed", extra={"data": {"error": f"{type(err).__name__}: {err}"}})
    item: dict[str, Any] | None = None
    try:
        item = build(note, status, message, finished)
        if item is None:
            return None
        return write(item)
    except Exception as err:
        logger.error(
            "history write failed",
            extra={
                "data": {
                    "table": os.environ.get(solution.HISTORY_TABLE_ENV, ""),
                    "record": (item or {}).get(solution.HISTORY_KEY, ""),
                    "error": f"{_code(err)}: {limits.truncate_chars(err, 1024)}",
                }
            },
        )
        try:
            if metrics_on():
                write_failure_metric()
        except Exception as metric_err:
            logger.warning("history failure metric failed", extra={"data": {"error": str(metric_err)}})
        return None
