"""Every outcome a finding can have, as the reference names them, with its severity."""

from __future__ import annotations

READY = "READY"  # internal: resolved, go on to scheduling (never notified)

NOT_NEW = "NOT_NEW"
NO_RUNBOOK = "NO_RUNBOOK"
PLAYBOOK_NOT_ENABLED = "PLAYBOOK_NOT_ENABLED"
RUNBOOK_NOT_ACTIVE = "RUNBOOK_NOT_ACTIVE"
ASSUME_ROLE_FAILURE = "ASSUME_ROLE_FAILURE"
# The member account does not grant what a customer's runbook or role needs; the message says what to grant.
PERMISSION_MISSING = "PERMISSION_MISSING"
LAMBDA_ERROR = "LAMBDA_ERROR"
QUEUED = "QUEUED"
SUCCESS = "SUCCESS"
FAILED = "FAILED"
TIMEDOUT = "TIMEDOUT"
CANCELLED = "CANCELLED"
# The remediation policy stopped the finding before any automation (docs/policy.md); the names are
# asr.policy.evaluate's (a test keeps them equal).
DISABLED = "DISABLED"
EXEMPT = "EXEMPT"
OUT_OF_SCOPE = "OUT_OF_SCOPE"
DRY_RUN = "DRY_RUN"
MANUAL_ONLY = "MANUAL_ONLY"
POLICY = (DISABLED, EXEMPT, OUT_OF_SCOPE, DRY_RUN, MANUAL_ONLY)
# A finding still open after the policy's deadline (lambdas/orchestrator/deadline.py): an escalation
# of a finding ASR already acted on, not a remediation's outcome (no Note, no workflow change).
DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"

ALL = (
    NOT_NEW,
    NO_RUNBOOK,
    PLAYBOOK_NOT_ENABLED,
    RUNBOOK_NOT_ACTIVE,
    ASSUME_ROLE_FAILURE,
    PERMISSION_MISSING,
    LAMBDA_ERROR,
    QUEUED,
    SUCCESS,
    FAILED,
    TIMEDOUT,
    CANCELLED,
    *POLICY,
    DEADLINE_EXCEEDED,
)

INFO = "INFO"
ERROR = "ERROR"


def severity(outcome: str) -> str:
    """INFO for QUEUED and SUCCESS (as the reference) and for the policy's outcomes (the policy did
    what it says: nothing failed); ERROR for every other outcome."""
    return INFO if outcome in (QUEUED, SUCCESS, *POLICY) else ERROR


#: Outcomes after which the orchestrator writes a Note and sets Workflow NOTIFIED.
#: SUCCESS is recorded by the control runbook (RESOLVED); QUEUED is not final;
#: NOT_NEW gets a Note only (the finding's workflow belongs to whoever moved it).
#: The policy's outcomes set NOTIFIED too: a Note alone on a NEW finding is an update Security Hub
#: sends again as "Findings - Imported" with Workflow NEW, which the AutoTrigger rule matches: the
#: finding would loop through the orchestrator. The custom action still acts on a NOTIFIED finding.
UPDATE_WORKFLOW = frozenset(
    {
        *POLICY,
        NO_RUNBOOK,
        PLAYBOOK_NOT_ENABLED,
        RUNBOOK_NOT_ACTIVE,
        ASSUME_ROLE_FAILURE,
        LAMBDA_ERROR,
        FAILED,
        TIMEDOUT,
        CANCELLED,
    }
)
NOTE_ONLY = frozenset({NOT_NEW})

#: SSM Automation execution status -> outcome (terminal statuses only).
AUTOMATION_STATUS = {
    "Success": SUCCESS,
    "CompletedWithSuccess": SUCCESS,
    "Failed": FAILED,
    "CompletedWithFailure": FAILED,
    "Rejected": FAILED,
    "TimedOut": TIMEDOUT,
    "Cancelled": CANCELLED,
    "Cancelling": CANCELLED,
}
