"""Approval / alternate-workflow hook, and custom runbooks for non-Security-Hub findings.

Alternate workflow: when ``WORKFLOW_RUNBOOK`` names a runbook AND ``approval_required``
returns True (a real boolean -- the reference tested the *string* "false", which is
truthy, so every remediation went to the workflow runbook), the workflow runbook runs
instead of the control runbook and gets ``RemediationDoc`` and ``Workflow`` parameters.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from asr import limits, solution
from lambdas.orchestrator import aws
from lambdas.orchestrator.finding import Finding, clean_ssm


@dataclass(frozen=True)
class AlternateWorkflow:
    runbook: str
    account: str  # "member" or "admin"
    role: str


def approval_required(finding: Finding) -> bool:
    """Customisation point: True routes this finding to the alternate workflow runbook.

    The shipped rule never requires approval. Replace it (e.g. destructive remediations,
    sensitive accounts) in a fork; it must return a bool.
    """
    return False


def alternate_workflow(finding: Finding) -> AlternateWorkflow | None:
    runbook = os.environ.get("WORKFLOW_RUNBOOK", "").strip()
    if not runbook:
        return None
    required = approval_required(finding)
    if not isinstance(required, bool):
        raise TypeError(f"approval_required must return a bool, got {required!r}")
    if not required:
        return None
    account = os.environ.get("WORKFLOW_RUNBOOK_ACCOUNT", "member").strip().lower() or "member"
    if account not in ("member", "admin"):
        raise ValueError(f"WORKFLOW_RUNBOOK_ACCOUNT must be member or admin, got {account!r}")
    return AlternateWorkflow(runbook, account, os.environ.get("WORKFLOW_RUNBOOK_ROLE", "").strip())


def custom_runbook_key(finding: Finding) -> str:
    """``/Solutions/SO0111/<key>`` of a non-Security-Hub finding, by product."""
    product = finding.product_name.lower()
    raw = finding.raw
    if product == "health":
        field, key = "GeneratorId", finding.generator_id
    elif product == "guardduty":
        types = raw.get("Types")
        field, key = "Types.0", str(types[0] if isinstance(types, list) and types else "").rsplit("-", 1)[-1]
    elif product == "inspector":
        fields = raw.get("ProductFields") or {}  # an object when present: Finding.parse checked it
        field, key = "ProductFields.attributes/RULE_TYPE", str(fields.get("attributes/RULE_TYPE", ""))
    else:  # Config and everything else: the finding title (the Config rule name)
        field, key = "Title", finding.title
    key = clean_ssm(key)
    room = limits.SSM_PARAMETER_NAME_CHARS - limits.SSM_PARAMETER_ARN_PREFIX_CHARS
    room -= len(solution.ssm_custom_runbook(""))
    if len(key) > room:  # SSM would refuse the name: say which field made it
        raise CustomRunbookError(
            f"finding field {field} is too long to name parameter {solution.ssm_custom_runbook('<key>')} "
            f"({len(key)} characters, at most {room}; got {limits.shown(key)})"
        )
    return key


@dataclass(frozen=True)
class CustomRunbook:
    parameter: str
    runbook: str
    role: str


class CustomRunbookError(ValueError):
    pass


def custom_runbook(finding: Finding) -> CustomRunbook | None:
    name = solution.ssm_custom_runbook(custom_runbook_key(finding))
    value = aws.get_parameter(name)
    if value is None:
        return None
    try:
        data = json.loads(value)
        runbook = data["RunbookName"]
        role = data.get("RunbookRole") or ""
        if not isinstance(runbook, str) or not runbook or not isinstance(role, str):
            raise TypeError
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CustomRunbookError(
            f'parameter {name} must be JSON {{"RunbookName": "<runbook>", "RunbookRole": "<optional role>"}}, '
            f"got {value[:200]!r}"
        ) from None
    return CustomRunbook(name, runbook, role)
