"""Notifications the state machine itself decides: orchestrator failures (any Catch)
and the final notification of a Remediate&Ticket remediation (with the ticket URL).

Input: the item state, plus ``Error`` ({Error, Cause}) from a Catch, or ``TicketAnswer``
(``{Payload: <the ticket generator's answer>}``) / ``TicketError`` after Generate Ticket.
"""

from __future__ import annotations

import json
from typing import Any

from lambdas.orchestrator import outcomes
from lambdas.orchestrator.finding import Finding, FindingError
from lambdas.orchestrator.log import clear, get_logger
from lambdas.orchestrator.notifications import Notification, send
from lambdas.orchestrator.worker import final_notification

logger = get_logger(__name__)


def _cause(error: dict[str, Any]) -> str:
    cause = error.get("Cause") or ""
    try:
        data = json.loads(cause)
    except (TypeError, ValueError):
        return str(cause)
    if isinstance(data, dict) and "errorMessage" in data:
        return f"{data.get('errorType', 'Error')}: {data['errorMessage']}"
    return str(cause)


def _finding(raw: Any) -> Finding | None:
    try:
        return Finding.parse(raw)
    except FindingError:
        return None


def ticket_url(state: dict[str, Any]) -> str:
    ticket = (state.get("TicketAnswer") or {}).get("Payload")
    if isinstance(ticket, dict) and ticket.get("TicketURL") and ticket.get("Ok", True):
        return str(ticket["TicketURL"])
    if isinstance(ticket, dict):
        reason = ticket.get("ResponseReason") or ticket.get("ResponseCode") or "no TicketURL in the answer"
    else:
        reason = _cause(state.get("TicketError") or {}) or "no answer"
    return f"Error generating ticket: {reason} - check ticket_generator lambda logs for details"


def handle(state: dict[str, Any]) -> dict[str, Any]:
    if "Error" in state:
        error = state.get("Error") or {}
        message = f"Orchestrator failed: {error.get('Error', 'unknown error')}: {_cause(error)}"
        finding = _finding(state.get("Finding"))
        note = Notification(
            outcomes.LAMBDA_ERROR,
            message,
            finding,
            raw_finding=state.get("Finding"),
            affected_object=finding.affected_object if finding else "",
            details=[f"Cause: {error.get('Cause', '')}"],
            standard_short_name=(state.get("Target") or {}).get("StandardShortName", ""),
        )
        body = send(note)
        return {"Outcome": outcomes.LAMBDA_ERROR, "Message": body["message"]}
    if state.get("TicketRequested"):
        url = ticket_url(state)
        body = send(final_notification(state, state, ticket_url=url))
        return {"Outcome": state["Outcome"], "Message": body["message"], "Ticket_URL": url}
    raise ValueError("notify needs Error (from a Catch) or TicketRequested (after Generate Ticket)")


def lambda_handler(event: Any, _context: Any) -> dict[str, Any]:
    clear()
    if not isinstance(event, dict):
        event = {"Error": {"Error": "ASR.BadInput", "Cause": f"notify got {type(event).__name__}"}}
    return handle(event)
