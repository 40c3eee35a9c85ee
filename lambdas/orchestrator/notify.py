"""Notifications the state machine itself decides: orchestrator failures (any Catch)
and the final notification of a Remediate&Ticket remediation (with the ticket URL).

Input: the item state, plus ``Error`` ({Error, Cause}) from a Catch, or ``TicketAnswer``
(``{Payload: <the ticket generator's answer>}``) / ``TicketError`` after Generate Ticket.
"""

from __future__ import annotations

import json
from typing import Any

from asr import limits
from lambdas.orchestrator import history, outcomes
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
        kind = data.get("errorType") or error.get("Error") or "Error"
        return limits.sfn_cause(f"{kind}: {data['errorMessage']}")
    return limits.sfn_cause(cause)


def _finding(raw: Any) -> Finding | None:
    try:
        return Finding.parse(raw)
    except Exception:  # FindingError, or anything a hostile finding provokes: notify without it
        return None


#: Bound of the ticket URL in this task's answer (the SNS message's own budget for it).
TICKET_URL_BYTES = 4096
TICKET_ERROR = "Error generating ticket: {reason} - check ticket_generator lambda logs for details"


def ticket_url(state: dict[str, Any]) -> str:
    """The ticket URL from the generator's answer (docs/ticketing.md: ``{TicketURL, Ok,
    ResponseCode, ResponseReason}``), or ``Error generating ticket: <reason> ...`` naming why
    there is none: the generator's own reason, its error (TicketError, from the Catch), or what
    was wrong with its answer."""
    answer = state.get("TicketAnswer")
    if not isinstance(answer, dict):
        error = state.get("TicketError")
        reason = _cause(error) if isinstance(error, dict) else ""
        name = limits.sfn_error(error.get("Error") or "") if isinstance(error, dict) else ""
        if name and not reason.startswith(name):
            reason = f"{name}: {reason}" if reason else name
        return TICKET_ERROR.format(reason=limits.clean(reason or "no answer from the ticket generator"))
    ticket = answer.get("Payload")
    if not isinstance(ticket, dict):
        return TICKET_ERROR.format(
            reason=f"the ticket generator answered {limits.shown(ticket)}, not {{TicketURL, Ok, ...}}"
        )
    url, ok = ticket.get("TicketURL"), ticket.get("Ok", True)
    if ok is True and isinstance(url, str) and url.strip():
        return limits.clean(url.strip())
    if ok is True:
        reason = f"Ok is true but TicketURL is {limits.shown(url)}"
    elif ok is not False:
        reason = f"Ok is {limits.shown(ok)}, not true or false"
    else:
        reason = ticket.get("ResponseReason") or ""
        code = ticket.get("ResponseCode")
        if not reason:
            reason = f"ResponseCode {limits.shown(code)} and no ResponseReason"
    return TICKET_ERROR.format(reason=limits.clean(reason))


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
    ticket: str | None = None
    try:
        if "Error" in state:
            note = _failure(state)
            outcome, message = note.outcome, note.message
            body = send(note)
            return {"Outcome": outcomes.LAMBDA_ERROR, "Message": body["message"]}
        if state.get("TicketRequested"):
            url = ticket = ticket_url(state)
            note = final_notification(state, state, ticket_url=url)
            outcome, message = note.outcome, note.message
            body = send(note)
            return {
                "Outcome": body["remediation_status"],
                "Message": body["message"],
                "Ticket_URL": limits.truncate_bytes(url, TICKET_URL_BYTES),
            }
        message = (
            "notify needs Error (from a Catch) or TicketRequested (after Generate Ticket); "
            f"got the keys {limits.shown(sorted(map(str, state)), 1024)}"
        )
        body = send(Notification(outcomes.LAMBDA_ERROR, message, _finding(state.get("Finding"))))
        return {"Outcome": outcomes.LAMBDA_ERROR, "Message": body["message"]}
    except Exception as err:
        logger.exception("notification failed; sending the minimal one")
        reason = f"{type(err).__name__}: {limits.truncate_chars(err, 1024)}"
        body = send_minimal(outcome, message, None, reason, ticket)
        return {"Outcome": body["remediation_status"], "Message": body["message"]}


def lambda_handler(event: Any, _context: Any) -> dict[str, Any]:
    clear()
    if not isinstance(event, dict):
        event = {"Error": {"Error": "ASR.BadInput", "Cause": f"notify got {type(event).__name__}"}}
    return handle(history.unwrap(event))
