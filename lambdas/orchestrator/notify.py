"""Notifications the state machine itself decides: orchestrator failures (any Catch)
and the final notification of a Remediate&Ticket remediation (with the ticket URL).

Input: the item state, plus ``Error`` ({Error, Cause}) from a Catch, or ``TicketAnswer``
(``{Payload: <the ticket generator's answer>}``) / ``TicketError`` after Generate Ticket.
"""

from __future__ import annotations

import json
from typing import Any

from asr import limits
from lambdas.orchestrator import outcomes
from lambdas.orchestrator.finding import Finding
from lambdas.orchestrator.log import clear, get_logger
from lambdas.orchestrator.notifications import Notification, send, send_minimal
from lambdas.orchestrator.worker import final_notification

logger = get_logger(__name__)


def _cause(error: dict[str, Any]) -> str:
    cause = error.get("Cause") or ""
    try:
        data = json.loads(cause)
    except (TypeError, ValueError):
        return limits.sfn_cause(cause)
    if isinstance(data, dict) and "errorMessage" in data:
        return limits.sfn_cause(f"{data.get('errorType', 'Error')}: {data['errorMessage']}")
    return limits.sfn_cause(cause)


def _finding(raw: Any) -> Finding | None:
    try:
        return Finding.parse(raw)
    except Exception:  # FindingError, or anything a hostile finding provokes: notify without it
        return None


def ticket_url(state: dict[str, Any]) -> str:
    answer = state.get("TicketAnswer")
    ticket = answer.get("Payload") if isinstance(answer, dict) else None
    if isinstance(ticket, dict) and ticket.get("TicketURL") and ticket.get("Ok", True):
        return limits.clean(ticket["TicketURL"])
    if isinstance(ticket, dict):
        reason = ticket.get("ResponseReason") or ticket.get("ResponseCode") or "no TicketURL in the answer"
    else:
        error = state.get("TicketError")
        reason = _cause(error if isinstance(error, dict) else {}) or "no answer"
    return f"Error generating ticket: {limits.clean(reason)} - check ticket_generator lambda logs for details"


def _failure(state: dict[str, Any]) -> Notification:
    error = state.get("Error")
    if not isinstance(error, dict):
        error = {"Error": "ASR.BadInput", "Cause": f"Error is not an object: {limits.shown(error)}"}
    name = limits.sfn_error(error.get("Error") or "unknown error")
    message = f"Orchestrator failed: {name}: {_cause(error)}"
    finding = _finding(state.get("Finding"))
    target = state.get("Target")
    short = target.get("StandardShortName", "") if isinstance(target, dict) else ""
    return Notification(
        outcomes.LAMBDA_ERROR,
        message,
        finding,
        raw_finding=state.get("Finding"),
        affected_object=finding.affected_object if finding else "",
        details=[f"Cause: {limits.sfn_cause(error.get('Cause', ''))}"],
        standard_short_name=short if isinstance(short, str) else "",
    )


def handle(state: dict[str, Any]) -> dict[str, Any]:
    """Notify the failure (Error) or the ticket's outcome (TicketRequested).

    Any other input, and any failure while building or sending the notification, still
    ends in one: a LAMBDA_ERROR naming what was wrong, at worst the minimal notification.
    Only SNS refusing even that raises."""
    outcome = outcomes.LAMBDA_ERROR
    message = "notify failed before it could say why"
    try:
        if "Error" in state:
            note = _failure(state)
            outcome, message = note.outcome, note.message
            body = send(note)
            return {"Outcome": outcomes.LAMBDA_ERROR, "Message": body["message"]}
        if state.get("TicketRequested"):
            url = ticket_url(state)
            note = final_notification(state, state, ticket_url=url)
            outcome, message = note.outcome, note.message
            body = send(note)
            return {"Outcome": body["remediation_status"], "Message": body["message"], "Ticket_URL": url}
        message = (
            "notify needs Error (from a Catch) or TicketRequested (after Generate Ticket); "
            f"got the keys {limits.shown(sorted(map(str, state)), 1024)}"
        )
        body = send(Notification(outcomes.LAMBDA_ERROR, message, _finding(state.get("Finding"))))
        return {"Outcome": outcomes.LAMBDA_ERROR, "Message": body["message"]}
    except Exception as err:
        logger.exception("notification failed; sending the minimal one")
        body = send_minimal(outcome, message, None, f"{type(err).__name__}: {limits.truncate_chars(err, 1024)}")
        return {"Outcome": body["remediation_status"], "Message": body["message"]}


def lambda_handler(event: Any, _context: Any) -> dict[str, Any]:
    clear()
    if not isinstance(event, dict):
        event = {"Error": {"Error": "ASR.BadInput", "Cause": f"notify got {type(event).__name__}"}}
    return handle(event)
