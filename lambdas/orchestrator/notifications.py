"""The one notifier: SNS ``SO0111-ASR_Topic``, log group ``SO0111-ASR``, the finding's
Note and Workflow, and CloudWatch metrics ``ASR/RemediationOutcome``.

The SNS message schema is documented field by field in docs/notifications.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from asr import solution
from lambdas.orchestrator import aws, outcomes
from lambdas.orchestrator.finding import Finding, summary
from lambdas.orchestrator.log import get_logger

logger = get_logger(__name__)

NOTE_AUTHOR = "ASR Orchestrator"
MAX_NOTE = 512
_CONSOLE = {"aws": "aws.amazon.com", "aws-cn": "amazonaws.cn", "aws-us-gov": "amazonaws-us-gov.com"}


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


def sns_message(note: Notification, account_alias: str) -> dict[str, Any]:
    """Reference keys (``Remediation_Status`` ...) and the guide's lower-case keys."""
    finding = summary(note.finding, note.raw_finding)
    message = note.full_message()
    body: dict[str, Any] = {
        "Remediation_Status": note.outcome,
        "Severity": note.severity,
        "Account_Alias": account_alias,
        "Remediation_Output": note.remediation_output,
        "Message": message,
        "Finding_Link": finding_link(note.finding),
        "Finding": finding,
        "remediation_status": note.outcome,
        "severity": note.severity,
        "message": message,
        "finding": finding,
    }
    if note.ticket_url is not None:
        body["Ticket_URL"] = note.ticket_url
    return body


def sns_attributes(body: dict[str, Any]) -> dict[str, dict[str, str]]:
    finding = body["finding"]
    values = {
        "severity": body["severity"],
        "remediation_status": body["remediation_status"],
        "account": finding["account"],
        "standard_control": finding["standard_control"],
    }
    return {k: {"DataType": "String", "StringValue": v} for k, v in values.items() if v}


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
    return "-".join([*parts, day]).upper()


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
    lines = [f"{note.severity}: {note.full_message()}", *note.details]
    stamp = int(now.timestamp() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": stamp, "message": line} for line in lines if line],
    )


def update_finding(note: Notification) -> None:
    """Note (+ Workflow NOTIFIED) on the finding, for outcomes that need a human."""
    if note.finding is None or note.outcome not in outcomes.UPDATE_WORKFLOW | outcomes.NOTE_ONLY:
        return
    update: dict[str, Any] = {
        "FindingIdentifiers": [{"Id": note.finding.id, "ProductArn": note.finding.product_arn}],
        "Note": {"Text": f"{note.outcome}: {note.full_message()}"[:MAX_NOTE], "UpdatedBy": NOTE_AUTHOR},
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
    if not metrics_enabled():
        return
    data = [
        {
            "MetricName": "RemediationOutcome",
            "Dimensions": [{"Name": "Outcome", "Value": note.outcome}],
            "Unit": "Count",
            "Value": 1,
        }
    ]
    control = note.finding.security_control_id or note.finding.control_id if note.finding else ""
    if os.environ.get("ENHANCED_METRICS", "no").lower() == "yes" and control:
        data.append(
            {
                "MetricName": "RemediationOutcome",
                "Dimensions": [{"Name": "Outcome", "Value": note.outcome}, {"Name": "ControlId", "Value": control}],
                "Unit": "Count",
                "Value": 1,
            }
        )
    aws.client("cloudwatch").put_metric_data(Namespace=solution.METRICS_NAMESPACE, MetricData=data)


def assume_role_failure_metric() -> None:
    if metrics_enabled():
        aws.client("cloudwatch").put_metric_data(
            Namespace=solution.METRICS_NAMESPACE,
            MetricData=[{"MetricName": "AssumeRoleFailure", "Unit": "Count", "Value": 1}],
        )


def send(note: Notification, now: datetime | None = None) -> dict[str, Any]:
    """Publish, log, update the finding, count. SNS failures raise; the others are logged."""
    now = now or datetime.now(UTC)
    body = sns_message(note, account_alias(note.finding.account if note.finding else ""))
    topic = os.environ.get("SNS_TOPIC_ARN") or aws.get_parameter(solution.SSM_SNS_TOPIC_ARN)
    if not topic:
        raise RuntimeError(f"no SNS topic: set SNS_TOPIC_ARN or parameter {solution.SSM_SNS_TOPIC_ARN}")
    aws.client("sns").publish(
        TopicArn=topic, Message=json.dumps(body, indent=2), MessageAttributes=sns_attributes(body)
    )
    for step in (write_log, update_finding, put_metrics):
        try:
            step(note, now) if step is write_log else step(note)
        except ClientError as err:
            logger.warning(f"{step.__name__} failed", extra={"data": {"error": str(err)}})
    logger.info("notified", extra={"data": {"outcome": note.outcome, "notification": body["message"]}})
    return body
