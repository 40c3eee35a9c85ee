"""Deadline escalation of the remediation policy (docs/policy.md, "Deadlines").

A policy's ``deadline`` (global or per control, e.g. ``72h``) means: a finding still open this long
after ASR acted on it is escalated through the notification topic. Two halves:

**Track** (:func:`track`, called once by ``resolve._enforce``). When the policy's decision is PROCEED
(a remediation will run) or MANUAL_ONLY (the finding waits for a human) and a deadline applies, one
item per finding goes into table ``SO0111-ASR-RemediationDeadlines``: key ``FindingKey`` (a hash of
the finding Id), the finding's Id, ProductArn, control, account, Region and resource, the policy
rule that set the deadline and the policy revision, ``ActedAt`` and ``DueAt`` (ISO 8601 UTC with
milliseconds: they sort as text). ``Pending`` (a constant) and ``DueAt`` key the sparse index
``Pending``: only pending items are in it. The put is conditional: the first action starts the clock,
and a later attempt on a pending item never resets it; an item already escalated or closed is
replaced (the finding came back: a new clock). A failed write is logged (``deadline write
failed``: table, finding, error code), counted in metric ``ASR/DeadlineWriteFailure`` and never
raised: the remediation goes on.

**Sweep** (:func:`lambda_handler`, function ``SO0111-ASR-DeadlineSweep``, every 15 minutes). It
queries the index for the items due (``DueAt <= now``), page by page, and for each reads the
finding from Security Hub (GetFindings, ProductArn + Id). A finding that is gone, archived,
Workflow RESOLVED or SUPPRESSED, or Compliance PASSED closes the item (``Pending`` removed, the
reason recorded). Any other is escalated: the item is first claimed (a conditional update from
PENDING to ESCALATED that removes ``Pending``: of two sweeps, or a sweep and a late index read, only
one wins), then ONE notification with outcome DEADLINE_EXCEEDED goes out through
``notifications.send`` (topic, log group, metric ``RemediationOutcome``); if sending fails the claim
is given back, so the next run tries again. A run stops taking items ``STOP_MARGIN_SECONDS`` before
the Lambda timeout and after ``MAX_ITEMS_PER_RUN`` items; what is left is due in the next run.

Every failure is visible: an item that fails is logged (``deadline item failed``) and counted in
``ASR/DeadlineSweepError``; a run with any failed item, or whose query fails, raises (the Lambda
Errors metric), after handling the other items.

The sweep runs as the orchestrator's role ``SO0111-ASR-Orchestrator-Admin`` (asr/admin/orchestrator.py,
``_deadlines``): what ``notifications.send`` needs (SNS, the log group, parameters, metrics, the
solution key) is already there, and resolve, on the same role, writes the items; a conditional
policy adds only dynamodb:PutItem and UpdateItem on the table, dynamodb:Query on the one index and
securityhub:GetFindings on the hub.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from asr import limits, solution
from asr.policy import document as doc
from asr.policy import evaluate
from lambdas.orchestrator import aws, history, notifications, outcomes
from lambdas.orchestrator.finding import Finding, FindingError
from lambdas.orchestrator.log import bind, clear, get_logger

if TYPE_CHECKING:
    from lambdas.orchestrator.enforce import Compiled

logger = get_logger(__name__)

#: The decisions after which ASR has acted on the finding: a remediation runs, or it waits for a human.
TRACKED = (evaluate.PROCEED, evaluate.MANUAL_ONLY)
#: Item states (attribute ``Status``); only PENDING items carry ``Pending`` (the sparse index key).
PENDING, ESCALATED, CLOSED = "PENDING", "ESCALATED", "CLOSED"
PENDING_ATTRIBUTE = "Pending"
DUE_ATTRIBUTE = "DueAt"
#: Items read per Query page, most items one run takes, and the time left at which it stops.
PAGE_SIZE = 25
MAX_ITEMS_PER_RUN = 500
STOP_MARGIN_SECONDS = 60
#: Time budget of a run when the context cannot say (invoked outside Lambda).
DEFAULT_BUDGET_SECONDS = 240
#: Bound of each free-text attribute (an item holds at most 400 KB:
#: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items).
FIELD_BYTES = 2 * 1024
#: Findings a closed item may have: https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_AwsSecurityFinding.html
#: (RecordState ACTIVE | ARCHIVED; Workflow.Status NEW | NOTIFIED | RESOLVED | SUPPRESSED; Compliance.Status).
CLOSING_WORKFLOW = ("RESOLVED", "SUPPRESSED")


def utcnow() -> datetime:
    """The clock (a test replaces it: nothing here sleeps or waits for real time)."""
    return datetime.now(UTC)


def finding_key(finding_id: str) -> str:
    """The item key: SHA-256 of the finding Id (an Id is up to 512 characters; a key is 32)."""
    return hashlib.sha256(finding_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def table_name() -> str:
    return os.environ.get(solution.DEADLINE_TABLE_ENV, "").strip()


def _text(value: Any, limit: int = FIELD_BYTES) -> str:
    return limits.truncate_bytes(limits.clean(value or ""), limit)


def _code(err: Exception) -> str:
    return (aws.error_code(err) if isinstance(err, ClientError) else "") or type(err).__name__


def _metric(name: str) -> None:
    """Count one ``name`` in namespace ASR when CloudWatch metrics are on; never raises."""
    try:
        if notifications.metrics_enabled():
            aws.client("cloudwatch").put_metric_data(
                Namespace=solution.METRICS_NAMESPACE, MetricData=[{"MetricName": name, "Unit": "Count", "Value": 1}]
            )
    except Exception as err:
        logger.warning("deadline metric failed", extra={"data": {"metric": name, "error": f"{_code(err)}: {err}"}})


# --- track -----------------------------------------------------------------------------------------


def item_for(
    compiled: Compiled, decision: evaluate.Decision, finding: Finding, target: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The deadline item of a decision that has ``deadline_seconds``."""
    seconds = int(decision.deadline_seconds or 0)
    rule = evaluate.effective(compiled.policy, decision.control).deadline[1]
    due = now + timedelta(seconds=seconds)
    control = decision.control or finding.security_control_id or finding.control_id or ""
    return {
        solution.DEADLINE_KEY: finding_key(finding.id),
        "FindingId": _text(finding.id),
        "ProductArn": _text(finding.product_arn),
        "ControlId": _text(control or "(none)", 256),
        "StandardControlId": _text(
            ":".join(p for p in (target.get("StandardShortName"), target.get("ControlId")) if p), 256
        ),
        "AccountId": _text(finding.account, 64),
        "Region": _text(finding.resource_region, 64),
        "FindingRegion": _text(finding.region, 64),
        "ResourceId": _text(finding.resource_id),
        "ResourceType": _text(finding.resource_type, 256),
        "Decision": decision.outcome,
        "DeadlineSeconds": seconds,
        "DeadlineRule": _text(rule, 1024),
        "PolicyObject": _text(compiled.where, 1100),
        "PolicyRevision": _text(compiled.version, 256),
        "ActedAt": history.iso(now),
        DUE_ATTRIBUTE: history.iso(due),
        PENDING_ATTRIBUTE: PENDING,
        "Status": PENDING,
        solution.DEADLINE_TTL_ATTRIBUTE: int((due + timedelta(days=solution.DEADLINE_RETENTION_DAYS)).timestamp()),
    }


def _typed(item: dict[str, Any]) -> dict[str, Any]:
    return {k: {"N": str(v)} if isinstance(v, int) else {"S": str(v)} for k, v in item.items()}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: (int(v["N"]) if "N" in v else v.get("S", "")) for k, v in item.items()}


def track(
    compiled: Compiled,
    decision: evaluate.Decision,
    finding: Finding,
    target: dict[str, Any],
    now: datetime | None = None,
) -> bool | None:
    """Start the deadline clock of ``finding`` (True), find it already running (False), or do
    nothing (None: no deadline, a decision that does not act, or a failed write, logged and
    counted). Never raises: the remediation never waits for, or depends on, its deadline."""
    if decision.outcome not in TRACKED or decision.deadline_seconds is None:
        return None
    table = table_name()
    item: dict[str, Any] = {}
    try:
        if not table:
            raise RuntimeError(f"{solution.DEADLINE_TABLE_ENV} is not set: no deadline table to write to")
        item = item_for(compiled, decision, finding, target, now or utcnow())
        ddb = aws.client("dynamodb")
        try:
            # The first action starts the clock; a pending item is never reset. One escalated or closed
            # (the finding was resolved and came back, or was escalated and acted on again) starts anew.
            ddb.put_item(
                TableName=table,
                Item=_typed(item),
                ConditionExpression="attribute_not_exists(#k) OR attribute_not_exists(#p)",
                ExpressionAttributeNames={"#k": solution.DEADLINE_KEY, "#p": PENDING_ATTRIBUTE},
            )
        except ddb.exceptions.ConditionalCheckFailedException:
            logger.info("deadline already running", extra={"data": {"finding": finding.id, "table": table}})
            return False
        logger.info(
            "deadline started",
            extra={"data": {"finding": finding.id, "due": item[DUE_ATTRIBUTE], "rule": item["DeadlineRule"]}},
        )
        return True
    except Exception as err:
        logger.error(
            "deadline write failed",
            extra={
                "data": {
                    "table": table,
                    "finding": limits.truncate_chars(finding.id, 1024),
                    "key": item.get(solution.DEADLINE_KEY, ""),
                    "error": f"{_code(err)}: {limits.truncate_chars(err, 1024)}",
                }
            },
        )
        _metric(solution.METRIC_DEADLINE_WRITE_FAILURE)
        return None


# --- sweep -----------------------------------------------------------------------------------------


class DeadlineSweepFailed(RuntimeError):
    """A run that failed (its query, or one or more items): the Lambda reports an error."""


@dataclass
class SweepResult:
    due: int = 0
    escalated: list[str] = field(default_factory=list)  # finding ids
    closed: list[tuple[str, str]] = field(default_factory=list)  # (finding id, reason)
    skipped: list[str] = field(default_factory=list)  # handled meanwhile by another run
    errors: list[tuple[str, str]] = field(default_factory=list)  # (finding id, error)
    stopped_early: bool = False  # time or MAX_ITEMS_PER_RUN: the rest is for the next run

    def to_json(self) -> dict[str, Any]:
        return {
            "Due": self.due,
            "Escalated": len(self.escalated),
            "Closed": len(self.closed),
            "Skipped": len(self.skipped),
            "Errors": len(self.errors),
            "StoppedEarly": self.stopped_early,
        }


def _due_pages(ddb: Any, table: str, now: datetime) -> Any:
    """Pages of the pending items due at ``now``, earliest first."""
    start: dict[str, Any] | None = None
    while True:
        args: dict[str, Any] = {
            "TableName": table,
            "IndexName": solution.DEADLINE_PENDING_INDEX,
            "KeyConditionExpression": "#p = :pending AND #d <= :now",
            "ExpressionAttributeNames": {"#p": PENDING_ATTRIBUTE, "#d": DUE_ATTRIBUTE},
            "ExpressionAttributeValues": {":pending": {"S": PENDING}, ":now": {"S": history.iso(now)}},
            "Limit": PAGE_SIZE,
        }
        if start:
            args["ExclusiveStartKey"] = start
        page = ddb.query(**args)
        yield [_plain(i) for i in page.get("Items", [])]
        start = page.get("LastEvaluatedKey")
        if not start:
            return


def _finding(hub: Any, item: dict[str, Any]) -> dict[str, Any] | None:
    """The finding as Security Hub holds it now, None when it is gone. The filter names exactly one
    finding (ProductArn + Id); the answer is checked all the same: a finding of another Id would close
    or escalate the wrong item."""
    finding_id, product_arn = item["FindingId"], item["ProductArn"]
    response = hub.get_findings(
        Filters={
            "Id": [{"Value": finding_id, "Comparison": "EQUALS"}],
            "ProductArn": [{"Value": product_arn, "Comparison": "EQUALS"}],
        },
        MaxResults=1,
    )
    for found in response.get("Findings", []):
        if found.get("Id") == finding_id and found.get("ProductArn") == product_arn:
            return found
    return None


def closing_reason(found: dict[str, Any] | None) -> str:
    """Why the deadline no longer applies, "" while the finding is still open."""
    if found is None:
        return "the finding is no longer in Security Hub"
    if found.get("RecordState") == "ARCHIVED":
        return "the finding is archived (RecordState ARCHIVED)"
    workflow = (found.get("Workflow") or {}).get("Status") or found.get("WorkflowState")
    if workflow in CLOSING_WORKFLOW:
        return f"the finding's workflow is {workflow}"
    if (found.get("Compliance") or {}).get("Status") == "PASSED":
        return "the finding's compliance is PASSED"
    return ""


_NAMES = {"#s": "Status", "#p": PENDING_ATTRIBUTE, "#d": DUE_ATTRIBUTE}


@dataclass(frozen=True)
class _Table:
    """The deadline table and the one client a sweep writes it with."""

    name: str
    ddb: Any


def _update(table: _Table, key: str, expression: str, condition: str, values: dict[str, Any]) -> bool:
    """A conditional UpdateItem; False when the condition did not hold (another run got there)."""
    try:
        table.ddb.update_item(
            TableName=table.name,
            Key={solution.DEADLINE_KEY: {"S": key}},
            UpdateExpression=expression,
            ConditionExpression=condition,
            # only the names the expressions use: DynamoDB refuses an unused one (ValidationException)
            ExpressionAttributeNames={n: v for n, v in _NAMES.items() if n in f"{expression} {condition}"},
            ExpressionAttributeValues=_typed(values),
        )
    except table.ddb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def _expiry(now: datetime) -> int:
    return int((now + timedelta(days=solution.DEADLINE_RETENTION_DAYS)).timestamp())


def message(item: dict[str, Any], found: dict[str, Any], now: datetime) -> str:
    """The escalation: the finding, control, account, resource, how long it has been open, the
    deadline and the policy rule that set it."""
    acted = history.parse_time(item.get("ActedAt"))
    open_for = int((now - acted).total_seconds()) // 60 * 60 if acted else 0
    workflow = (found.get("Workflow") or {}).get("Status") or found.get("WorkflowState") or "unknown"
    compliance = (found.get("Compliance") or {}).get("Status") or "unknown"
    return (
        f"Deadline exceeded: finding {item['FindingId']} of control {item.get('ControlId')} in account "
        f"{item.get('AccountId')} Region {item.get('Region')}, resource {item.get('ResourceId')}, is still open "
        f"{doc.format_duration(open_for) or '0m'} after ASR acted on it at {item.get('ActedAt')} "
        f"({item.get('Decision')}); the deadline is {doc.format_duration(int(item.get('DeadlineSeconds', 0)))} "
        f"(due {item.get(DUE_ATTRIBUTE)}), rule {item.get('DeadlineRule')} of remediation policy "
        f"{item.get('PolicyObject')} (revision {item.get('PolicyRevision')}). Workflow {workflow}, compliance "
        f"{compliance}: remediate or suppress it, or add an exemption."
    )


def _escalate(table: _Table, item: dict[str, Any], found: dict[str, Any], now: datetime) -> bool:
    """Claim the item, then notify once; False when another run claimed it first."""
    key, stamp = item[solution.DEADLINE_KEY], history.iso(now)
    claimed = _update(
        table,
        key,
        f"SET #s = :escalated, EscalatedAt = :at, {solution.DEADLINE_TTL_ATTRIBUTE} = :exp REMOVE #p",
        "#s = :pending AND #d = :due",
        {":escalated": ESCALATED, ":at": stamp, ":exp": _expiry(now), ":pending": PENDING, ":due": item[DUE_ATTRIBUTE]},
    )
    if not claimed:
        return False
    try:
        parsed: Finding | None = Finding.parse(found)
    except FindingError:
        parsed = None  # the notification still names it: the message carries the item's fields
    try:
        notifications.send(
            notifications.Notification(
                outcomes.DEADLINE_EXCEEDED,
                message(item, found, now),
                parsed,
                raw_finding=found,
                affected_object=parsed.affected_object if parsed else "",
            ),
            now,
        )
    except Exception:
        # Give the claim back: the next run escalates it (nothing was sent).
        _update(
            table,
            key,
            "SET #s = :pending, #p = :pending REMOVE EscalatedAt",
            "#s = :escalated AND EscalatedAt = :at",
            {":pending": PENDING, ":escalated": ESCALATED, ":at": stamp},
        )
        raise
    return True


def _close(table: _Table, item: dict[str, Any], reason: str, now: datetime) -> bool:
    return _update(
        table,
        item[solution.DEADLINE_KEY],
        f"SET #s = :closed, ClosedAt = :at, ClosedReason = :why, {solution.DEADLINE_TTL_ATTRIBUTE} = :exp REMOVE #p",
        "#s = :pending AND #d = :due",
        {
            ":closed": CLOSED,
            ":at": history.iso(now),
            ":why": _text(reason, 1024),
            ":exp": _expiry(now),
            ":pending": PENDING,
            ":due": item[DUE_ATTRIBUTE],
        },
    )


def handle(table: _Table, hub: Any, item: dict[str, Any], now: datetime, result: SweepResult) -> None:
    finding_id = str(item.get("FindingId", ""))
    found = _finding(hub, item)
    reason = closing_reason(found)
    if reason:
        if _close(table, item, reason, now):
            result.closed.append((finding_id, reason))
            logger.info("deadline closed", extra={"data": {"finding": finding_id, "reason": reason}})
        else:
            result.skipped.append(finding_id)
        return
    assert found is not None
    if _escalate(table, item, found, now):
        result.escalated.append(finding_id)
        logger.info("deadline escalated", extra={"data": {"finding": finding_id, "due": item.get(DUE_ATTRIBUTE)}})
    else:
        result.skipped.append(finding_id)


def sweep(now: datetime, time_left: Callable[[], float]) -> SweepResult:
    """Close or escalate every item due at ``now``, within the time ``time_left()`` says remains."""
    table = table_name()
    if not table:
        raise DeadlineSweepFailed(f"{solution.DEADLINE_TABLE_ENV} is not set: no deadline table to sweep")
    result = SweepResult()
    ddb = aws.client("dynamodb")
    written, hub = _Table(table, ddb), aws.client("securityhub")  # one client each for the whole run
    try:
        for page in _due_pages(ddb, table, now):
            for item in page:
                if time_left() < STOP_MARGIN_SECONDS or result.due >= MAX_ITEMS_PER_RUN:
                    result.stopped_early = True
                    break
                result.due += 1
                try:
                    handle(written, hub, item, now, result)
                except Exception as err:
                    finding_id = str(item.get("FindingId", ""))
                    error = f"{_code(err)}: {limits.truncate_chars(err, 1024)}"
                    result.errors.append((finding_id, error))
                    logger.error(
                        "deadline item failed",
                        extra={
                            "data": {
                                "table": table,
                                "key": item.get(solution.DEADLINE_KEY, ""),
                                "finding": limits.truncate_chars(finding_id, 1024),
                                "error": error,
                            }
                        },
                    )
                    _metric(solution.METRIC_DEADLINE_SWEEP_ERROR)
            if result.stopped_early:
                break
    except Exception as err:
        if isinstance(err, DeadlineSweepFailed):
            raise
        logger.error("deadline sweep failed", extra={"data": {"table": table, "error": f"{_code(err)}: {err}"}})
        _metric(solution.METRIC_DEADLINE_SWEEP_ERROR)
        raise DeadlineSweepFailed(
            f"deadline sweep of table {table} failed: {_code(err)}: {limits.truncate_chars(err, 1024)}"
        ) from None
    logger.info("deadline sweep", extra={"data": result.to_json()})
    if result.errors:
        finding_id, error = result.errors[0]
        raise DeadlineSweepFailed(
            f"{len(result.errors)} of {result.due} due deadline items failed (first: finding "
            f"{limits.truncate_chars(finding_id, 300)}: {error}); they stay pending for the next run"
        )
    return result


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """The EventBridge schedule's target (the event itself is not read)."""
    clear()
    history.clear()  # an escalation is not a remediation attempt: no history record
    bind(function="deadline-sweep")
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    started = time.monotonic()

    def time_left() -> float:
        if callable(remaining):
            return remaining() / 1000
        return DEFAULT_BUDGET_SECONDS - (time.monotonic() - started)

    return sweep(utcnow(), time_left).to_json()
