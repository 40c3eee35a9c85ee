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
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from asr import limits, solution
from lambdas.orchestrator import aws, history, outcomes, payload
from lambdas.orchestrator.finding import Finding
from lambdas.orchestrator.log import bind, clear, get_logger
from lambdas.orchestrator.notifications import Notification, send

logger = get_logger(__name__)

KEY = "AccountID-Region"
NEW, SCHEDULED, STARTING, RUNNING, DONE = "NEW", "SCHEDULED", "STARTING", "RUNNING", "DONE"
MAX_DELAY = 900  # SQS DelaySeconds limit
JOB_TTL = 7 * 24 * 3600
TAG_PREFIX = "ASR-Job-"
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
                self.ddb.transact_write_items(TransactItems=[{"Put": slot_put}, {"Update": job_update}])
                return planned
            except ClientError as err:
                if aws.error_code(err) != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in err.response.get("CancellationReasons", [])]
                if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                    raise Conflict(job_key) from None  # another delivery scheduled this job
                # the slot moved under us: read it again
        raise RuntimeError(f"could not reserve a slot for {slot_key} after 20 attempts")

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
        try:
            self.ddb.transact_write_items(TransactItems=items)
            return 0.0
        except ClientError as err:
            if aws.error_code(err) != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in err.response.get("CancellationReasons", [])]
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise Conflict(job_key) from None
            if reasons and reasons[0] == "ConditionalCheckFailed":
                last = float((self._get(start_key) or {}).get("LastStartedTimestamp", now))
                return max(0.001, last + self.spacing - now)
            raise

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
            try:
                if phase == NEW:
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
            exec_id = self._existing_execution(ssm, job_id) or self._start_automation(ssm, job_spec, job_id)
        except NotStarted as err:
            result = _result(job_spec, outcomes.LAMBDA_ERROR, str(err))
            result["Failure"] = {"Error": "ASR.RemediationNotStarted", "Cause": str(err)}
            self._update(
                job_key,
                {"Phase": DONE, "Result": json.dumps(result), "Notified": True, "TaskSent": False},
                "#Phase = :s",
                {":s": STARTING},
            )
            return self._finish(body, job_key, self._job(job_id))
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

    def _existing_execution(self, ssm: Any, job_id: str) -> str | None:
        found = ssm.describe_automation_executions(Filters=[{"Key": "TagKey", "Values": [TAG_PREFIX + job_id]}])
        executions = found.get("AutomationExecutionMetadataList", [])
        return executions[0]["AutomationExecutionId"] if executions else None

    def _start_automation(self, ssm: Any, job_spec: dict[str, Any], job_id: str) -> str:
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
                Tags=[{"Key": TAG_PREFIX + job_id, "Value": "1"}],
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
