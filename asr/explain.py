"""``asr explain``: what ASR would do with a Security Hub finding, without running anything.

Offline and without AWS: every answer comes from the code and data the product itself
runs -- the orchestrator's finding model and NOT_NEW rule (``lambdas/orchestrator``),
the playbook data (``playbooks/``), the control runbook the member playbook stack
deploys (``asr.playbooks.generator``) and its ParseInput script, which is executed here
on the finding exactly as the runbook's first step would run it. What explain cannot
know is the deployment: which playbooks are loaded (``--playbooks``), the Namespace of
the member-roles stack (``--namespace``), the values of the member account's SSM
parameters and the Security Hub control parameters (shown as references and defaults).

Outcomes are the orchestrator's (``lambdas/orchestrator/outcomes.py``), plus
``WOULD_REMEDIATE`` when the orchestrator would start the remediation:

* ``LAMBDA_ERROR``: the finding is malformed (the message names the field and value);
* ``NOT_NEW``: an import of a finding whose workflow is not NEW (or an unknown event type);
* ``NO_RUNBOOK``: no playbook entry for the control, or a finding of another product
  without its custom-runbook parameter;
* ``PLAYBOOK_NOT_ENABLED``: no ASR playbook for the finding's standard, or a playbook
  left out by ``--playbooks`` (the message names the stack parameters that load it);
* ``FAILED``: the control runbook would stop in ParseInput (the message names the value).
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import json
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from asr import solution
from asr.playbooks import data, generator
from asr.simulator import jsonpath, variables
from lambdas.orchestrator import outcomes, resolve, workflow
from lambdas.orchestrator.finding import Finding, FindingError

WOULD_REMEDIATE = "WOULD_REMEDIATE"
NAMESPACE_PLACEHOLDER = "<namespace>"

#: Playbooks the admin and member stacks load when their Load<KEY>... parameters keep
#: their defaults (asr/admin/stack.py, asr/member/stack.py; tests/cli checks the template).
LOADED_BY_DEFAULT = ("SC",)
#: Defaults of the playbook stacks' parameters (asr/playbooks/stacks.py; checked by tests/cli).
AUTO_TRIGGER_DEFAULT = "DISABLED"
CONTROL_AVAILABLE = "Available"

TRIGGERS = {"auto": solution.EVENT_IMPORTED, "custom-action": solution.EVENT_CUSTOM_ACTION}
EVENT_TYPES = (solution.EVENT_CUSTOM_ACTION, solution.EVENT_IMPORTED)

#: Example findings generated for a control id (``asr explain EC2.4``): fixed values, so
#: the explanation of a control is the same on every run.
EXAMPLE_ACCOUNT = "111111111111"
EXAMPLE_REGION = "us-east-1"
EXAMPLE_UUID = "00000000-0000-4000-8000-000000000000"
EXAMPLE_TIME = datetime(2025, 1, 1, tzinfo=UTC)

_CONTROL_REF = re.compile(r"^(?:(?P<std>[A-Za-z0-9]+):)?(?P<control>[A-Za-z0-9]+(?:[.-][A-Za-z0-9]+)*)$")


class InputError(ValueError):
    """Input explain cannot read (exit code 2); the message names the input and what is wrong."""


# --- what to explain ---------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One finding to explain, with the EventBridge detail-type it arrives with."""

    raw: Any
    event_type: str
    source: str  # where it came from: file name, "stdin", "control SC:EC2.4"


def read_json(arg: str, stdin: TextIO) -> tuple[str, Any]:
    """(label, parsed JSON) of a file path or ``-`` (stdin)."""
    if arg == "-":
        label, text = "stdin", stdin.read()
    else:
        label = arg
        try:
            text = Path(arg).read_text(encoding="utf-8")
        except OSError as err:
            raise InputError(f"cannot read finding file {arg!r}: {err.strerror or err}") from None
        except UnicodeDecodeError as err:
            raise InputError(f"finding file {arg!r} is not UTF-8 text: {err.reason} at byte {err.start}") from None
    if not text.strip():
        raise InputError(f"{label} is empty: expected a finding, a list of findings or an EventBridge event")
    try:
        return label, json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"{label} is not JSON: {err.msg} at line {err.lineno} column {err.colno}") from None


def items_of(document: Any, label: str, default_event_type: str = solution.EVENT_IMPORTED) -> list[Item]:
    """The findings of an input document.

    Accepted: one ASFF finding; a list of them; ``{"findings": [...]}`` (or ``Findings``,
    as ``aws securityhub get-findings`` prints); an EventBridge event of Security Hub
    (custom action or Imported) or the orchestrator input an AutoTrigger rule builds.
    Bare findings arrive with ``default_event_type``; an event's own detail-type wins.
    """
    if isinstance(document, list):
        findings, event_type, where = document, default_event_type, label
    elif isinstance(document, dict) and ("detail-type" in document or "detail" in document):
        event_type = document.get("detail-type")
        if event_type not in EVENT_TYPES:
            raise InputError(
                f"{label}: detail-type {event_type!r} is not a Security Hub finding event "
                f"({' or '.join(repr(t) for t in EVENT_TYPES)})"
            )
        detail = document.get("detail")
        findings = detail.get("findings") if isinstance(detail, dict) else None
        if not isinstance(findings, list):
            raise InputError(f"{label}: detail.findings must be a list of findings, got {_shown(findings)}")
        where = f"{label} detail.findings"
    elif isinstance(document, dict) and ("findings" in document or "Findings" in document):
        key = "findings" if "findings" in document else "Findings"
        findings, event_type, where = document[key], default_event_type, f"{label} {key}"
        if not isinstance(findings, list):
            raise InputError(f"{label}: {key} must be a list of findings, got {_shown(findings)}")
    elif isinstance(document, dict):
        findings, event_type, where = [document], default_event_type, label
    else:
        raise InputError(
            f"{label} holds a JSON {type(document).__name__}: expected a finding (object), a list of findings, "
            '{"findings": [...]} or an EventBridge event'
        )
    if not findings:
        raise InputError(f"{where} holds no findings")
    return [Item(raw, event_type, label) for raw in findings]


def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def control_reference(arg: str) -> list[tuple[data.Standard, data.Control]] | None:
    """Playbook entries named by ``CONTROL`` (every playbook that has it) or ``PLAYBOOK:CONTROL``.

    The playbook is a key (``CIS120``) or a short name (``CIS``: every CIS version).
    None when ``arg`` names no entry.
    """
    match = _CONTROL_REF.match(arg)
    if not match:
        return None
    wanted = (match["std"] or "").upper()
    found = []
    for std in data.standards():
        if wanted and wanted not in (std.key.upper(), std.short_name.upper()):
            continue
        found += [(std, c) for c in std.entries if c.control_id == match["control"]]
    return found or None


def example_resource_id(std: data.Standard, control: data.Control) -> str:
    """The aws-partition example id of the entry's resource-id regex (playbooks/regexes.yaml)."""
    target = std.control(control.remap) if control.remap else control
    regex = data.remediations()[target.remediation].regex
    return next(k for k in regex.valid if k.startswith(("arn:aws:", "AWS::")))


def example_finding(std: data.Standard, control: data.Control) -> dict[str, Any]:
    """A NEW, FAILED finding of the entry, in the standard's own finding shape."""
    from asr.simulator.findings import make_finding

    resource_id = example_resource_id(std, control)
    parts = resource_id.split(":")
    region = parts[3] if resource_id.startswith("arn:") and len(parts) > 5 and parts[3] else EXAMPLE_REGION
    return make_finding(
        control.control_id,
        resource_id,
        resource_type="Other",
        standard_name=std.long_name,
        standard_version=std.version,
        account_id=EXAMPLE_ACCOUNT,
        region=region,
        finding_uuid=EXAMPLE_UUID,
        timestamp=EXAMPLE_TIME,
    )


# --- the explanation -----------------------------------------------------------------------


@dataclass
class Explanation:
    finding_id: str | None
    event_type: str
    namespace: str
    source: str = ""
    standard: str | None = None  # short name: SC, AFSBP, CIS, PCI, NIST80053R5
    playbook: str | None = None  # playbook key: SC, CIS140 ...
    standard_long_name: str | None = None
    standard_version: str | None = None
    control: str | None = None
    remapped_to: str | None = None
    control_runbook: str | None = None
    remediation_runbook: str | None = None
    pre_remediation_runbooks: list[str] = field(default_factory=list)
    finding_account: str | None = None
    finding_region: str | None = None  # where Security Hub holds the finding
    resource_region: str | None = None  # where the control runbook runs
    resource_type: str | None = None
    finding_resource_id: str | None = None  # Resources[0].Id
    account: str | None = None  # where the remediation runs
    region: str | None = None
    resource_id: str | None = None  # as the remediation receives it
    roles: dict[str, Any] = field(default_factory=dict)
    remediation_parameters: dict[str, Any] = field(default_factory=dict)
    control_parameters: dict[str, Any] = field(default_factory=dict)
    auto_trigger: dict[str, Any] | None = None
    requires: list[dict[str, str]] = field(default_factory=list)
    outcome: str = WOULD_REMEDIATE
    message: str = ""

    def stop(self, outcome: str, message: str) -> Explanation:
        self.outcome, self.message = outcome, message
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "finding_id": self.finding_id,
            "source": self.source,
            "event_type": self.event_type,
            "standard": self.standard,
            "playbook": self.playbook,
            "standard_long_name": self.standard_long_name,
            "standard_version": self.standard_version,
            "control": self.control,
            "remapped_to": self.remapped_to,
            "control_runbook": self.control_runbook,
            "remediation_runbook": self.remediation_runbook,
            "pre_remediation_runbooks": self.pre_remediation_runbooks,
            "finding_account": self.finding_account,
            "finding_region": self.finding_region,
            "resource_region": self.resource_region,
            "resource_type": self.resource_type,
            "finding_resource_id": self.finding_resource_id,
            "account": self.account,
            "region": self.region,
            "resource_id": self.resource_id,
            "roles": self.roles,
            "remediation_parameters": self.remediation_parameters,
            "control_parameters": self.control_parameters,
            "auto_trigger": self.auto_trigger,
            "requires": self.requires,
            "outcome": self.outcome,
            "message": self.message,
        }


@functools.cache
def _parse_input() -> ModuleType:
    """The control runbooks' ParseInput script (playbooks/scripts/parse_input.py), as a module."""
    spec = importlib.util.spec_from_file_location("asr_parse_input", data.SCRIPT_DIR / generator.PARSE_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def _runbook(key: str, control_id: str, namespace: str) -> dict[str, Any]:
    std = data.load_standard(key)
    return generator.control_runbook(std, std.control(control_id), namespace)


def _standard_for(long_name: str, version: str) -> data.Standard | None:
    for std in data.standards():
        if (std.long_name, std.version) == (long_name, version):
            return std
    return None


def _load_requirements(std: data.Standard) -> list[dict[str, str]]:
    default = "yes" if std.key in LOADED_BY_DEFAULT else "no"
    return [
        {"stack": "admin", "parameter": solution.load_admin_parameter(std.key), "value": "yes", "default": default},
        {"stack": "member", "parameter": solution.load_member_parameter(std.key), "value": "yes", "default": default},
    ]


def _auto_trigger(std: data.Standard, control_id: str, finding: Finding) -> dict[str, Any]:
    from asr.playbooks.stacks import auto_trigger_pattern

    pattern = auto_trigger_pattern(std, control_id, finding.partition)
    mismatches = _mismatches(pattern["detail"]["findings"], finding.raw, "")
    return {
        "rule": solution.auto_trigger_rule(std.short_name, std.version, control_id),
        "parameter": solution.auto_trigger_parameter(std.short_name, std.version, control_id),
        "stack": solution.playbook_admin_template(std.key),
        "default": AUTO_TRIGGER_DEFAULT,
        "enabled_by_default": AUTO_TRIGGER_DEFAULT == "ENABLED",
        "matches": not mismatches,
        "mismatches": mismatches,
    }


def _mismatches(pattern: Any, value: Any, path: str) -> list[str]:
    """Why ``value`` does not match an EventBridge pattern of exact values (empty: it matches)."""
    if isinstance(pattern, dict):
        out = []
        for key, sub in pattern.items():
            out += _mismatches(sub, value.get(key) if isinstance(value, dict) else None, f"{path}.{key}".lstrip("."))
        return out
    candidates = value if isinstance(value, list) else [value]
    if any(c in pattern for c in candidates):
        return []
    return [f"{path} is {_shown(value)}, the rule wants {' or '.join(repr(p) for p in pattern)}"]


def explain(
    raw: Any,
    event_type: str = solution.EVENT_IMPORTED,
    *,
    namespace: str = NAMESPACE_PLACEHOLDER,
    playbooks: Iterable[str] | None = None,
    source: str = "",
) -> Explanation:
    """What the orchestrator and the control runbook would do with one finding.

    The decisions are taken in the order ``lambdas/orchestrator/resolve.py`` takes them;
    what can be known about the finding is filled in even when one of them stops it.
    ``playbooks``: the playbook keys the deployment loads (None: every playbook).
    """
    loaded = None if playbooks is None else set(playbooks)
    raw_id = raw.get("Id") if isinstance(raw, dict) else None
    x = Explanation(raw_id if isinstance(raw_id, str) else None, event_type, namespace, source)
    try:
        finding = Finding.parse(raw)
    except FindingError as err:
        return x.stop(outcomes.LAMBDA_ERROR, f"Finding cannot be remediated: {err}")
    x.finding_account, x.finding_region, x.resource_region = finding.account, finding.region, finding.resource_region
    x.resource_type, x.resource_id = finding.resource_type or None, finding.resource_id
    x.finding_resource_id = finding.resource_id
    # The orchestrator starts the control runbook in the finding's account and the resource's Region.
    x.account, x.region = finding.account, finding.resource_region
    member_role = _role(finding.partition, finding.account, solution.ORCHESTRATOR_MEMBER_ROLE)
    x.roles["orchestrator_member"] = member_role
    std = control = target = remediation = None
    if finding.security_hub:
        x.standard_long_name, x.standard_version = finding.standard_name, finding.standard_version
        x.control = finding.control_id
        std = _standard_for(finding.standard_name, finding.standard_version)
    if std is not None:
        x.standard, x.playbook = std.short_name, std.key
        x.requires += _load_requirements(std)
        control = next((c for c in std.entries if c.control_id == finding.control_id), None)
    if std is not None and control is not None:
        x.remapped_to = control.remap
        target = std.control(control.remap) if control.remap else control
        remediation = data.remediations()[target.remediation]
        x.control_runbook = std.control_runbook(target.control_id)
        x.remediation_runbook = remediation.document
        x.pre_remediation_runbooks = [solution.remediation_document(p.remediation) for p in remediation.pre]
        x.auto_trigger = _auto_trigger(std, control.control_id, finding)
        x.requires.append(
            {
                "stack": f"member playbook {_member_template(std.key, target.control_id)}",
                "parameter": solution.control_available_parameter(target.control_id),
                "value": CONTROL_AVAILABLE,
                "default": CONTROL_AVAILABLE,
            }
        )
        x.roles["control_runbook"] = member_role
        x.roles["control_runbook_preferred"] = _role(
            finding.partition,
            finding.account,
            solution.custom_control_role(std.short_name, std.version, target.control_id),
        )

    not_new = resolve.not_new_reason(event_type, finding)
    if not_new:
        hint = (
            f" The custom action {solution.CUSTOM_ACTION_NAME!r} remediates it whatever its workflow status."
            if event_type == solution.EVENT_IMPORTED
            else ""
        )
        return x.stop(outcomes.NOT_NEW, not_new + hint)
    if not finding.security_hub:
        parameter = solution.ssm_custom_runbook(workflow.custom_runbook_key(finding))
        return x.stop(
            outcomes.NO_RUNBOOK,
            f"ASR ships no runbook for {finding.product_name or 'unknown product'} finding {finding.title!r}: the "
            f"orchestrator runs the runbook named by parameter {parameter} in the admin account "
            '({"RunbookName": "<runbook>", "RunbookRole": "<optional role>"}), and explain cannot see it.',
        )
    if std is None:
        known = ", ".join(f"{s.long_name} {s.version}" for s in data.standards())
        return x.stop(
            outcomes.PLAYBOOK_NOT_ENABLED,
            f"ASR has no playbook for standard {finding.standard_name} v{finding.standard_version} (it has {known}): "
            f"parameter {solution.ssm_standard_shortname(finding.standard_name, finding.standard_version)} "
            "never exists.",
        )
    if loaded is not None and std.key not in loaded:
        return x.stop(
            outcomes.PLAYBOOK_NOT_ENABLED,
            f"Playbook {std.key} ({std.title}) is not loaded: set {solution.load_admin_parameter(std.key)}=yes on "
            f"the admin stack and {solution.load_member_parameter(std.key)}=yes on the member stack.",
        )
    if control is None or target is None or remediation is None:
        runbook = std.control_runbook(finding.control_id)
        return x.stop(
            outcomes.NO_RUNBOOK,
            f"Playbook {std.key} has no entry for control {finding.control_id}: runbook {runbook} does not exist "
            f"('asr controls {std.key}' lists the {len(std.entries)} controls it remediates).",
        )
    return _run_parse_input(x, finding, std, target, remediation)


@functools.cache
def _member_parts(key: str) -> tuple[tuple[str, ...], ...]:
    from asr.playbooks.stacks import member_parts

    return tuple(tuple(part) for part in member_parts(data.load_standard(key)))


def _member_template(key: str, control_id: str) -> str:
    """The member playbook template (part) that holds the control runbook of ``control_id``."""
    part = next(i for i, ids in enumerate(_member_parts(key)) if control_id in ids)
    return solution.playbook_member_template(key, part)


def _role(partition: str, account: str, name: str) -> str:
    return f"arn:{partition}:iam::{account}:role/{name}"


def _run_parse_input(
    x: Explanation, finding: Finding, std: data.Standard, target: data.Control, remediation: data.Remediation
) -> Explanation:
    """Run the control runbook's ParseInput on the finding; render what the remediation receives."""
    runbook = _runbook(std.key, target.control_id, x.namespace)
    steps = {step["name"]: step for step in runbook["mainSteps"]}
    parse = steps["ParseInput"]
    payload = copy.deepcopy(parse["inputs"]["InputPayload"])
    # Security Hub control parameters come from the finding's AWS Config rule at run time
    # (an AWS call): explain shows the runbook's defaults instead.
    offline = copy.deepcopy(finding.raw)
    fields = offline.get("ProductFields") if isinstance(offline.get("ProductFields"), dict) else {}
    config_rule = fields.pop("RelatedAWSResources:0/type", None) == "AWS::Config::ConfigRule"
    rule_name = fields.get("RelatedAWSResources:0/name") if config_rule else None
    payload["Finding"] = offline
    try:
        parsed = _parse_input().parse_event(payload)
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        return x.stop(
            outcomes.FAILED,
            f"The control runbook {x.control_runbook} would start, then fail in its ParseInput step before "
            f"changing anything: {err}",
        )
    for name, spec in (payload.get("control_params") or {}).items():
        x.control_parameters[spec["name"]] = {
            "remediation_parameter": name,
            "default": spec["default"],
            "from": f"AWS Config rule {rule_name} (InputParameters)" if rule_name else "the runbook's default",
        }
    outputs = {o["Name"]: o["Selector"] for o in parse["outputs"]}

    def lookup(ref: variables.Reference) -> Any:
        if ref.kind == "output" and ref.step == "ParseInput":
            return jsonpath.select({"Payload": parsed}, outputs[ref.output])
        if ref.kind == "global":
            return {"AWS_PARTITION": finding.partition, "ACCOUNT_ID": x.account, "REGION": x.region}[ref.name]
        if ref.kind == "parameter":
            spec = runbook["parameters"][ref.name]
            return spec["default"]  # RemediationRoleName and the {{ssm:...}} inputs
        return "{{" + ref.text + "}}"  # ssm: the member account's parameter, read at run time

    def resolved(step: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        inputs = variables.resolve(step["inputs"], lookup)
        location = (inputs.get("TargetLocations") or [{}])[0]
        account = (location.get("Accounts") or [x.account])[0]
        region = (location.get("Regions") or [x.region])[0]
        return account, region, inputs["RuntimeParameters"]

    control_account, control_region = x.account, x.region
    pre_roles = []
    for step in runbook["mainSteps"]:
        if step["name"].startswith("Pre"):
            _, _, params = resolved(step)
            pre_roles.append(params["AutomationAssumeRole"])
    account, region, params = resolved(steps["Remediation"])
    x.account, x.region = account, region
    x.roles["remediation"] = params.pop("AutomationAssumeRole")
    if pre_roles:
        x.roles["pre_remediations"] = pre_roles
    x.remediation_parameters = params
    x.resource_id = parsed["resource_id"]
    x.message = (
        f"Remediation of {finding.control_id} in account {control_account} Region {control_region} resolves to "
        f"runbook {x.control_runbook}, which runs {x.remediation_runbook} on {x.resource_id} in account "
        f"{account} Region {region}, then marks the finding RESOLVED."
    )
    return x


# --- text ------------------------------------------------------------------------------------


def _requirement(r: dict[str, str]) -> str:
    return f"{r['parameter']}={r['value']} on the {r['stack']} stack (default {r['default']})"


LABEL_WIDTH = 20
TEXT_WIDTH = 110


def render_text(explanations: Sequence[Explanation]) -> str:
    blocks = [_render_one(x) for x in explanations]
    counts: dict[str, int] = {}
    for x in explanations:
        counts[x.outcome] = counts.get(x.outcome, 0) + 1
    summary = ", ".join(f"{n} {outcome}" for outcome, n in counts.items())
    total = len(explanations)
    blocks.append(f"{total} finding{'s' if total != 1 else ''}: {summary}\n")
    return "\n".join(blocks)


def _render_one(x: Explanation) -> str:
    lines = [f"Finding {x.finding_id or '(no Id)'}"]

    def row(label: str, value: str) -> None:
        lead = f"  {label + ':' if label else '':<{LABEL_WIDTH}}"
        lines.append(f"{lead}{value}")

    def wrapped(label: str, text: str) -> None:
        chunks = textwrap.wrap(text, TEXT_WIDTH - LABEL_WIDTH - 2, break_on_hyphens=False, break_long_words=False)
        for i, chunk in enumerate(chunks or [""]):
            row(label if i == 0 else "", chunk)

    row("Outcome", x.outcome)
    wrapped("", x.message)
    row("Source", f"{x.source} ({x.event_type})" if x.source else x.event_type)
    if x.standard_long_name:
        std = f"{x.standard} {x.standard_version} (playbook {x.playbook})" if x.standard else "no ASR playbook"
        row("Standard", f"{std}; finding standard {x.standard_long_name} {x.standard_version}")
    if x.control:
        remap = "" if not x.control_runbook else f", remapped to {x.remapped_to}" if x.remapped_to else ", no remap"
        row("Control", x.control + remap)
    if x.finding_account:
        row("Finding", f"account {x.finding_account}, Region {x.finding_region}")
        row("Resource", f"{x.resource_type or '(no type)'} {x.finding_resource_id} in Region {x.resource_region}")
    if x.control_runbook:
        row("Control runbook", f"{x.control_runbook} in account {x.finding_account} Region {x.resource_region}")
        row("  runs as", x.roles["control_runbook"])
        row("", f"(or {x.roles['control_runbook_preferred']} when that role exists)")
    if x.remediation_runbook:
        where = f" in account {x.account} Region {x.region}" if x.outcome == WOULD_REMEDIATE else ""
        row("Remediation", f"{x.remediation_runbook}{where}")
        if x.roles.get("remediation"):
            row("  runs as", x.roles["remediation"])
        for name, value in x.remediation_parameters.items():
            wrapped("  with" if name == next(iter(x.remediation_parameters)) else "", f"{name} = {json.dumps(value)}")
        for pre, role in zip(x.pre_remediation_runbooks, x.roles.get("pre_remediations", []), strict=False):
            row("Runs first", pre)
            row("  runs as", role)
    for name, spec in x.control_parameters.items():
        row("Control parameter", f"{name} = {json.dumps(spec['default'])} unless {spec['from']} sets it")
    if x.playbook and x.control and not x.auto_trigger:
        row("AutoTrigger", f"none: playbook {x.playbook} has no rule for {x.control}")
    if x.auto_trigger:
        t = x.auto_trigger
        row("AutoTrigger", f"rule {t['rule']}: {t['default']} by default")
        row("", f"enable: {t['parameter']}=ENABLED (admin playbook stack {t['stack']})")
        if t["matches"]:
            row("", "this finding matches the rule's pattern")
        for reason in t["mismatches"]:
            wrapped("", f"the rule would not fire: {reason}")
    if x.requires:
        for i, r in enumerate(x.requires):
            wrapped("Requires" if i == 0 else "", _requirement(r))
    if x.outcome == WOULD_REMEDIATE:
        row("", f"the member-roles stack in account {x.account} (Namespace {x.namespace})")
    return "\n".join(lines) + "\n"
