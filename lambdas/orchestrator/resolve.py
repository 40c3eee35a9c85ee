"""Resolve a finding to its remediation target, or to a final outcome (notified here).

Input (one Map item): ``{"Finding": {...}, "EventType": "...", "CustomActionName": "..."}``.
Output: the item plus ``Outcome`` (``READY`` or a final outcome), ``Message`` and, when
READY, ``Target`` = {Account, Region, Partition, Runbook, RoleArn, Parameters, ...}.
Never raises for a bad finding: every problem is an outcome with a message.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from asr import limits, solution
from lambdas.orchestrator import aws, deadline, enforce, history, outcomes, payload, workflow
from lambdas.orchestrator.finding import Finding, FindingError, clean_ssm
from lambdas.orchestrator.log import bind, clear, get_logger
from lambdas.orchestrator.notifications import Notification, assume_role_failure_metric, send, send_minimal

logger = get_logger(__name__)


class Outcome(Exception):
    def __init__(self, outcome: str, message: str, short_name: str = "") -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        self.short_name = short_name


def _is_new(event_type: Any, finding: Finding) -> bool:
    if event_type == solution.EVENT_CUSTOM_ACTION:
        return True
    return event_type == solution.EVENT_IMPORTED and finding.workflow_status == "NEW"


def not_new_reason(event_type: Any, finding: Finding) -> str:
    """The NOT_NEW message when the orchestrator leaves ``finding`` alone, "" when it acts on it.

    Pure (no AWS call): ``asr explain`` gives the same answer as this function.
    """
    if _is_new(event_type, finding):
        return ""
    if event_type not in (solution.EVENT_CUSTOM_ACTION, solution.EVENT_IMPORTED):
        return (
            f"Event type (detail-type) {event_type!r} is neither {solution.EVENT_CUSTOM_ACTION!r} "
            f"nor {solution.EVENT_IMPORTED!r}."
        )
    return f"Finding Workflow State is not NEW ({finding.workflow_status})."


def _document_state(session: Any, region: str, runbook: str, account: str) -> None:
    """Raise Outcome unless ``runbook`` exists, is an Automation document and is Active."""
    try:
        doc = session.client("ssm", region_name=region, config=aws.CONFIG).describe_document(Name=runbook)["Document"]
    except ClientError as err:
        code = aws.error_code(err)
        if code == "InvalidDocument":
            raise Outcome(outcomes.NO_RUNBOOK, _no_runbook(runbook, account, region)) from None
        if code in aws.ACCESS_DENIED and not runbook.startswith(solution.DOCUMENT_PREFIX):
            raise Outcome(
                outcomes.PERMISSION_MISSING,
                f"{solution.ORCHESTRATOR_MEMBER_ROLE} in account {account} may not describe your runbook {runbook} "
                f"({code}): deploy the member-roles stack there with CustomRunbookPrefix set to a prefix of "
                f"{runbook!r} (docs/iam.md, 'Your own runbooks').",
            ) from None
        if code in aws.ACCESS_DENIED:
            assume_role_failure_metric()
            raise Outcome(
                outcomes.ASSUME_ROLE_FAILURE,
                f"{solution.ORCHESTRATOR_MEMBER_ROLE} in account {account} may not describe {runbook}: {code}.",
            ) from None
        raise
    status, doc_type = doc.get("Status"), doc.get("DocumentType")
    if doc_type != "Automation" or status != "Active":
        raise Outcome(
            outcomes.RUNBOOK_NOT_ACTIVE,
            f"Runbook {runbook} in account {account} Region {region} is not an Active Automation document "
            f"(Status {status}, DocumentType {doc_type}).",
        )


def _no_runbook(runbook: str, account: str, region: str) -> str:
    return (
        f"ASR runbook {runbook} could not be found in account {account} in region {region}. Verify that the "
        "member stack and the playbook of this standard are deployed there, and that the control is available."
    )


#: IAM role names: "Length Constraints: Minimum length of 1. Maximum length of 64. Pattern: [\w+=,.@-]+"
#: (ASCII word characters: IAM names are "alphanumeric characters" plus those symbols).
#: https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html
#: https://docs.aws.amazon.com/IAM/latest/APIReference/API_PolicyRole.html
_ROLE_NAME = solution.validator(rf"[A-Za-z0-9_+=,.@-]{{1,{limits.IAM_ROLE_NAME_CHARS}}}")


def _check_role_name(name: str, origin: str) -> None:
    """Refuse (LAMBDA_ERROR, naming ``origin`` and the value) a role name IAM cannot have: a role
    ARN built from it would name no role, and IAM answers GetRole with a ValidationError."""
    if solution.is_full_match(_ROLE_NAME, name):
        return
    raise Outcome(
        outcomes.LAMBDA_ERROR,
        f"{origin}: role name {limits.shown(name, 200)} ({len(name)} characters) is not an IAM role name "
        f"(1-{limits.IAM_ROLE_NAME_CHARS} characters of A-Z a-z 0-9 _+=,.@-); the runbook cannot run as it.",
    )


def _role_arn(session: Any, finding: Finding, preferred: str, *, named_by: str = "") -> str:
    """The role the runbook runs as.

    ``preferred`` is used when it exists in the member account. A per-control role
    (``SO0111-Remediate-...``, optional by contract) that does not exist means the member
    role. A role the customer named (``named_by``: the parameter that names it) must
    exist. When the member role may not read ``preferred`` the finding is refused with
    what to grant -- never a silent fall back to another role. A name IAM cannot have
    (longer than 64 characters, e.g. built from a long control id) is refused, naming it.
    """
    member = aws.role_arn(finding.partition, finding.account, solution.ORCHESTRATOR_MEMBER_ROLE)
    if not preferred:
        return member
    _check_role_name(
        preferred,
        named_by
        or "per-control role SO0111-Remediate-<StandardShortName>-<StandardVersion>-<ControlId> "
        f"(ControlId {finding.control_id!r} of the finding, or its remap)",
    )
    try:
        session.client("iam", config=aws.CONFIG).get_role(RoleName=preferred)
        return aws.role_arn(finding.partition, finding.account, preferred)
    except ClientError as err:
        code = aws.error_code(err)
        if code in aws.ACCESS_DENIED:
            raise Outcome(
                outcomes.PERMISSION_MISSING,
                f"{solution.ORCHESTRATOR_MEMBER_ROLE} in account {finding.account} may not read role {preferred} "
                f"({code}): name it {solution.SOLUTION_ID}-*, or deploy the member-roles stack there with "
                f"CustomRunbookRolePrefix set to a prefix of {preferred!r} (docs/iam.md, 'Your own runbooks').",
            ) from None
        if code != "NoSuchEntity":
            raise
    if named_by:
        raise Outcome(
            outcomes.PERMISSION_MISSING,
            f"Role {preferred} named by {named_by} does not exist in account {finding.account}: create it, or "
            "remove RunbookRole to run as the member role.",
        )
    return member


def _security_hub_target(finding: Finding) -> dict[str, Any]:
    std, version = finding.standard_name, finding.standard_version
    short = aws.get_parameter(solution.ssm_standard_shortname(clean_ssm(std), clean_ssm(version)))
    if not short:
        raise Outcome(
            outcomes.PLAYBOOK_NOT_ENABLED,
            f"ASR playbook for ({std}) v{version} is not installed: parameter "
            f"{solution.ssm_standard_shortname(std, version)} does not exist.",
        )
    status = aws.get_parameter(solution.ssm_standard_status(clean_ssm(std), clean_ssm(version)))
    if status != solution.STANDARD_ENABLED:
        raise Outcome(
            outcomes.PLAYBOOK_NOT_ENABLED,
            f"ASR playbook for ({std}) v{version} is not enabled.",
            short,
        )
    control = finding.control_id
    remap = aws.get_parameter(solution.ssm_control_remap(clean_ssm(short), clean_ssm(version), clean_ssm(control)))
    runbook_control = remap or control
    runbook = solution.control_runbook(short, version, runbook_control)
    try:
        session = aws.member_session(finding.partition, finding.account, finding.resource_region)
        _document_state(session, finding.resource_region, runbook, finding.account)
        role = _role_arn(session, finding, solution.custom_control_role(short, version, runbook_control))
    except aws.AssumeRoleError as err:
        assume_role_failure_metric()
        raise Outcome(outcomes.ASSUME_ROLE_FAILURE, str(err), short) from None
    except Outcome as result:
        result.short_name = short
        raise
    alternate = workflow.alternate_workflow(finding)
    # The worker adds the whole finding as "Finding" when it starts the runbook (payload.py).
    parameters: dict[str, Any] = {"AutomationAssumeRole": role}
    target = {
        "Account": finding.account,
        "Region": finding.resource_region,
        "Partition": finding.partition,
        "Runbook": runbook,
        "RoleArn": role,
        "StandardShortName": short,
        "StandardVersion": version,
        "ControlId": control,
        "RunbookControlId": runbook_control,
    }
    if alternate is not None:
        if alternate.account == "admin":
            target["Account"], target["Region"] = _admin_account(), aws.region()
        role_name = alternate.role or solution.ORCHESTRATOR_MEMBER_ROLE
        _check_role_name(role_name, "environment variable WORKFLOW_RUNBOOK_ROLE")
        target["RoleArn"] = parameters["AutomationAssumeRole"] = aws.role_arn(
            finding.partition, target["Account"], role_name
        )
        parameters["RemediationDoc"] = runbook
        parameters["Workflow"] = json.dumps({"WorkflowDocument": alternate.runbook, "ApprovalRequired": True})
        target["Runbook"] = alternate.runbook
    target["Parameters"] = parameters
    return target


def _admin_account() -> str:
    return aws.client("sts").get_caller_identity()["Account"]


def _custom_target(finding: Finding) -> dict[str, Any]:
    try:
        custom = workflow.custom_runbook(finding)
    except workflow.CustomRunbookError as err:
        raise Outcome(outcomes.LAMBDA_ERROR, str(err)) from None
    if custom is None:
        raise Outcome(
            outcomes.NO_RUNBOOK,
            f"No runbook for {finding.product_name or 'unknown product'} finding {finding.title!r}: create "
            f"parameter {solution.ssm_custom_runbook(workflow.custom_runbook_key(finding))} = "
            '{"RunbookName": "<runbook>", "RunbookRole": "<optional role>"}.',
        )
    try:
        session = aws.member_session(finding.partition, finding.account, finding.resource_region)
        _document_state(session, finding.resource_region, custom.runbook, finding.account)
        role = _role_arn(session, finding, custom.role, named_by=f"parameter {custom.parameter} (RunbookRole)")
    except aws.AssumeRoleError as err:
        assume_role_failure_metric()
        raise Outcome(outcomes.ASSUME_ROLE_FAILURE, str(err)) from None
    return {
        "Account": finding.account,
        "Region": finding.resource_region,
        "Partition": finding.partition,
        "Runbook": custom.runbook,
        "RoleArn": role,
        "StandardShortName": "",
        "StandardVersion": "",
        "ControlId": "",
        "RunbookControlId": "",
        "Parameters": {"AutomationAssumeRole": role},
    }


def _enforce(event: dict[str, Any], finding: Finding, target: dict[str, Any]) -> str:
    """The remediation policy's decision, before anything runs (docs/policy.md): raise the Outcome
    of a decision that stops the finding; for one that lets it go on, what the READY message adds.
    Without a policy (both locations blank) nothing is read and nothing changes."""
    short = str(target.get("StandardShortName") or "")
    try:
        decided = enforce.decide(finding, target, event.get("EventType"))
    except enforce.PolicyUnavailable as err:
        raise Outcome(outcomes.LAMBDA_ERROR, str(err), short) from None
    if decided is None:
        return ""
    compiled, decision = decided
    history.set_policy_version(compiled.version)
    target["PolicyVersion"] = compiled.version  # the worker's history records carry it too
    logger.info("policy decision", extra={"data": {"policy": compiled.where, "decision": decision.to_json()}})
    deadline.track(compiled, decision, finding, target)  # PROCEED / MANUAL_ONLY with a deadline: start its clock
    if not decision.allowed:
        raise Outcome(decision.outcome, enforce.message(compiled, decision, target), short)
    return f"; remediation policy {compiled.where} (revision {compiled.version}) allows it: {decision.reason}"


def resolve(event: dict[str, Any]) -> dict[str, Any]:
    finding: Finding | None = None
    short_name = ""
    try:
        finding = Finding.parse(event.get("Finding"))
        bind(finding_id=finding.id)
        not_new = not_new_reason(event.get("EventType"), finding)
        if not_new:
            raise Outcome(outcomes.NOT_NEW, not_new)
        target = _security_hub_target(finding) if finding.security_hub else _custom_target(finding)
        allowed = _enforce(event, finding, target)
        message = (
            f"Remediation of {finding.control_id or finding.title} in account {target['Account']} "
            f"Region {target['Region']} resolved to runbook {target['Runbook']}{allowed}"
        )
        logger.info("resolved", extra={"data": {"target": {k: v for k, v in target.items() if k != "Parameters"}}})
        # Only what the next states need, the finding once (by reference when large): payload.py
        carried = {k: event.get(k) for k in ("MapIndex", "EventType", "CustomActionName")}
        ready = {"Outcome": outcomes.READY, "Message": message, "Target": target}
        return {**carried, **payload.carry(finding.raw), **ready}
    except Outcome as result:
        outcome, message, short_name = result.outcome, result.message, result.short_name
    except FindingError as err:
        outcome, message = outcomes.LAMBDA_ERROR, f"Finding cannot be remediated: {err}"
    except Exception as err:
        logger.exception("resolve failed")
        outcome = outcomes.LAMBDA_ERROR
        message = (
            f"Orchestrator failed to resolve the finding: {type(err).__name__}: {limits.truncate_chars(err, 4096)}"
        )
    return _notified(event, finding, outcome, message, short_name)


#: Keys of the item a final outcome's output keeps (the finding stays out: it may be large).
_FAILURE_KEYS = ("MapIndex", "EventType", "CustomActionName")
#: Bound of the Message of a final outcome's output (the notification bounds its own copy).
FAILURE_MESSAGE_CHARS = 8192


def _notified(event: dict[str, Any], finding: Finding | None, outcome: str, message: str, short: str) -> dict[str, Any]:
    """Notify a final outcome, then return it.

    A failure while building or sending the notification still ends in one: the minimal
    notification (asr.limits bounds it); only SNS refusing even that raises, and the state
    machine's Catch notifies again. The output is small whatever the finding: the item's
    keys, the finding's id (bounded), the outcome and the bounded message."""
    try:
        send(
            Notification(
                outcome,
                message,
                finding,
                raw_finding=event.get("Finding"),
                standard_short_name=short,
                affected_object=finding.affected_object if finding else "",
            )
        )
    except Exception as err:
        logger.exception("notification failed; sending the minimal one")
        send_minimal(outcome, message, finding, f"{type(err).__name__}: {limits.truncate_chars(err, 1024)}")
    raw = event.get("Finding")
    finding_id = finding.id if finding else (raw.get("Id") if isinstance(raw, dict) else None)
    out: dict[str, Any] = {k: event[k] for k in _FAILURE_KEYS if k in event}
    if isinstance(finding_id, str):
        out["FindingId"] = limits.truncate_chars(finding_id, 1024)
    out.update(Outcome=outcome, Message=limits.truncate_chars(message, FAILURE_MESSAGE_CHARS))
    return out


#: Bound of the message of the one error this function lets escape (SNS refusing even the
#: minimal notification). The state machine's Catch adds ``{Error, Cause}`` to the item, next to
#: a finding of up to 240 KB, and the sum must stay within Step Functions' 256 KiB payload
#: (States.DataLimitExceeded cannot be caught, payload.py). The Cause is the runtime's JSON of
#: this error, embedded as a JSON string: ASCII only, each character at most 4 bytes there.
CRASH_MESSAGE_CHARS = 1024


class ResolveFailed(RuntimeError):
    """resolve could not notify a final outcome; the state machine's Catch notifies it."""


def lambda_handler(event: Any, _context: Any) -> dict[str, Any]:
    clear()
    aws.session_scope()  # one member session for the runbook checks and the policy's tag lookup
    if not isinstance(event, dict):
        event = {"Finding": event}
    try:
        # the outcomes resolve decides itself are final: their history record names the execution
        return resolve(history.unwrap(event))
    except Exception as err:
        # Raised anew, bounded and without the chain: an exception's text may hold the finding.
        text = limits.clean(f"{type(err).__name__}: {limits.clean(err)}")
        text = text.encode("ascii", "backslashreplace").decode("ascii")
        raise ResolveFailed(limits.truncate_chars(text, CRASH_MESSAGE_CHARS, ascii_only=True)) from None
