"""In-place upgrade from the reference v2.3.x: what our templates must keep, and the check.

Users of the reference solution (Automated Security Response on AWS v2.3.2) switch to this
project by *updating their existing stacks in place* with our templates. CloudFormation matches
resources by logical id: a reference resource we keep under another logical id is created anew
before the old one is removed, so a fixed physical name (role, SSM document, rule, function...)
collides and the whole update rolls back; a retained resource whose id disappears is left behind,
outside any stack. ``contract.yaml`` (beside this file) records, per reference template, its
parameters and every named, retained or nested resource with its logical id: facts about the
reference's published templates, trimmed from ``upgrade-contract.json`` (see
``docs/upgrade.md``).

* :func:`reference_ids` gives the stacks the reference logical id of a resource, keyed by what it
  is (its type and physical name, the nested template a stack points at, or, for the few unnamed
  retained resources, our construct path): ``asr.cdk_common.SolutionStack`` applies it to every
  stack, so the ids come from this data and never by hand.
* :func:`compare` checks built templates (``deployment/global-s3-assets``) against the contract:
  parameters (present, same type, a default that keeps behaviour, no narrowed values), every
  contract resource kept under its logical id, in its template, with its type; anything else is
  a collision (same physical name or nested template under another logical id, or moved to another
  template), a deletion, or an orphan (retained resource gone). Findings that are intended are
  listed in the contract's ``exceptions`` (with their migration and the test proving it) and
  ``pending`` (work announced elsewhere) sections, never silently dropped.

``python -m asr.upgrade [<global-s3-assets>]`` prints the report.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CONTRACT_FILE = Path(__file__).with_name("contract.yaml")
DECISIONS_FILE = Path(__file__).with_name("decisions.yaml")

#: Retention policies that leave the resource behind when it leaves the template.
RETAINED = ("Retain", "RetainExceptOnCreate")

# --- the contract -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefParameter:
    name: str
    type: str
    default: str | None = None
    allowed_values: tuple[str, ...] | None = None
    allowed_pattern: str | None = None


@dataclass(frozen=True)
class RefResource:
    logical_id: str
    type: str
    #: literal physical name, or the Fn::Sub-style rendering of the expression (``${Namespace}``)
    physical_name: str | None = None
    nested_template: str | None = None
    deletion_policy: str = "Delete"
    condition: str | None = None

    @property
    def retained(self) -> bool:
        return self.deletion_policy in RETAINED


@dataclass(frozen=True)
class RefTemplate:
    file: str
    role: str
    parameters: tuple[RefParameter, ...]
    resources: tuple[RefResource, ...]

    @property
    def nested(self) -> bool:
        """Deployed by one of our parent templates (its parameters are passed by our parent)."""
        return self.role.startswith(("playbook", "runbooks")) or "nested in" in self.role


@dataclass(frozen=True)
class Exception_:
    """A contract finding we accept on purpose: its reason, its migration, the test proving it."""

    template: str
    subject: str  # logical id (resources) or parameter name
    kind: str  # finding kind it excuses
    reason: str
    migration: str
    test: str


@dataclass(frozen=True)
class Contract:
    reference: str
    templates: tuple[RefTemplate, ...]
    #: construct path (relative to its stack) -> reference logical id, per template: unnamed resources
    adoptions: Mapping[str, Mapping[str, str]]
    exceptions: tuple[Exception_, ...]
    #: (template, logical id) -> what will add it
    pending: Mapping[tuple[str, str], str]

    def template(self, file: str) -> RefTemplate | None:
        return next((t for t in self.templates if t.file == file), None)


def _load_yaml(path: Path) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)


def parse_contract(data: Mapping[str, Any]) -> Contract:
    """The contract from its data (``contract.yaml``); a malformed entry is refused by name."""

    def need(entry: Mapping[str, Any], key: str, where: str) -> Any:
        if key not in entry or entry[key] in (None, ""):
            raise ValueError(f"upgrade contract: {where}: field {key!r} is missing (got {dict(entry)!r})")
        return entry[key]

    templates = []
    for t in need(data, "templates", "top level"):
        file = need(t, "file", "template")
        params = tuple(
            RefParameter(
                name=need(p, "name", f"{file} parameter"),
                type=need(p, "type", f"{file} parameter {p.get('name')}"),
                default=None if p.get("default") is None else str(p["default"]),
                allowed_values=tuple(str(v) for v in p["allowed_values"]) if p.get("allowed_values") else None,
                allowed_pattern=p.get("allowed_pattern"),
            )
            for p in t.get("parameters") or []
        )
        resources = tuple(
            RefResource(
                logical_id=need(r, "id", f"{file} resource"),
                type=need(r, "type", f"{file} resource {r.get('id')}"),
                physical_name=r.get("name"),
                nested_template=r.get("nested"),
                deletion_policy=r.get("deletion", "Delete"),
                condition=r.get("condition"),
            )
            for r in t.get("resources") or []
        )
        templates.append(RefTemplate(file, need(t, "role", file), params, resources))
    files = {t.file for t in templates}
    adoptions: dict[str, dict[str, str]] = defaultdict(dict)
    for a in data.get("adoptions") or []:
        file = need(a, "template", "adoption")
        if file not in files:
            raise ValueError(f"upgrade contract: adoption {a!r}: template {file!r} is not a reference template")
        adoptions[file][need(a, "path", f"adoption in {file}")] = need(a, "id", f"adoption in {file}")
    exceptions = tuple(
        Exception_(
            template=need(e, "template", "exception"),
            subject=need(e, "subject", "exception"),
            kind=need(e, "kind", f"exception {e.get('subject')}"),
            reason=need(e, "reason", f"exception {e.get('subject')}"),
            migration=need(e, "migration", f"exception {e.get('subject')}"),
            test=need(e, "test", f"exception {e.get('subject')}"),
        )
        for e in data.get("exceptions") or []
    )
    pending: dict[tuple[str, str], str] = {}
    for p in data.get("pending") or []:
        file = need(p, "template", "pending")
        for logical_id in need(p, "ids", f"pending in {file}"):
            pending[(file, logical_id)] = need(p, "reason", f"pending in {file}")
    subjects = {t.file: {r.logical_id for r in t.resources} | {p.name for p in t.parameters} for t in templates}
    for e in exceptions:
        if e.subject not in subjects.get(e.template, ()) and e.kind != "new-parameter-without-default":
            raise ValueError(
                f"upgrade contract: exception {e.subject!r} ({e.kind}): no such resource or parameter in "
                f"reference template {e.template!r}"
            )
    for file, logical_id in pending:
        if logical_id not in subjects.get(file, ()):
            raise ValueError(f"upgrade contract: pending {logical_id!r}: no such resource in {file!r}")
    return Contract(need(data, "reference", "top level"), tuple(templates), adoptions, exceptions, pending)


@functools.cache
def load_contract(path: Path = CONTRACT_FILE, decisions: Path = DECISIONS_FILE) -> Contract:
    """The reference facts (``contract.yaml``) with our decisions about them (``decisions.yaml``)."""
    data = dict(_load_yaml(path))
    for key, value in (_load_yaml(decisions) or {}).items():
        if key not in ("adoptions", "exceptions", "pending"):
            raise ValueError(f"upgrade decisions {decisions}: unknown section {key!r}")
        data[key] = value
    return parse_contract(data)


# --- reading templates --------------------------------------------------------------------------------

#: The property holding a resource type's physical name (the contract's ``name_property``).
NAME_PROPERTIES = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::SSM::Parameter": "Name",
    "AWS::SSM::Document": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::S3::Bucket": "BucketName",
    "Custom::ActionTarget": "Id",
}


def render(value: Any) -> str:
    """A CloudFormation value as Fn::Sub-style text, as the contract writes unresolved names:
    ``{"Ref": "Namespace"}`` -> ``${Namespace}``, GetAtt -> ``${Res.Attr}``, Fn::If ->
    ``${If:cond?a:b}``; Fn::Join and Fn::Sub are flattened."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return ",".join(render(v) for v in value)
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return f"${{{arg}}}"
        if fn == "Fn::GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else arg
            return f"${{{parts[0]}.{render(parts[1])}}}"
        if fn == "Fn::Join":
            sep, parts = arg
            return render(sep).join(render(p) for p in parts)
        if fn == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            for name, sub in variables.items():
                text = text.replace(f"${{{name}}}", render(sub))
            return text
        if fn == "Fn::If":
            cond, yes, no = arg
            return f"${{If:{cond}?{render(yes)}:{render(no)}}}"
        return f"${{{fn.removeprefix('Fn::')}:{render(arg)}}}"
    raise ValueError(f"cannot render {value!r} as a physical name")


def physical_name(resource: Mapping[str, Any]) -> str | None:
    """The rendered physical name of a template resource, or None when it has none."""
    prop = NAME_PROPERTIES.get(resource.get("Type", ""))
    value = (resource.get("Properties") or {}).get(prop) if prop else None
    return None if value is None else render(value)


def nested_template(resource: Mapping[str, Any]) -> str | None:
    """The template file an ``AWS::CloudFormation::Stack`` points at (the TemplateURL's tail after the
    version prefix, e.g. ``playbooks/SCMemberStack.template``)."""
    if resource.get("Type") != "AWS::CloudFormation::Stack":
        return None
    url = render((resource.get("Properties") or {}).get("TemplateURL", ""))
    match = re.search(r"/((?:playbooks/|blueprints/)?[^/]+\.template)$", url)
    return match.group(1) if match else url


# --- the comparison -------------------------------------------------------------------------------

#: Finding kinds that make an in-place update fail or lose something (the contract test wants none
#: but those excused in ``decisions.yaml``).
FAILING = (
    "missing-template",
    "missing-parameter",
    "parameter-type",
    "parameter-default",
    "parameter-narrowed",
    "new-parameter-without-default",
    "parent-passes-unknown-parameter",
    "collision",
    "collision-moved",
    "type-change",
    "orphaned",
    "renamed",
    "deleted",
)
#: Informational: nested templates get their parameters from our own parent, so a parameter they
#: dropped or constrained is only a difference if our parent still passes it (checked separately:
#: ``parent-passes-unknown-parameter``).
INFORMATIONAL = ("nested-parameter-dropped", "nested-parameter-narrowed")


@dataclass(frozen=True)
class Finding:
    kind: str
    template: str
    subject: str  # logical id or parameter name
    detail: str
    #: for resources: the reference resource's type and name (empty for parameters)
    type: str = ""
    name: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.template}: {self.subject}: {self.detail}"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    excused: list[tuple[Finding, Exception_]] = field(default_factory=list)
    pending: list[tuple[Finding, str]] = field(default_factory=list)
    #: contract resources kept as they were (logical id, template, type)
    kept: int = 0
    checked_resources: int = 0
    checked_parameters: int = 0

    def of(self, *kinds: str) -> list[Finding]:
        return [f for f in self.findings if f.kind in kinds]

    @property
    def failing(self) -> list[Finding]:
        return self.of(*FAILING)

    def counts(self) -> Counter[str]:
        return Counter(f.kind for f in self.findings)

    def summary(self) -> str:
        collisions = self.of("collision", "collision-moved")
        gone = self.of("deleted", "orphaned")
        lines = [
            f"{self.checked_resources} contract resources, {self.checked_parameters} parameters checked; "
            f"{self.kept} resources kept",
            f"{len(collisions)} named resources would collide ({len(self.of('collision'))} in the same template, "
            f"{len(self.of('collision-moved'))} moved to another template)",
            f"{len(gone)} would be deleted or orphaned ({len(self.of('orphaned'))} retained resources orphaned)",
        ]
        by_type = Counter(f.type for f in collisions)
        if by_type:
            lines.append("collisions by type: " + ", ".join(f"{n} {t}" for t, n in by_type.most_common()))
        for kind, n in sorted(self.counts().items()):
            lines.append(f"  {kind}: {n}")
        if self.pending:
            lines.append(f"pending (announced work, not yet built): {len(self.pending)}")
            for reason, n in Counter(r for _, r in self.pending).items():
                lines.append(f"  {n}: {reason}")
        if self.excused:
            lines.append(f"intentional exceptions: {len(self.excused)}")
            for f, e in self.excused:
                lines.append(f"  {f.kind} {f.template}:{f.subject}: {e.reason} (migration: {e.migration}; {e.test})")
        return "\n".join(lines)


def _params(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return template.get("Parameters") or {}


def _compare_parameters(ref: RefTemplate, ours: Mapping[str, Any], report: Report) -> None:
    params = _params(ours)
    narrowed = "nested-parameter-narrowed" if ref.nested else "parameter-narrowed"
    for p in ref.parameters:
        report.checked_parameters += 1
        mine = params.get(p.name)
        if mine is None:
            kind = "nested-parameter-dropped" if ref.nested else "missing-parameter"
            report.findings.append(Finding(kind, ref.file, p.name, "reference parameter absent"))
            continue
        if mine.get("Type") != p.type:
            report.findings.append(
                Finding("parameter-type", ref.file, p.name, f"type {mine.get('Type')!r}, reference {p.type!r}")
            )
        default = mine.get("Default")
        default = None if default is None else str(default)
        if p.default is not None and default != p.default:
            report.findings.append(
                Finding("parameter-default", ref.file, p.name, f"default {default!r}, reference {p.default!r}")
            )
        allowed = mine.get("AllowedValues")
        if allowed is not None:
            lost = [v for v in (p.allowed_values or ()) if v not in [str(a) for a in allowed]]
            if lost or p.allowed_values is None:
                report.findings.append(
                    Finding(
                        narrowed,
                        ref.file,
                        p.name,
                        f"AllowedValues {allowed} drop {lost or 'values the reference accepted'}",
                    )
                )
        pattern = mine.get("AllowedPattern")
        if pattern is not None and pattern != p.allowed_pattern:
            accepted = [p.default] if p.default is not None else []
            accepted += list(p.allowed_values or ())
            refused = [v for v in accepted if not re.search(pattern, v)]
            if p.allowed_pattern is None or refused:
                report.findings.append(
                    Finding(
                        narrowed,
                        ref.file,
                        p.name,
                        f"AllowedPattern {pattern!r}, reference {p.allowed_pattern!r}"
                        + (f" (refuses {refused})" if refused else ""),
                    )
                )
    if not ref.nested:
        known = {p.name for p in ref.parameters}
        for name, mine in params.items():
            if name not in known and "Default" not in mine:
                report.findings.append(
                    Finding(
                        "new-parameter-without-default",
                        ref.file,
                        name,
                        "an update passing the previous values has no value for it",
                    )
                )


@dataclass(frozen=True)
class _Ours:
    template: str
    logical_id: str
    type: str


def _index(templates: Mapping[str, Mapping[str, Any]]) -> dict[tuple[str, str], list[_Ours]]:
    """(type, physical name or ``nested:<file>``) -> our resources carrying it."""
    index: dict[tuple[str, str], list[_Ours]] = defaultdict(list)
    for file, template in templates.items():
        for lid, res in (template.get("Resources") or {}).items():
            key = resource_key(res["Type"], res.get("Properties") or {})
            if key is not None:
                index[(res["Type"], key)].append(_Ours(file, lid, res["Type"]))
    return index


def _ref_key(r: RefResource) -> str | None:
    return f"nested:{r.nested_template}" if r.nested_template else r.physical_name


def compare(
    templates: Mapping[str, Mapping[str, Any]],
    contract: Contract | None = None,
    *,
    parameters: Mapping[str, Mapping[str, str]] | None = None,
) -> Report:
    """Check built templates (published path -> template) against the contract.

    ``parameters``: per top-level template, the values the update passes for parameters of ours (the
    others take their defaults). A resource the reference always had and ours only under a condition
    that is false with these values leaves the stack in the update (deleted, or orphaned if retained).
    """
    contract = contract or load_contract()
    report = Report()
    index = _index(templates)
    for ref in contract.templates:
        ours = templates.get(ref.file)
        if ours is None:
            report.findings.append(Finding("missing-template", ref.file, ref.file, "not built"))
            continue
        _compare_parameters(ref, ours, report)
        resources = ours.get("Resources") or {}
        # nested templates get their values from our parent: their conditions are not evaluated here
        conditions = {} if ref.nested else evaluate_conditions(ours, (parameters or {}).get(ref.file, {}))
        for r in ref.resources:
            report.checked_resources += 1
            mine = resources.get(r.logical_id)
            off = mine is not None and r.condition is None and conditions.get(mine.get("Condition", "")) is False
            if off:
                name = r.physical_name or r.nested_template or ""
                kind = "orphaned" if r.retained else "deleted"
                report.findings.append(
                    Finding(
                        kind,
                        ref.file,
                        r.logical_id,
                        f"{r.type} {name}: condition {mine['Condition']} is false with "
                        f"{dict((parameters or {}).get(ref.file, {})) or 'the default parameters'}",
                        r.type,
                        name,
                    )
                )
                continue
            if mine is not None:
                if mine["Type"] != r.type:
                    report.findings.append(
                        Finding("type-change", ref.file, r.logical_id, f"{mine['Type']}, reference {r.type}", r.type)
                    )
                    continue
                report.kept += 1
                key = _ref_key(r)
                now = nested_template(mine) if r.nested_template else physical_name(mine)
                if key is not None and r.nested_template is None and now != r.physical_name:
                    report.findings.append(
                        Finding(
                            "renamed",
                            ref.file,
                            r.logical_id,
                            f"physical name {now!r}, reference {r.physical_name!r}: replaced on update",
                            r.type,
                            r.physical_name or "",
                        )
                    )
                elif r.nested_template and now != r.nested_template:
                    report.findings.append(
                        Finding(
                            "renamed",
                            ref.file,
                            r.logical_id,
                            f"nested {now!r}, reference {r.nested_template!r}",
                            r.type,
                        )
                    )
                continue
            key = _ref_key(r)
            others = index.get((r.type, key), []) if key else []
            name = r.physical_name or r.nested_template or ""
            if others:
                where = others[0]
                kind = "collision" if where.template == ref.file else "collision-moved"
                report.findings.append(
                    Finding(
                        kind,
                        ref.file,
                        r.logical_id,
                        f"{name} is {where.logical_id} in {where.template}",
                        r.type,
                        name,
                    )
                )
            elif r.retained:
                report.findings.append(
                    Finding("orphaned", ref.file, r.logical_id, f"retained {r.type} {name} left outside", r.type, name)
                )
            else:
                report.findings.append(Finding("deleted", ref.file, r.logical_id, f"{r.type} {name}", r.type, name))
    _check_parents(templates, report)
    _excuse(report, contract)
    return report


def evaluate_conditions(template: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, bool | None]:
    """Each condition of ``template`` with ``values`` for its parameters (others: their defaults);
    None where it depends on something not known offline (a parameter without default or value,
    a pseudo parameter, an intrinsic function other than Equals/And/Or/Not/Condition)."""
    params = _params(template)
    unknown = [name for name in values if name not in params]
    if unknown:
        raise ValueError(f"parameters {unknown}: the template has no such parameter")
    conditions = template.get("Conditions") or {}
    done: dict[str, bool | None] = {}

    def value(node: Any) -> str | None:
        if isinstance(node, str):
            return node
        if isinstance(node, dict) and set(node) == {"Ref"} and node["Ref"] in params:
            name = node["Ref"]
            given = values.get(name, params[name].get("Default"))
            return None if given is None else str(given)
        return None

    def truth(node: Any) -> bool | None:
        if not isinstance(node, dict) or len(node) != 1:
            return None
        ((fn, arg),) = node.items()
        if fn == "Condition":
            return cond(arg)
        if fn == "Fn::Equals":
            a, b = (value(x) for x in arg)
            return None if a is None or b is None else a == b
        if fn == "Fn::Not":
            inner = truth(arg[0])
            return None if inner is None else not inner
        if fn in ("Fn::And", "Fn::Or"):
            parts = [truth(x) for x in arg]
            if fn == "Fn::And":
                return False if False in parts else (None if None in parts else True)
            return True if True in parts else (None if None in parts else False)
        return None

    def cond(name: str) -> bool | None:
        if name not in done:
            done[name] = None  # a cycle reads as unknown
            done[name] = truth(conditions[name])
        return done[name]

    for name in conditions:
        cond(name)
    return done


def _check_parents(templates: Mapping[str, Mapping[str, Any]], report: Report) -> None:
    """Our parents pass only parameters our nested templates declare (a nested template that lost a
    parameter its parent passes fails the update)."""
    for file, template in templates.items():
        for lid, res in (template.get("Resources") or {}).items():
            child = nested_template(res)
            if child is None or child not in templates:
                continue
            declared = set(_params(templates[child]))
            for name in (res.get("Properties") or {}).get("Parameters") or {}:
                if name not in declared:
                    report.findings.append(
                        Finding("parent-passes-unknown-parameter", file, f"{lid}.{name}", f"{child} has no {name}")
                    )


def _excuse(report: Report, contract: Contract) -> None:
    by_key = {(e.template, e.subject, e.kind): e for e in contract.exceptions}
    kept: list[Finding] = []
    for f in report.findings:
        exc = by_key.get((f.template, f.subject, f.kind))
        if exc is not None:
            report.excused.append((f, exc))
        elif (f.template, f.subject) in contract.pending and f.kind in ("deleted", "orphaned"):
            report.pending.append((f, contract.pending[(f.template, f.subject)]))
        else:
            kept.append(f)
    report.findings = kept


def unused_exceptions(report: Report, contract: Contract | None = None) -> list[Exception_]:
    """Exceptions that excused nothing (stale data: the finding is gone)."""
    contract = contract or load_contract()
    used = {id(e) for _, e in report.excused}
    return [e for e in contract.exceptions if id(e) not in used]


# --- the ids our stacks take --------------------------------------------------------------------------


def template_file_of_stack(stack_id: str) -> str | None:
    """Published template file of one of our stacks, from its CDK stack id (the names of
    ``asr.solution``): ``SolutionDeployStack`` -> ``automated-security-response-admin.template``,
    ``RunbookStack1`` -> ``...-remediation-runbooks1.template``, ``SCMemberStack1`` ->
    ``playbooks/SCMemberStack1.template``, ``SCStack`` -> ``playbooks/SCStack.template``."""
    from asr import solution

    if stack_id in solution.TEMPLATE_FILES:
        return solution.TEMPLATE_FILES[stack_id]
    if stack_id == solution.ORG_KEY_STACK:
        return solution.ORG_KEY_TEMPLATE
    if m := re.fullmatch(rf"{solution.RUNBOOK_STACK}(\d+)", stack_id):
        return solution.runbook_template(int(m.group(1)))
    if m := re.fullmatch(r"([A-Z][A-Z0-9]*)MemberStack(\d*)", stack_id):
        return solution.playbook_member_template(m.group(1), int(m.group(2) or 0))
    if m := re.fullmatch(r"([A-Z][A-Z0-9]*)Stack", stack_id):
        return solution.playbook_admin_template(m.group(1))
    return None  # a stack of ours the naming scheme does not know: no reference template


def identifying_property(resource_type: str) -> str | None:
    """The property :func:`resource_key` reads for ``resource_type`` (None: not identifiable)."""
    return "TemplateURL" if resource_type == "AWS::CloudFormation::Stack" else NAME_PROPERTIES.get(resource_type)


def resource_key(resource_type: str, properties: Mapping[str, Any]) -> str | None:
    """What identifies a resource across templates: its rendered physical name, or ``nested:<file>``
    for a nested stack; None when it has neither. ``properties`` as in a template (``RoleName``) or as
    CDK keeps them for an L1 construct (``roleName``, ``templateUrl``)."""

    def get(name: str) -> Any:
        return properties.get(name, properties.get(name[:1].lower() + name[1:]))

    if resource_type == "AWS::CloudFormation::Stack":
        url = properties.get("TemplateURL", properties.get("templateUrl"))
        return (
            None
            if url is None
            else f"nested:{nested_template({'Type': resource_type, 'Properties': {'TemplateURL': url}})}"
        )
    prop = NAME_PROPERTIES.get(resource_type)
    value = get(prop) if prop else None
    return None if value is None else render(value)


@functools.cache
def reference_ids(template_file: str) -> dict[str, str]:
    """Keys of what a resource is -> its reference logical id, for the reference template
    ``template_file`` (empty for templates of ours the reference does not have).

    Keys: ``<type>|<rendered physical name>`` for named resources, ``<type>|nested:<file>`` for
    nested stacks, ``path:<construct path relative to the stack>`` for the adopted unnamed ones.
    """
    contract = load_contract()
    ref = contract.template(template_file)
    if ref is None:
        return {}
    ids: dict[str, str] = {}
    for r in ref.resources:
        key = _ref_key(r)
        if key is not None:
            ids[f"{r.type}|{key}"] = r.logical_id
    for path, lid in contract.adoptions.get(template_file, {}).items():
        ids[f"path:{path}"] = lid
    return ids


def reference_resource_names(template_file: str) -> set[str]:
    """Rendered physical names (and ``nested:<file>``) of the reference resources of ``template_file``:
    the stacks that split their content keep these in the reference's template."""
    ref = load_contract().template(template_file)
    return {k for r in (ref.resources if ref else ()) if (k := _ref_key(r))}


# --- command line ---------------------------------------------------------------------------------------


def read_templates(global_assets: Path) -> dict[str, dict]:
    return {
        p.relative_to(global_assets).as_posix(): json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(global_assets.rglob("*.template"))
    }


def main(argv: Iterable[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m asr.upgrade", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "assets",
        nargs="?",
        type=Path,
        default=Path(__file__).resolve().parents[2] / "deployment" / "global-s3-assets",
        help="built global-s3-assets folder (default: deployment/global-s3-assets)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="list every finding")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not args.assets.is_dir():
        parser.error(f"assets: {args.assets} is not a folder (run make first)")
    report = compare(read_templates(args.assets))
    if args.verbose:
        for f in report.findings:
            print(f)
    print(report.summary())
    return 1 if report.failing else 0
