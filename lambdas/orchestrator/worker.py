"""Remediation worker: the SQS consumer behind the state machine's task token.

One message per remediation job. Each delivery moves the job one phase on, with a
conditional write in DynamoDB, and either re-queues the message (with a delay: the
per account+Region slot, or the next status poll) or answers the task token:

    NEW -> SCHEDULED (slot reserved: spacing per account+Region, transactionally)
        -> STARTING (lease) -> RUNNING (execution id recorded; QUEUED notified)
        -> DONE (terminal status; final notification; SendTaskSuccess/Failure)

Any number of consumers may run concurrently, and SQS may deliver a message twice:
the conditional writes let exactly one delivery advance a job, the losers stop, and a
delivery of a finished job only completes what is missing (notification, task answer).
A start interrupted between StartAutomationExecution and the RUNNING write is found
again by the execution's tag ``ASR-Job-<id>``, so it is never started twice.

Retries (the remediation policy's ``retries``, docs/policy.md): an attempt that ends FAILED or
TIMEDOUT goes back to NEW as the next attempt when the policy, asked again for that attempt
(initiator ``retry``), allows it: it waits its backoff (``NotBefore``), then is scheduled like
any job (the account+Region spacing holds), started with its own tag ``ASR-Job-<id>-<n>`` and
polled. Each attempt's end is notified and recorded in the history; the task token is answered
once, with the last attempt. A retry is counted per account+Region and hour
(``retries#<account>-<region>#<hour>``, at most ``cap_per_account_region``) in the same
transaction that moves the job, and must be due within ``RETRY_WINDOW_SECONDS`` of the
execution's start (the remediation task's timeout ends the wait for the token).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from asr import limits, solution
from lambdas.orchestrator import aws, enforce, history, outcomes, payload
from lambdas.orchestrator.finding import Finding
from lambdas.orchestrator.log import bind, clear, get_logger
from lambdas.orchestrator.notifications import Notification, send

logger = get_logger(__name__)

KEY = "AccountID-Region"
NEW, SCHEDULED, STARTING, RUNNING, DONE = "NEW", "SCHEDULED", "STARTING", "RUNNING", "DONE"
MAX_DELAY = 900  # SQS DelaySeconds limit
JOB_TTL = 7 * 24 * 3600
TAG_PREFIX = "ASR-Job-"
#: A retry must be due this long after the execution started at the latest (the construct sets it
#: from the remediation task's timeout, leaving time for the attempt itself to run).
RETRY_WINDOW_DEFAULT = 50 * 60
NO_OUTPUT = "No output available yet because the step is not successfully executed"
#: Bound of the runbook's output, failure message and affected object in a job's result (and so
#: in the task answer, a Step Functions payload): asr.limits.
REMEDIATION_TEXT_BYTES = 16 * 1024
TRANSIENT = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "ServiceUnavailable",
        "InternalError",
        "InternalServerError",
        "InternalServerException",
        "RequestTimeout",
        "TransactionConflictException",
    }
)


#: The worker's clock (tests replace it with a fake one: no test waits for real time).
clock: Callable[[], float] = time.time


class Conflict(Exception):
    """Another delivery changed the job first."""


class NotStarted(Exception):
    """The automation cannot be started; the message says why (a permanent failure)."""


class CapReached(Exception):
    """The account+Region has had its retries of this hour (``cap_per_account_region``)."""


@dataclass(frozen=True)
class RetryPlan:
    """What the policy says after a failed attempt: the next ``attempt`` in ``delay`` seconds, or
    none (``attempt`` None); ``note`` is added to the attempt's message either way."""

    attempt: int | None
    delay: int
    note: str
    cap: int = 0


def _setting(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    try:
        return float(value) if value.strip() else default
    except ValueError:
        raise ValueError(f"environment variable {name} must be a number of seconds, got {value!r}") from None


class Worker:
    def __init__(self, *, now: Callable[[], float] | None = None) -> None:
        self.now = now or clock
        self.table_name = os.environ["SCHEDULING_TABLE"]
        self.queue_url = os.environ["SCHEDULING_QUEUE_URL"]
        self.spacing = _setting("REMEDIATION_WAIT_SECONDS", 3)
        self.poll_initial = _setting("POLL_INITIAL_SECONDS", 15)
        self.poll_max = _setting("POLL_MAX_SECONDS", 120)
        self.poll_backoff = _setting("POLL_BACKOFF_RATE", 2)
        self.lease = _setting("START_LEASE_SECONDS", 120)
        self.retry_window = _setting("RETRY_WINDOW_SECONDS", RETRY_WINDOW_DEFAULT)
        self.ddb = aws.client("dynamodb")
        self.sqs = aws.client("sqs")
        self.sfn = aws.client("stepfunctions")

    # --- DynamoDB ------------------------------------------------------------------

    def _get(self, key: str) -> dict[str, Any] | None:
        item = self.ddb.get_item(TableName=self.table_name, Key={KEY: {"S": key}}, ConsistentRead=True).get("Item")
        return _plain(item) if item else None

    def _update(self, key: str, values: dict[str, Any], condition: str, cond_values: dict[str, Any]) -> None:
        names = {f"#{k}": k for k in values}
        expr_values = {f":{k}": _typed(v) for k, v in values.items()}
        expr_values.update({k: _typed(v) for k, v in cond_values.items()})
        try:
            self.ddb.update_item(
                TableName=self.table_name,
                Key={KEY: {"S": key}},
                UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in values),
                ConditionExpression=condition,
                ExpressionAttributeNames={**names, "#Phase": "Phase"},
                ExpressionAttributeValues=expr_values,
            )
        except ClientError as err:
            if aws.error_code(err) == "ConditionalCheckFailedException":
                raise Conflict(key) from None
            raise

    def _job(self, job_id: str) -> dict[str, Any]:
        key = f"job#{job_id}"
        job = self._get(key)
        if job is None:
            try:
                self.ddb.put_item(
                    TableName=self.table_name,
                    Item={KEY: {"S": key}, "Phase": {"S": NEW}, "TTL": {"N": str(int(self.now()) + JOB_TTL)}},
                    ConditionExpression="attribute_not_exists(#k)",
                    ExpressionAttributeNames={"#k": KEY},
                )
            except ClientError as err:
                if aws.error_code(err) != "ConditionalCheckFailedException":
                    raise
            job = self._get(key)
        assert job is not None
        return job

    def _schedule(self, job_key: str, slot_key: str) -> float:
        """Reserve the next slot of ``slot_key`` and mark the job SCHEDULED, in one transaction."""
        for _ in range(20):
            now = self.now()
            slot = self._get(slot_key)
            last = float(slot["LastExecutedTimestamp"]) if slot else None
            planned = now if last is None or now - last > self.spacing else last + self.spacing
            slot_condition = (
                {"ConditionExpression": "attribute_not_exists(#k)", "ExpressionAttributeNames": {"#k": KEY}}
                if last is None
                else {
                    "ConditionExpression": "LastExecutedTimestamp = :last",
                    "ExpressionAttributeValues": {":last": _typed(slot["LastExecutedTimestamp"])},
                }
            )
            slot_put = {
                "TableName": self.table_name,
                "Item": {
                    KEY: {"S": slot_key},
                    "LastExecutedTimestamp": {"N": _num(planned)},
                    "TTL": {"N": str(math.ceil(planned + self.spacing))},
                },
                **slot_condition,
            }
            job_update = {
                "TableName": self.table_name,
                "Key": {KEY: {"S": job_key}},
                "UpdateExpression": "SET #Phase = :scheduled, PlannedTimestamp = :planned",
                "ConditionExpression": "#Phase = :new",
                "ExpressionAttributeNames": {"#Phase": "Phase"},
                "ExpressionAttributeValues": {
                    ":scheduled": {"S": SCHEDULED},
                    ":planned": {"N": _num(planned)},
                    ":new": {"S": NEW},
                },
            }
            try:
                if self._transact([{"Put": slot_put}, {"Update": job_update}], job_key):
                    return planned
            except ClientError as err:
                if aws.error_code(err) != "TransactionCanceledException":
                    raise
            # the slot moved under us (its condition, or a concurrent transaction): read it again
        raise RuntimeError(f"could not reserve a slot for {slot_key} after 20 attempts")

    def _transact(self, items: list[dict[str, Any]], job_key: str) -> bool:
        """Write ``[other item, job]`` together: True when written, False when the other item's
        condition failed (the slot, the start, the retry cap), Conflict when the job's did (another
        delivery moved it first). Any other cancellation (a concurrent transaction) raises."""
        try:
            self.ddb.transact_write_items(TransactItems=items)
            return True
        except ClientError as err:
            if aws.error_code(err) != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in err.response.get("CancellationReasons", [])]
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise Conflict(job_key) from None
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False
            raise

    def _claim_start(
        self,
        job_key: str,
        place: str,
        job_values: dict[str, Any],
        job_condition: str,
        job_cond_values: dict[str, Any],
    ) -> float:
        """Update the job AND take the account+Region's start, in one transaction: 0 when done,
        else the seconds until the spacing allows a start.

        The planned slot spaces the *plans*; a delivery that comes late (throttled, redelivered
        after the visibility timeout, a lease taken over) would start off its slot, next to
        another start. ``started#<account>-<region>`` holds the last start: a start is allowed
        only ``REMEDIATION_WAIT_SECONDS`` after it, so actual starts are never closer."""
        now = self.now()
        start_key = f"started#{place}"
        values = {f":{k}": _typed(v) for k, v in job_values.items()}
        values.update({k: _typed(v) for k, v in job_cond_values.items()})
        items = [
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": {KEY: {"S": start_key}},
                    "UpdateExpression": "SET LastStartedTimestamp = :now, #TTL = :ttl",
                    "ConditionExpression": (
                        "attribute_not_exists(LastStartedTimestamp) OR LastStartedTimestamp <= :limit"
                    ),
                    "ExpressionAttributeNames": {"#TTL": "TTL"},
                    "ExpressionAttributeValues": {
                        ":now": {"N": _num(now)},
                        ":limit": {"N": _num(now - self.spacing)},
                        ":ttl": {"N": str(int(now) + JOB_TTL)},
                    },
                }
            },
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": {KEY: {"S": job_key}},
                    "UpdateExpression": "SET " + ", ".join(f"#{k} = :{k}" for k in job_values),
                    "ConditionExpression": job_condition,
                    "ExpressionAttributeNames": {**{f"#{k}": k for k in job_values}, "#Phase": "Phase"},
                    "ExpressionAttributeValues": values,
                }
            },
        ]
        if self._transact(items, job_key):
            return 0.0
        last = float((self._get(start_key) or {}).get("LastStartedTimestamp", now))
        return max(0.001, last + self.spacing - now)

    # --- SQS / Step Functions ------------------------------------------------------

    def _requeue(self, body: dict[str, Any], delay: float) -> None:
        self.sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps(body),
            DelaySeconds=max(0, min(MAX_DELAY, math.ceil(delay))),
        )

    def _answer(self, token: str, result: dict[str, Any]) -> None:
        try:
            failure = result.get("Failure")
            output = "" if failure else json.dumps(result, default=str)
            if not failure and len(limits.clean(output).encode("utf-8")) > limits.SFN_PAYLOAD_BYTES:
                # Never a task answer Step Functions refuses: fail the task, the Catch notifies.
                failure = {
                    "Error": "ASR.PayloadTooLarge",
                    "Cause": f"the worker's answer of {len(output.encode('utf-8', 'replace'))} bytes exceeds the "
                    f"{limits.SFN_PAYLOAD_BYTES} bytes of a Step Functions payload "
                    f"(outcome {limits.shown(result.get('Outcome'))})",
                }
            if failure:
                self.sfn.send_task_failure(
                    taskToken=token, error=limits.sfn_error(failure["Error"]), cause=limits.sfn_cause(failure["Cause"])
                )
            else:
                self.sfn.send_task_success(taskToken=token, output=limits.clean(output))
        except ClientError as err:
            if aws.error_code(err) in ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken"):
                logger.warning("task token no longer open", extra={"data": {"error": aws.error_code(err)}})
                return
            raise

    # --- phases -----------------------------------------------------------------------

    def process(self, body: dict[str, Any]) -> str:
        """Advance the job of one message; returns the phase it was left in."""
        job_spec = body["Job"]
        target = job_spec["Target"]
        job_id = job_identity(body)
        job_key = f"job#{job_id}"
        bind(job=job_id, execution=body.get("ExecutionArn"))
        history.bind_job(body)  # the final notification records the attempt (history.py)
        place = f"{target['Account']}-{target['Region']}"
        for _ in range(6):
            job = self._job(job_id)
            phase = job["Phase"]
            self._sync_attempt(body, job)
            try:
                if phase == NEW:
                    if not job.get("RetryNotified", True):
                        self._notify_retry(body, job_key, job)
                    wait = float(job.get("NotBefore", 0)) - self.now()
                    if wait > 0:  # a retry's backoff (at most MAX_DELAY a message: it comes back until due)
                        self._requeue(body, wait)
                        return NEW
                    attempt = int(job.get("Attempt", 1))
                    if attempt > 1 and int(job.get("CheckedAttempt", 1)) != attempt:
                        stop = self._recheck(body, job)
                        if stop is not None:
                            return self._stop_retry(body, job_key, job_id, *stop)
                        self._update(job_key, {"CheckedAttempt": attempt}, "#Phase = :n", {":n": NEW})
                    self._schedule(job_key, place)
                    continue
                if phase == SCHEDULED:
                    wait = float(job["PlannedTimestamp"]) - self.now()
                    if wait > 0:
                        self._requeue(body, wait)
                        return SCHEDULED
                    wait = self._claim_start(
                        job_key,
                        place,
                        {"Phase": STARTING, "LeaseUntil": self.now() + self.lease},
                        "#Phase = :s",
                        {":s": SCHEDULED},
                    )
                    if wait > 0:  # a late delivery: another start of this account+Region was too recent
                        self._requeue(body, wait)
                        return SCHEDULED
                    return self._start(body, job_key, job_id)
                if phase == STARTING:
                    lease = float(job.get("LeaseUntil", 0))
                    if self.now() < lease:
                        self._requeue(body, lease - self.now())
                        return STARTING
                    wait = self._claim_start(
                        job_key,
                        place,
                        {"LeaseUntil": self.now() + self.lease},
                        "#Phase = :s AND LeaseUntil = :l",
                        {":s": STARTING, ":l": job.get("LeaseUntil", 0)},
                    )
                    if wait > 0:
                        self._requeue(body, wait)
                        return STARTING
                    return self._start(body, job_key, job_id)
                if phase == RUNNING:
                    return self._monitor(body, job_key, job)
                if phase == DONE:
                    return self._finish(body, job_key, job)
                raise RuntimeError(f"job {job_id} has unknown phase {phase!r}")
            except Conflict:
                logger.info("another delivery advanced the job first", extra={"data": {"phase": phase}})
                if phase in (SCHEDULED, STARTING, RUNNING):
                    return phase  # the winner carries the job on; this delivery stops
                continue
        raise RuntimeError(f"job {job_id} did not settle")

    def _start(self, body: dict[str, Any], job_key: str, job_id: str) -> str:
        job_spec, target = body["Job"], body["Job"]["Target"]
        try:
            ssm = self._ssm(target)
            tag = attempt_tag(job_id, _attempt(job_spec))
            exec_id = self._existing_execution(ssm, tag) or self._start_automation(ssm, job_spec, tag)
        except NotStarted as err:
            return self._end(
                body, job_key, job_id, STARTING, outcomes.LAMBDA_ERROR, str(err), "ASR.RemediationNotStarted"
            )
        self._update(
            job_key,
            {"Phase": RUNNING, "ExecId": exec_id, "Polls": 0, "StartedAt": self.now()},
            "#Phase = :s",
            {":s": STARTING},
        )
        logger.info("automation started", extra={"data": {"exec_id": exec_id, "runbook": target["Runbook"]}})
        short = target.get("StandardShortName") or "custom"
        finding = _parsed(job_spec)
        control = target.get("ControlId") or (finding.title if finding else "")
        send(
            Notification(
                outcomes.QUEUED,
                f"Remediation queued for {short} control {control} in account {target['Account']}",
                finding,
                raw_finding=job_spec.get("Finding"),
                exec_id=exec_id,
                standard_short_name=target.get("StandardShortName", ""),
                remediation_output=f"{exec_id}: runbook {target['Runbook']} started in account {target['Account']} "
                f"{target['Region']}",
            )
        )
        self._requeue(body, self.poll_initial)
        return RUNNING

    def _ssm(self, target: dict[str, Any]) -> Any:
        try:
            session = aws.member_session(target["Partition"], target["Account"], target["Region"])
        except aws.AssumeRoleError as err:
            raise NotStarted(str(err)) from None
        return session.client("ssm", region_name=target["Region"], config=aws.CONFIG)

    def _existing_execution(self, ssm: Any, tag: str) -> str | None:
        found = ssm.describe_automation_executions(Filters=[{"Key": "TagKey", "Values": [tag]}])
        executions = found.get("AutomationExecutionMetadataList", [])
        return executions[0]["AutomationExecutionId"] if executions else None

    def _start_automation(self, ssm: Any, job_spec: dict[str, Any], tag: str) -> str:
        target = job_spec["Target"]
        try:
            finding = payload.full_finding(job_spec)  # the whole finding, read back when it was too large to carry
        except payload.FindingStoreError as err:
            raise NotStarted(str(err)) from None
        parameters = {k: [v] if isinstance(v, str) else v for k, v in target["Parameters"].items()}
        parameters["Finding"] = [json.dumps(finding)]
        try:
            return ssm.start_automation_execution(
                DocumentName=target["Runbook"],
                Parameters=parameters,
                Tags=[{"Key": tag, "Value": "1"}],
            )["AutomationExecutionId"]
        except ClientError as err:
            if aws.error_code(err) in TRANSIENT:
                raise
            raise NotStarted(
                f"StartAutomationExecution of {target['Runbook']} in account {target['Account']} "
                f"{target['Region']} failed: {err}"
            ) from None

    def _monitor(self, body: dict[str, Any], job_key: str, job: dict[str, Any]) -> str:
        job_spec, target = body["Job"], body["Job"]["Target"]
        exec_id = job["ExecId"]
        execution = self._ssm(target).get_automation_execution(AutomationExecutionId=exec_id)["AutomationExecution"]
        status = execution.get("AutomationExecutionStatus", "")
        polls = int(job.get("Polls", 0))
        if status not in outcomes.AUTOMATION_STATUS:
            self._update(job_key, {"Polls": polls + 1}, "#Phase = :r AND Polls = :p", {":r": RUNNING, ":p": polls})
            self._requeue(body, self.poll_delay(polls + 1))
            return RUNNING
        result = completed_result(job_spec, execution, polls + 1)
        plan = self._retry_plan(body, job, result)
        if plan is not None and plan.attempt is not None:
            try:
                return self._retry(body, job_key, job, _noted(result, plan.note), plan)
            except CapReached as err:
                plan = RetryPlan(None, 0, f"Not retried: {err}")
        if plan is not None:
            result = _noted(result, plan.note)
        notify_now = not result["TicketRequested"]
        self._update(
            job_key,
            {
                "Phase": DONE,
                "Result": json.dumps(result),
                "Notified": False,
                "TaskSent": False,
                "NotifyHere": notify_now,
            },
            "#Phase = :r AND Polls = :p",
            {":r": RUNNING, ":p": polls},
        )
        return self._finish(body, job_key, self._get(job_key) or {})

    # --- retries (the remediation policy's, docs/policy.md) -------------------------------

    def _sync_attempt(self, body: dict[str, Any], job: dict[str, Any]) -> None:
        """The job item holds the attempt (a message of an earlier attempt may come back late)."""
        attempt = int(job.get("Attempt", 1))
        if attempt > 1:
            body["Job"]["Attempt"], body["Job"]["Initiator"] = attempt, history.RETRY
            history.set_attempt(attempt, _iso(job.get("StartedAt")))

    def _retry_plan(self, body: dict[str, Any], job: dict[str, Any], result: dict[str, Any]) -> RetryPlan | None:
        """None when the policy has nothing to say (no policy, no retries for the control, an outcome
        never retried); else the next attempt, or why there is none."""
        outcome = result["Outcome"]
        if outcome not in (outcomes.FAILED, outcomes.TIMEDOUT):
            return None
        attempt = _attempt(body["Job"])
        try:
            decided = _decide_retry(body["Job"], attempt + 1, outcome)
        except (enforce.PolicyUnavailable, payload.FindingStoreError, ValueError) as err:
            return RetryPlan(None, 0, f"Not retried: {limits.truncate_chars(str(err), 2000)}")
        if decided is None:
            return None
        compiled, decision = decided
        if decision.retries.attempts <= 1:
            return None  # the policy does not retry this control
        where = f"remediation policy {compiled.where} (revision {compiled.version}), rule {decision.rule}"
        if not decision.allowed:
            return RetryPlan(None, 0, f"Not retried ({decision.outcome}): {where}: {decision.reason}.")
        delay = int(decision.retry_delay_seconds or 0)
        started = history.parse_time(body.get("ExecutionStartTime"))
        window_end = (started.timestamp() if started else self.now()) + self.retry_window
        if self.now() + delay > window_end:
            return RetryPlan(
                None,
                0,
                f"Not retried: attempt {attempt + 1} would be due in {delay} s, after the retry window of "
                f"{int(self.retry_window)} s from the execution's start (RETRY_WINDOW_SECONDS: the remediation "
                f"task's timeout ends the wait; {where}).",
            )
        return RetryPlan(
            attempt + 1,
            delay,
            f"Attempt {attempt} of {decision.retries.attempts}: attempt {attempt + 1} is scheduled in {delay} s "
            f"({where}).",
            decision.retries.cap_per_account_region,
        )

    def _retry(
        self, body: dict[str, Any], job_key: str, job: dict[str, Any], result: dict[str, Any], plan: RetryPlan
    ) -> str:
        """RUNNING -> NEW as attempt ``plan.attempt`` (``result``: the attempt that ended, its message
        noted with the plan), counted against the account+Region's hourly cap
        in the same transaction; then the failed attempt is notified and the message comes back when
        the retry is due."""
        assert plan.attempt is not None
        target = body["Job"]["Target"]
        now = self.now()
        hour = int(now // 3600)
        counter = f"retries#{target['Account']}-{target['Region']}#{hour}"
        ended = {k: v for k, v in result.items() if k not in ("Finding", "TicketRequest")}  # the job has it
        notice = {"Result": ended, "Attempt": _attempt(body["Job"]), "StartedAt": _iso(job.get("StartedAt"))}
        items = [
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": {KEY: {"S": counter}},
                    "UpdateExpression": "ADD #Count :one SET #TTL = :ttl",
                    "ConditionExpression": "attribute_not_exists(#Count) OR #Count < :cap",
                    "ExpressionAttributeNames": {"#Count": "RetryCount", "#TTL": "TTL"},
                    "ExpressionAttributeValues": {
                        ":one": {"N": "1"},
                        ":cap": {"N": str(plan.cap)},
                        ":ttl": {"N": str((hour + 2) * 3600)},
                    },
                }
            },
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": {KEY: {"S": job_key}},
                    "UpdateExpression": "SET #Phase = :new, #Attempt = :attempt, NotBefore = :due, "
                    "RetryNotice = :notice, RetryNotified = :false, Polls = :zero",
                    "ConditionExpression": "#Phase = :running AND Polls = :polls",
                    "ExpressionAttributeNames": {"#Phase": "Phase", "#Attempt": "Attempt"},
                    "ExpressionAttributeValues": {
                        ":new": {"S": NEW},
                        ":attempt": {"N": str(plan.attempt)},
                        ":due": {"N": _num(now + plan.delay)},
                        ":notice": {"S": json.dumps(notice, default=str)},
                        ":false": {"BOOL": False},
                        ":zero": {"N": "0"},
                        ":running": {"S": RUNNING},
                        ":polls": {"N": _num(float(job.get("Polls", 0)))},
                    },
                }
            },
        ]
        if not self._transact(items, job_key):
            raise CapReached(
                f"account {target['Account']} Region {target['Region']} has had its {plan.cap} retries of "
                "this hour (remediation policy retries.cap_per_account_region)."
            )
        logger.info("retry scheduled", extra={"data": {"attempt": plan.attempt, "delay": plan.delay}})
        moved = self._get(job_key) or {}
        self._notify_retry(body, job_key, moved)
        self._sync_attempt(body, moved)
        self._requeue(body, plan.delay)
        return NEW

    def _recheck(self, body: dict[str, Any], job: dict[str, Any]) -> tuple[str, str] | None:
        """The policy asked again when the retry is due (an exemption or a change of scope applied
        while it waited stops it): None to go on, else the (outcome, message) it ends with."""
        job_spec, attempt = body["Job"], int(job.get("Attempt", 1))
        previous = json.loads(job.get("RetryNotice") or "{}").get("Result", {}).get("Outcome", outcomes.FAILED)
        try:
            decided = _decide_retry(job_spec, attempt, previous)
        except (enforce.PolicyUnavailable, payload.FindingStoreError, ValueError) as err:
            return outcomes.LAMBDA_ERROR, f"Retry {attempt} not made: {limits.truncate_chars(str(err), 2000)}"
        if decided is None:
            return previous, f"Retry {attempt} not made: no remediation policy is configured any more."
        compiled, decision = decided
        if decision.allowed:
            return None
        text = enforce.message(compiled, decision, job_spec["Target"])
        if decision.outcome in outcomes.POLICY:
            return decision.outcome, f"Retry {attempt} not made: {text}"
        return previous, f"Retry {attempt} not made ({decision.outcome}): {text}"

    def _stop_retry(self, body: dict[str, Any], job_key: str, job_id: str, outcome: str, message: str) -> str:
        """A retry the policy refused when due: the attempt ends with that outcome, notified and
        recorded as the others, and the task token is answered (a policy that cannot be read: the
        task fails, as a start that failed)."""
        error = "ASR.RetryNotDecided" if outcome == outcomes.LAMBDA_ERROR else None
        return self._end(
            body, job_key, job_id, NEW, outcome, limits.truncate_bytes(message, REMEDIATION_TEXT_BYTES), error
        )

    def _end(
        self, body: dict[str, Any], job_key: str, job_id: str, phase: str, outcome: str, message: str, error: str | None
    ) -> str:
        """End the job from ``phase`` without (another) automation: DONE with ``outcome``, then
        _finish. With ``error`` the task fails and the state machine's Catch notifies; without, the
        worker notifies."""
        result = _result(body["Job"], outcome, message)
        if error:
            result["Failure"] = {"Error": error, "Cause": message}
        self._update(
            job_key,
            {"Phase": DONE, "Result": json.dumps(result), "Notified": bool(error), "TaskSent": False},
            "#Phase = :p",
            {":p": phase},
        )
        return self._finish(body, job_key, self._job(job_id))

    def _notify_retry(self, body: dict[str, Any], job_key: str, job: dict[str, Any]) -> None:
        """The end of the attempt before a retry, notified and recorded once (a lease, as _finish)."""
        if job.get("RetryNotified", True) or self.now() < float(job.get("RetryLease", 0)):
            return
        try:
            self._update(
                job_key,
                {"RetryLease": self.now() + self.lease},
                "#Phase = :n AND RetryNotified = :f AND (attribute_not_exists(#RetryLease) OR #RetryLease = :l)",
                {":n": NEW, ":f": False, ":l": job.get("RetryLease", 0)},
            )
        except Conflict:
            return
        notice = json.loads(job["RetryNotice"])
        ended = int(notice["Attempt"])
        if ended == 1:  # the first attempt: recorded as the others of its kind (execution start, initiator)
            history.bind_job({**body, "Job": {**body["Job"], "Attempt": 1, "Initiator": None}})
        else:
            history.set_attempt(ended, notice.get("StartedAt"))
        send(final_notification(body["Job"], notice["Result"]))
        self._update(job_key, {"RetryNotified": True}, "#Phase = :n", {":n": NEW})
        self._sync_attempt(body, job)

    def poll_delay(self, polls: int) -> float:
        """Seconds before status poll number ``polls`` + 1: initial * rate^(polls-1), capped."""
        return min(self.poll_max, self.poll_initial * self.poll_backoff ** max(0, polls - 1))

    def _finish(self, body: dict[str, Any], job_key: str, job: dict[str, Any]) -> str:
        result = json.loads(job["Result"])
        if not job.get("Notified") and job.get("NotifyHere", True):
            # Two deliveries of a finished job (a duplicate message) must not both notify: the one
            # that takes the lease sends. If it dies before recording Notified, its own message comes
            # back after the visibility timeout (longer than the lease) and sends then.
            lease = job.get("NotifyLease", 0)
            if self.now() < float(lease):
                return DONE  # another delivery is notifying (and answers the task after)
            try:
                self._update(
                    job_key,
                    {"NotifyLease": self.now() + self.lease},
                    "#Phase = :d AND Notified = :f AND (attribute_not_exists(#NotifyLease) OR #NotifyLease = :l)",
                    {":d": DONE, ":f": False, ":l": lease},
                )
            except Conflict:
                return DONE
            send(final_notification(body["Job"], result))
            self._update(job_key, {"Notified": True}, "#Phase = :d", {":d": DONE})
        if not job.get("TaskSent"):
            self._answer(body["TaskToken"], {**result, "Notified": bool(job.get("NotifyHere", True))})
            self._update(job_key, {"TaskSent": True}, "#Phase = :d", {":d": DONE})
        return DONE


def job_identity(body: dict[str, Any]) -> str:
    """Stable id of one remediation: execution, Map index, finding id."""
    finding_id = str((body["Job"].get("Finding") or {}).get("Id", ""))
    text = f"{body.get('ExecutionArn', '')}#{body['Job'].get('MapIndex', '')}#{finding_id}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _decide_retry(job_spec: dict[str, Any], attempt: int, previous_outcome: str) -> Any:
    """The remediation policy's (compiled, decision) for ``attempt`` (a retry), None without a
    policy (no call then: ASR as before)."""
    if enforce.location() is None:
        return None
    finding = Finding.parse(payload.full_finding(job_spec))
    return enforce.decide(
        finding, job_spec["Target"], job_spec.get("EventType"), attempt=attempt, previous_outcome=previous_outcome
    )


def _noted(result: dict[str, Any], note: str) -> dict[str, Any]:
    """``result`` with ``note`` (the retry plan's) added to its message, within the result's bound."""
    if not note:
        return result
    return {**result, "Message": limits.truncate_bytes(f"{result['Message']} {note}", REMEDIATION_TEXT_BYTES)}


def _attempt(job_spec: dict[str, Any]) -> int:
    value = job_spec.get("Attempt")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else 1


def attempt_tag(job_id: str, attempt: int) -> str:
    """The tag of an attempt's automation (a start interrupted before RUNNING is found by it)."""
    return TAG_PREFIX + job_id + (f"-{attempt}" if attempt > 1 else "")


def _iso(epoch: Any) -> str | None:
    if not isinstance(epoch, int | float) or isinstance(epoch, bool) or epoch <= 0:
        return None
    return history.iso(dt.datetime.fromtimestamp(epoch, dt.UTC))


def _output(outputs: dict[str, list[str]], *names: str) -> str:
    for name in names:
        values = outputs.get(name) or []
        if values and values[0] != NO_OUTPUT:
            return values[0]
    return ""


def _affected(text: str, job_spec: dict[str, Any]) -> str:
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    if isinstance(data, dict) and data:
        return " ".join(str(data.get(k, "")) for k in ("Type", "Id") if data.get(k)) or text
    try:
        return Finding.parse(job_spec["Finding"]).affected_object
    except Exception:
        return text


def _result(job_spec: dict[str, Any], outcome: str, message: str, **extra: Any) -> dict[str, Any]:
    target = {k: v for k, v in job_spec.get("Target", {}).items() if k != "Parameters"}
    ticket = job_spec.get("CustomActionName") == solution.TICKETING_ACTION_NAME and outcome == outcomes.SUCCESS
    return {
        "MapIndex": job_spec.get("MapIndex"),
        "Finding": job_spec.get("Finding"),
        "EventType": job_spec.get("EventType"),
        "CustomActionName": job_spec.get("CustomActionName"),
        "Target": target,
        "Outcome": outcome,
        "Message": message,
        "TicketRequested": ticket,
        # a retry's attempt, for the history record of the ticket path's notification (notify.py)
        **({"Attempt": _attempt(job_spec), "Initiator": history.RETRY} if _attempt(job_spec) > 1 else {}),
        **extra,
    }


def completed_result(job_spec: dict[str, Any], execution: dict[str, Any], polls: int) -> dict[str, Any]:
    target = job_spec["Target"]
    status = execution["AutomationExecutionStatus"]
    outcome = outcomes.AUTOMATION_STATUS[status]
    outputs = execution.get("Outputs") or {}
    output = _output(outputs, "Remediation.Output", "VerifyRemediation.Output")
    detail = ""
    try:
        parsed = json.loads(output) if output else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        reported = str(parsed.get("status", parsed.get("Status", ""))).lower()
        detail = str(parsed.get("message", parsed.get("Message", "")))
        if outcome == outcomes.SUCCESS and reported == "failed":
            outcome = outcomes.FAILED  # the reference reported this as SUCCESS
    failure = execution.get("FailureMessage") or ""
    detail = detail or (failure if outcome != outcomes.SUCCESS else "") or "See Automation Execution output for details"
    short = target.get("StandardShortName") or "custom"
    control = target.get("ControlId") or ""
    verbs = {outcomes.SUCCESS: "succeeded", outcomes.FAILED: "failed", outcomes.TIMEDOUT: "timed out"}
    verb = verbs.get(outcome, outcome.lower())
    message = f"Remediation {verb} for {short} control {control} in account {target['Account']}: {detail}"
    message = limits.truncate_bytes(message, REMEDIATION_TEXT_BYTES)
    affected = _affected(_output(outputs, "ParseInput.AffectedObject"), job_spec)
    result = _result(
        job_spec,
        outcome,
        message,
        Remediation={
            "ExecId": execution.get("AutomationExecutionId", ""),
            "Status": status,
            "Output": limits.truncate_bytes(output, REMEDIATION_TEXT_BYTES)
            or "See Automation Execution output for details",
            "AffectedObject": limits.truncate_bytes(affected, REMEDIATION_TEXT_BYTES),
            "FailureMessage": limits.truncate_bytes(failure, REMEDIATION_TEXT_BYTES),
            "Polls": polls,
        },
    )
    if result["TicketRequested"]:
        finding = job_spec.get("Finding") or {}
        result["TicketRequest"] = {
            "RemediationInfo": {
                "Message": message,
                "FindingDescription": finding.get("Description", ""),
                "FindingSeverity": (finding.get("Severity") or {}).get("Label", ""),
                "SecurityControlId": (finding.get("Compliance") or {}).get("SecurityControlId", control),
                "FindingAccountId": finding.get("AwsAccountId", ""),
                "AffectedResource": affected,
            }
        }
    return result


def _parsed(job_spec: dict[str, Any]) -> Finding | None:
    """The job's finding; None (the notification then shows the raw fields) when it does not parse."""
    try:
        return Finding.parse(job_spec.get("Finding"))
    except Exception:
        return None


def final_notification(job_spec: dict[str, Any], result: dict[str, Any], ticket_url: str | None = None) -> Notification:
    remediation = result.get("Remediation")
    remediation = remediation if isinstance(remediation, dict) else {}
    target = job_spec.get("Target")
    return Notification(
        result.get("Outcome") or outcomes.LAMBDA_ERROR,
        result.get("Message") or "",
        _parsed(job_spec),
        raw_finding=job_spec.get("Finding"),
        exec_id=remediation.get("ExecId", ""),
        affected_object=remediation.get("AffectedObject", ""),
        remediation_output=remediation.get("Output", ""),
        details=[remediation.get("FailureMessage", "")],
        ticket_url=ticket_url,
        standard_short_name=target.get("StandardShortName", "") if isinstance(target, dict) else "",
    )


def _typed(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": _num(value)}
    return {"S": str(value)}


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, typed in item.items():
        ((kind, value),) = typed.items()
        out[key] = float(value) if kind == "N" else value
    return out


def _is_transient(err: Exception) -> bool:
    if isinstance(err, ClientError):
        return aws.error_code(err) in TRANSIENT
    return isinstance(err, BotoCoreError)


def lambda_handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    """SQS batch (size 1). Transient AWS errors raise (SQS redelivers, DLQ after 10);
    any other failure answers the task token with an error, so nothing waits forever."""
    worker = Worker()
    phases = []
    for record in event.get("Records", []):
        clear()
        aws.session_scope()  # one member session per message: the status poll and the policy's tag lookup
        body: dict[str, Any] = {}
        try:
            body = json.loads(record["body"])
            phases.append(worker.process(body))
        except Exception as err:
            if _is_transient(err) or not body.get("TaskToken"):
                raise
            logger.exception("remediation job failed")
            worker._answer(
                body["TaskToken"], {"Failure": {"Error": "ASR.WorkerError", "Cause": f"{type(err).__name__}: {err}"}}
            )
            phases.append("ERROR")
    return {"phases": phases}
