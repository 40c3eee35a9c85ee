"""The one notifier: SNS ``SO0111-ASR_Topic``, log group ``SO0111-ASR``, the finding's
Note and Workflow, and CloudWatch metrics ``ASR/RemediationOutcome``.

The SNS message schema is documented field by field in docs/notifications.md.

Every field sent is bounded by ``asr.limits``: each free-text field of the SNS message
has a budget (in bytes of its JSON encoding), so the message and its attributes stay
within SNS's 256 KiB whatever the finding holds; a lone surrogate becomes U+FFFD. When
the full message cannot be built or is refused, a minimal one (same keys, short
bounded values) is sent instead: it cannot exceed a limit or fail to encode.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from asr import limits, solution
from lambdas.orchestrator import aws, history, outcomes
from lambdas.orchestrator.finding import Finding, summary
from lambdas.orchestrator.log import get_logger

logger = get_logger(__name__)

NOTE_AUTHOR = "ASR Orchestrator"
MAX_NOTE = limits.NOTE_TEXT_CHARS
#: What precedes the ticket URL (or the ticket error) in the Note and in the log.
TICKET_LABEL = " Ticket: "
#: Characters of a Note kept for ``<OUTCOME>: `` and a truncation marker before the ticket: the
#: longest outcome (20) + 2, and ``…[truncated N characters]`` for any N a message can have.
NOTE_HEAD_MIN = 64
_CONSOLE = {"aws": "aws.amazon.com", "aws-cn": "amazonaws.cn", "aws-us-gov": "amazonaws-us-gov.com"}

#: Budget of each field of the SNS message, in bytes of its JSON encoding. Message, status
#: and the finding object appear twice (reference keys and the guide's keys): 2 x (32 + 0.25 +
#: 16.5) KiB + 32 + 4 + 4 + 1 KiB is under 140 KiB, far within SNS_MESSAGE_BYTES with the
#: keys, the indentation and the attributes (``publish`` checks the total all the same).
_BUDGET = {
    "message": 32 * 1024,
    "remediation_output": 32 * 1024,
    "finding_link": 4 * 1024,
    "ticket_url": 4 * 1024,
    "account_alias": 1024,
    "outcome": 256,
    "finding_id": 2 * 1024,
    "finding_arn": 2 * 1024,
    "title": 2 * 1024,
    "finding_description": 8 * 1024,
    "default": 512,  # the other finding fields: standard name, version, control, region, account
}
#: Budget of the message text in the minimal notification.
_MINIMAL_MESSAGE = 4096
_MINIMAL_FIELD = 256
_MINIMAL_TICKET = 1024


@dataclass
class Notification:
    outcome: str
    message: str
    finding: Finding | None = None
    raw_finding: Any = None
    exec_id: str = ""
    affected_object: str = ""
    remediation_output: str = ""
    details: list[str] = field(default_factory=list)
    ticket_url: str | None = None
    standard_short_name: str = ""

    @property
    def severity(self) -> str:
        return outcomes.severity(self.outcome)

    def full_message(self) -> str:
        text = f"{self.exec_id}: {self.message}" if self.exec_id else self.message
        return f"{text} ({self.affected_object})" if self.affected_object else text


def finding_link(finding: Finding | None) -> str:
    if finding is None:
        return ""
    region = finding.region
    host = f"https://{region}.console.{_CONSOLE.get(finding.partition, 'aws.amazon.com')}/securityhub/home"
    control = finding.security_control_id or finding.control_id
    if finding.security_hub and control:
        return f"{host}?region={region}#/controls/{control}"
    return f"{host}?region={region}#/findings?search=Id%3D%255Coperator%255C%253AEQUALS%255C%253A{finding.id}"


def _text(value: Any, budget: int) -> str:
    """A str field of the SNS message within ``budget`` bytes of JSON."""
    if value is None:
        return ""
    return limits.truncate_json_string(value, budget)


def _bounded_finding(finding: dict[str, Any]) -> dict[str, str]:
    return {k: _text(v, _BUDGET.get(k, _BUDGET["default"])) for k, v in finding.items()}


def named_outcome(outcome: Any, message: str) -> tuple[str, str]:
    """Every notification carries a named outcome: one the code does not know is a LAMBDA_ERROR
    whose message says which value came."""
    if isinstance(outcome, str) and outcome in outcomes.ALL:
        return outcome, message
    return outcomes.LAMBDA_ERROR, f"unknown outcome {limits.shown(outcome)}: {message}"


def sns_message(note: Notification, account_alias: str) -> dict[str, Any]:
    """Reference keys (``Remediation_Status`` ...) and the guide's lower-case keys, each bounded."""
    finding = _bounded_finding(summary(note.finding, note.raw_finding))
    outcome, text = named_outcome(note.outcome, note.full_message())
    message = _text(text, _BUDGET["message"])
    body: dict[str, Any] = {
        "Remediation_Status": outcome,
        "Severity": outcomes.severity(outcome),
        "Account_Alias": _text(account_alias, _BUDGET["account_alias"]),
        "Remediation_Output": _text(note.remediation_output, _BUDGET["remediation_output"]),
        "Message": message,
        "Finding_Link": _text(finding_link(note.finding), _BUDGET["finding_link"]),
        "Finding": finding,
        "remediation_status": outcome,
        "severity": outcomes.severity(outcome),
        "message": message,
        "finding": finding,
    }
    if note.ticket_url is not None:
        body["Ticket_URL"] = _text(note.ticket_url, _BUDGET["ticket_url"])
    return body


def minimal_message(
    outcome: Any, message: Any, finding: Any = None, reason: str = "", ticket_url: Any = None
) -> dict[str, Any]:
    """The notification when the full one cannot be built or sent: the same keys, short bounded
    values (at most a few KiB in all), built from nothing that can fail to encode; the ticket URL
    (or ticket error) too when a ticket was requested."""
    status, text = named_outcome(outcome, limits.clean(message))
    if reason:
        text = f"{text} (minimal notification: {limits.clean(reason)})"
    text = _text(text, _MINIMAL_MESSAGE)
    fields = dict.fromkeys(
        (
            "finding_id",
            "finding_description",
            "standard_name",
            "standard_version",
            "standard_control",
            "title",
            "region",
            "account",
            "finding_arn",
        ),
        "",
    )
    if isinstance(finding, Finding):
        with contextlib.suppress(Exception):
            fields.update(
                finding_id=finding.uuid,
                standard_name=finding.standard_name,
                standard_version=finding.standard_version,
                standard_control=finding.control_id,
                region=finding.resource_region,
                account=finding.account,
                finding_arn=finding.id,
            )
    fields = {k: _text(v, _MINIMAL_FIELD) for k, v in fields.items()}
    severity = outcomes.severity(status)
    body = {
        "Remediation_Status": status,
        "Severity": severity,
        "Account_Alias": "Unknown",
        "Remediation_Output": "",
        "Message": text,
        "Finding_Link": "",
        "Finding": fields,
        "remediation_status": status,
        "severity": severity,
        "message": text,
        "finding": fields,
    }
    if ticket_url is not None:
        body["Ticket_URL"] = _text(limits.clean(ticket_url), _MINIMAL_TICKET)
    return body


def sns_attributes(body: dict[str, Any]) -> dict[str, dict[str, str]]:
    """String attributes for attribute-scope filters: printable ASCII, bounded, never empty."""
    finding = body.get("finding") or {}
    values = {
        "severity": body.get("severity"),
        "remediation_status": body.get("remediation_status"),
        "account": finding.get("account"),
        "standard_control": finding.get("standard_control"),
    }
    bounded = {k: limits.sns_attribute_value(v) for k, v in values.items() if v}
    return {k: {"DataType": "String", "StringValue": v} for k, v in bounded.items() if v.strip()}


def encode(body: dict[str, Any]) -> tuple[str, dict[str, dict[str, str]]]:
    """The Publish Message (indented JSON, ASCII escapes) and MessageAttributes of ``body``."""
    return json.dumps(body, indent=2), sns_attributes(body)


def account_alias(account: str) -> str:
    """Name of the account in AWS Organizations, "Unknown" when it cannot be read."""
    if not account:
        return "Unknown"
    try:
        return aws.client("organizations").describe_account(AccountId=account)["Account"]["Name"]
    except Exception:
        return "Unknown"


def log_stream(note: Notification, now: datetime) -> str:
    day = now.strftime("%Y-%m-%d")
    standard = note.standard_short_name or (note.finding.standard_name if note.finding else "")
    control = note.finding.control_id if note.finding else ""
    parts = [p for p in (standard, control) if p] or ["ASR"]
    return limits.log_stream_name("-".join([*parts, day]).upper())


def write_log(note: Notification, now: datetime) -> None:
    logs = aws.client("logs")
    group = os.environ.get("SOLUTION_LOGGROUP", solution.SOLUTION_LOG_GROUP)
    stream = log_stream(note, now)
    for create in (
        lambda: logs.create_log_group(logGroupName=group),
        lambda: logs.create_log_stream(logGroupName=group, logStreamName=stream),
    ):
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            create()
    ticket = [f"{TICKET_LABEL.strip()} {note.ticket_url}"] if note.ticket_url is not None else []
    lines = [f"{note.severity}: {note.full_message()}", *ticket, *note.details]
    stamp = int(now.timestamp() * 1000)
    events = [{"timestamp": stamp, "message": limits.clean(line)} for line in lines if line]
    for batch in limits.log_batches(events):
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)


def note_text(note: Notification) -> str:
    """The finding Note's Text: ``<OUTCOME>: <message>``, and `` Ticket: <ticket>`` when a ticket
    was requested, within MAX_NOTE characters as AWS counts them (UTF-16 code units).

    The ticket is what the reader needs: when the whole does not fit, the message is cut (visibly)
    and the ticket kept whole; only a ticket longer than MAX_NOTE - NOTE_HEAD_MIN is cut itself
    (visibly, at its end), so the outcome always leads the Note.
    https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_NoteUpdate.html
    """
    head = f"{note.outcome}: {note.full_message()}"
    if note.ticket_url is None:
        return limits.note_text(head)
    tail = limits.truncate_chars(f"{TICKET_LABEL}{note.ticket_url}", MAX_NOTE - NOTE_HEAD_MIN)
    head = limits.truncate_chars(head, MAX_NOTE - limits.utf16_len(tail))
    return limits.note_text(head + tail)


def update_finding(note: Notification) -> None:
    """Note (+ Workflow NOTIFIED) on the finding, for outcomes that need a human; a Note (the
    workflow left as the control runbook set it) for a remediation that requested a ticket."""
    if note.finding is None:
        return
    if note.outcome not in outcomes.UPDATE_WORKFLOW | outcomes.NOTE_ONLY and note.ticket_url is None:
        return
    update: dict[str, Any] = {
        "FindingIdentifiers": [{"Id": note.finding.id, "ProductArn": note.finding.product_arn}],
        "Note": {"Text": note_text(note), "UpdatedBy": limits.note_updated_by(NOTE_AUTHOR)},
    }
    if note.outcome in outcomes.UPDATE_WORKFLOW:
        update["Workflow"] = {"Status": "NOTIFIED"}
    response = aws.client("securityhub").batch_update_findings(**update)
    for failed in response.get("UnprocessedFindings", []):
        logger.warning("finding not updated", extra={"data": {"unprocessed": failed}})


_metrics_enabled: tuple[float, bool] | None = None


def metrics_enabled() -> bool:
    """``/Solutions/SO0111/sendCloudwatchMetrics`` == yes (cached for 5 minutes)."""
    global _metrics_enabled
    now = time.monotonic()
    if _metrics_enabled is None or now - _metrics_enabled[0] > 300:
        value = aws.get_parameter(solution.SSM_SEND_CLOUDWATCH_METRICS) or ""
        _metrics_enabled = (now, value.strip().lower() == "yes")
    return _metrics_enabled[1]


def put_metrics(note: Notification) -> None:
    """``RemediationOutcome`` {Outcome}, and {Outcome, ControlId} with enhanced metrics: names,
    dimensions and namespace from ``asr.solution``, where the dashboard and alarms take them."""
    if not metrics_enabled():
        return
    outcome = {"Name": solution.DIMENSION_OUTCOME, "Value": limits.dimension_value(note.outcome)}
    data = [{"MetricName": solution.METRIC_REMEDIATION_OUTCOME, "Dimensions": [outcome], "Unit": "Count", "Value": 1}]
    control = note.finding.security_control_id or note.finding.control_id if note.finding else ""
    if os.environ.get("ENHANCED_METRICS", "no").lower() == "yes" and control:
        data.append(
            {
                "MetricName": solution.METRIC_REMEDIATION_OUTCOME,
                "Dimensions": [
                    outcome,
                    {"Name": solution.DIMENSION_CONTROL_ID, "Value": limits.dimension_value(control)},
                ],
                "Unit": "Count",
                "Value": 1,
            }
        )
    aws.client("cloudwatch").put_metric_data(Namespace=solution.METRICS_NAMESPACE, MetricData=data)


def assume_role_failure_metric() -> None:
    if metrics_enabled():
        aws.client("cloudwatch").put_metric_data(
            Namespace=solution.METRICS_NAMESPACE,
            MetricData=[{"MetricName": solution.METRIC_ASSUME_ROLE_FAILURE, "Unit": "Count", "Value": 1}],
        )


def topic_arn() -> str:
    topic = os.environ.get("SNS_TOPIC_ARN") or aws.get_parameter(solution.SSM_SNS_TOPIC_ARN)
    if not topic:
        raise RuntimeError(f"no SNS topic: set SNS_TOPIC_ARN or parameter {solution.SSM_SNS_TOPIC_ARN}")
    return topic


def publish(topic: str, body: dict[str, Any]) -> None:
    """Publish ``body``; raises ValueError (before any call) when it would exceed SNS's limit."""
    message, attributes = encode(body)
    size = limits.sns_size(message, attributes)
    if size > limits.SNS_MESSAGE_BYTES:
        raise ValueError(f"SNS message of {size} bytes exceeds {limits.SNS_MESSAGE_BYTES}")
    aws.client("sns").publish(TopicArn=topic, Message=message, MessageAttributes=attributes)


def send_minimal(
    outcome: Any, message: Any, finding: Any = None, reason: str = "", ticket_url: Any = None
) -> dict[str, Any]:
    """Publish the minimal notification; raises only when SNS itself refuses it."""
    body = minimal_message(outcome, message, finding, reason, ticket_url)
    publish(topic_arn(), body)
    logger.warning("minimal notification sent", extra={"data": {"outcome": body["remediation_status"]}})
    return body


def _safe_message(note: Notification) -> str:
    try:
        return note.full_message()
    except Exception:
        return limits.clean(getattr(note, "message", ""))


def _safe_ticket(note: Notification) -> str | None:
    try:
        return None if note.ticket_url is None else limits.clean(note.ticket_url)
    except Exception:
        return None


def send(note: Notification, now: datetime | None = None) -> dict[str, Any]:
    """Publish, log, update the finding, count.

    The full message is published when it can be built and SNS takes it; otherwise the
    minimal one. Only a failure to publish the minimal one (or no topic) raises; the log,
    Note and metric steps are logged when they fail."""
    now = now or datetime.now(UTC)
    topic = topic_arn()
    try:
        body = sns_message(note, account_alias(note.finding.account if note.finding else ""))
        publish(topic, body)
    except Exception as err:
        logger.exception("full notification not sent; sending the minimal one")
        reason = f"the full notification was not sent: {type(err).__name__}: {limits.truncate_chars(err, 1024)}"
        body = send_minimal(note.outcome, _safe_message(note), note.finding, reason, _safe_ticket(note))
    for step in (write_log, update_finding, put_metrics):
        try:
            step(note, now) if step is write_log else step(note)
        except Exception as err:
            logger.warning(f"{step.__name__} failed", extra={"data": {"error": f"{type(err).__name__}: {err}"}})
    if body["remediation_status"] != outcomes.QUEUED:  # a final outcome: the attempt's history record
        history.record(note, body["remediation_status"], body["message"], now, metrics_enabled)
    logger.info("notified", extra={"data": {"outcome": body["remediation_status"], "notification": body["message"]}})
    return body
