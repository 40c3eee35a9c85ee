"""FindingFacts of a Security Hub finding, as ``asr explain`` reads it (no second parser).

The account is the finding's AwsAccountId, the Region the resource's (where the control runbook
runs), the resource Resources[0].Id; the control is the consolidated id of the playbook entry
explain resolves (``asr.controls.mapping``). Tags come from Resources[0].Tags (a map of strings
in ASFF: https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_Resource.html).
"""

from __future__ import annotations

from typing import Any

from asr import explain, limits, solution
from asr.policy.evaluate import AUTO, MANUAL, FindingFacts
from lambdas.orchestrator import outcomes


class FactsError(ValueError):
    """A finding the policy cannot be applied to; the message names the field and value."""


def initiator_of(event_type: str) -> str:
    return MANUAL if event_type == solution.EVENT_CUSTOM_ACTION else AUTO


def _tags(raw: Any) -> dict[str, str] | None:
    resources = raw.get("Resources") if isinstance(raw, dict) else None
    first = resources[0] if isinstance(resources, list) and resources and isinstance(resources[0], dict) else {}
    tags = first.get("Tags")
    if tags is None:
        return None
    if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        raise FactsError(f"finding field Resources.0.Tags must be a map of strings (got {limits.shown(tags)})")
    return dict(tags)


def from_explanation(x: explain.Explanation, raw: Any) -> FindingFacts:
    """The facts of a finding ``explain`` has read (its outcome may stop it: the policy still decides)."""
    if x.outcome == outcomes.LAMBDA_ERROR or not x.finding_account or not x.finding_resource_id:
        raise FactsError(x.message or "the finding cannot be read")
    from asr.controls.mapping import MappingError, security_control

    control = standard_control = None
    if x.playbook and x.control:
        standard_control = f"{x.playbook}:{x.control}"
        try:
            control = security_control(x.playbook, x.control)
        except (KeyError, MappingError):
            control = None  # no ASR entry: only the global rules apply
    return FindingFacts(
        account=x.finding_account,
        region=x.resource_region or x.finding_region or "",
        resource=x.finding_resource_id,
        control=control,
        standard_control=standard_control,
        finding_id=x.finding_id,
        resource_type=x.resource_type,
        tags=_tags(raw),
    )


def from_finding(raw: Any, event_type: str = solution.EVENT_IMPORTED) -> tuple[FindingFacts, explain.Explanation]:
    x = explain.explain(raw, event_type)
    return from_explanation(x, raw), x
