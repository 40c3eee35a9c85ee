"""Render ``docs/remediations.md``: what each consolidated control's remediation changes, and breaks.

Plain Python, no CDK. The page is generated from data and checked by
``tests/test_remediation_docs.py``:

* ``remediation_runbooks/effects/effects.yaml`` -- per remediation, what it changes and its
  collateral effects (written from the runbook and its script);
* ``playbooks/`` through :mod:`asr.playbooks.data` -- the consolidated Security Hub controls
  (standard ``SC``), the remediation each runs and the parameters its control runbook passes;
* :func:`asr.controls.mapping.security_control` -- which per-standard control (AFSBP, CIS, NIST,
  PCI) is which consolidated control.

Regenerate with ``.venv/bin/python -m asr.remediation_docs > docs/remediations.md``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from asr import solution
from asr.controls import mapping
from asr.playbooks import data

REPO_ROOT = Path(__file__).resolve().parent.parent
RUNBOOK_DIR = REPO_ROOT / "remediation_runbooks"
# Not remediation_runbooks/effects.yaml: asr.documents reads every remediation_runbooks/*.yaml as a runbook.
EFFECTS_PATH = RUNBOOK_DIR / "effects" / "effects.yaml"
DOC_PATH = REPO_ROOT / "docs" / "remediations.md"
COMMAND = ".venv/bin/python -m asr.remediation_docs > docs/remediations.md"

_FIELDS = ("changes", "collateral")
EN_DASH = "\u2013"


class EffectsError(ValueError):
    """effects.yaml does not describe exactly the remediations of the repository."""


@dataclass(frozen=True)
class Effect:
    changes: str
    collateral: str


# --- effects.yaml ---------------------------------------------------------------------


def remediation_names() -> set[str]:
    """Every remediation: the runbooks of ``remediation_runbooks/`` and those the playbooks run (AWS-owned too)."""
    return {p.stem for p in RUNBOOK_DIR.glob("*.yaml")} | set(data.remediations())


def _one_line(text: str) -> str:
    return " ".join(text.split())


def parse_effects(raw: Any, names: Iterable[str], source: str = "effects.yaml") -> dict[str, Effect]:
    """The effects of ``raw`` (loaded YAML), which must have one complete entry per name of ``names``."""
    if not isinstance(raw, dict):
        raise EffectsError(f"{source}: the top level must map remediation names to changes and collateral")
    known = set(names)
    problems = []
    missing = sorted(known - set(raw))
    if missing:
        problems.append("no entry for remediation(s) " + ", ".join(missing))
    unknown = sorted(str(name) for name in set(raw) - known)
    if unknown:
        problems.append(
            "entry for unknown remediation(s) "
            + ", ".join(unknown)
            + " (no remediation_runbooks/<Name>.yaml and not in playbooks/remediations.yaml)"
        )
    for name in sorted(set(raw) & known):
        entry = raw[name]
        if not isinstance(entry, dict):
            problems.append(f"{name}: must be a mapping with changes and collateral")
            continue
        extra = sorted(str(key) for key in set(entry) - set(_FIELDS))
        if extra:
            problems.append(f"{name}: unknown key(s) {', '.join(extra)}")
        for field in _FIELDS:
            value = entry.get(field)
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{name}: {field} is missing or empty")
    if problems:
        raise EffectsError(f"{source}: " + "; ".join(problems))
    return {name: Effect(*(_one_line(raw[name][field]) for field in _FIELDS)) for name in sorted(known)}


def load_effects(path: Path | None = None) -> dict[str, Effect]:
    path = EFFECTS_PATH if path is None else path
    source = path.relative_to(REPO_ROOT).as_posix() if path.is_relative_to(REPO_ROOT) else str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EffectsError(f"{source}: file not found") from None
    except yaml.YAMLError as err:
        raise EffectsError(f"{source}: invalid YAML: {err}") from None
    return parse_effects(raw, remediation_names(), source)


# --- controls -----------------------------------------------------------------------------


def control_key(control_id: str) -> tuple[Any, ...]:
    """Natural order: ``EC2.2`` before ``EC2.10``, ``2.1.5.1`` after ``2.1``; service case ignored."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.lower()) for part in control_id.split("."))


def service_of(control_id: str) -> str:
    return control_id.split(".", 1)[0]


def effective_params(std: data.Standard, control: data.Control) -> dict[str, Any]:
    """The parameters the control runbook serving ``control`` passes to its remediation."""
    target = std.control(control.remap) if control.remap else control
    return {**data.remediations()[target.remediation].params, **target.params}


def _default_view(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameter values as they are when the finding carries no control parameter."""
    return {k: v["default"] if isinstance(v, dict) and "control_param" in v else v for k, v in params.items()}


def standard_labels() -> dict[str, str]:
    """Short label of each per-standard playbook: its short name, with the version when several share it."""
    stds = [s for s in data.standards() if not s.consolidated]
    shared = {s.short_name for s in stds if sum(o.short_name == s.short_name for o in stds) > 1}
    return {s.key: f"{s.short_name} {s.version}" if s.short_name in shared else s.short_name for s in stds}


@dataclass(frozen=True)
class Row:
    """One consolidated control in its service table."""

    control_id: str
    remap: str | None
    metric_filter: str | None
    overrides: dict[str, Any]  # parameters that differ from the remediation's defaults
    related: tuple[str, ...]  # per-standard controls mapped onto it, labelled


@dataclass(frozen=True)
class Group:
    """Consolidated controls of one service that run the same remediation."""

    service: str
    remediation: data.Remediation
    rows: tuple[Row, ...]


def related_controls() -> dict[str, list[str]]:
    """Consolidated control id -> the per-standard controls that map onto it (``CIS 1.2.0 2.6 ...``)."""
    labels = standard_labels()
    sc = data.load_standard("SC")
    out: dict[str, list[str]] = {}
    for std in data.standards():
        if std.consolidated:
            continue
        for control in sorted(std.entries, key=lambda c: control_key(c.control_id)):
            target = mapping.security_control(std.key, control.control_id)
            label = f"{labels[std.key]} {control.control_id}"
            mine = _default_view(effective_params(std, control))
            theirs = _default_view(effective_params(sc, sc.control(target)))
            differ = {k: v for k, v in mine.items() if theirs.get(k) != v}
            if differ:
                label += " (with " + ", ".join(f"{k}={_plain(v)}" for k, v in differ.items()) + ")"
            out.setdefault(target, []).append(label)
    return out


def groups() -> list[Group]:
    """Every consolidated control, by service and remediation, in natural order."""
    sc = data.load_standard("SC")
    related = related_controls()
    by_group: dict[tuple[str, str], list[Row]] = {}
    services: dict[str, str] = {}
    for control in sorted(sc.entries, key=lambda c: control_key(c.control_id)):
        service = service_of(control.control_id)
        services.setdefault(service.lower(), service)  # first spelling wins (AutoScaling.1 before Autoscaling.5)
        base = data.remediations()[control.remediation].params
        overrides = {k: v for k, v in effective_params(sc, control).items() if base.get(k) != v}
        row = Row(
            control.control_id,
            control.remap,
            control.metric_filter,
            overrides,
            tuple(related.get(control.control_id, ())),
        )
        by_group.setdefault((service.lower(), control.remediation), []).append(row)
    return [
        Group(services[service], data.remediations()[remediation], tuple(rows))
        for (service, remediation), rows in by_group.items()
    ]


# --- Markdown -------------------------------------------------------------------------------


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value) if value else "(none)"
    return str(value)


def _code(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_code(v) for v in value) if value else "none"
    return f"`{_plain(value)}`"


_SSM = re.compile(r"^\{ssm:(?P<path>[^}]+)\}$")
_ROLE = re.compile(r"^\{role:(?P<purpose>[^}]+)\}$")


def describe_value(value: Any) -> str:
    """A control-runbook parameter value, in words."""
    if isinstance(value, dict) and "control_param" in value:
        return f"control parameter `{value['control_param']}` of the finding, default {_code(value['default'])}"
    if isinstance(value, str):
        if match := _SSM.match(value):
            return f"SSM parameter `{match['path']}`"
        if match := _ROLE.match(value):
            return f"role `SO0111-{match['purpose']}-<namespace>`"
        if "{filter:" in value:
            return "from the control's metric filter"
    return _code(value)


def describe_params(params: Mapping[str, Any]) -> list[str]:
    """``Name: description`` items; parameters described alike are listed together."""
    merged: dict[str, list[str]] = {}
    for name, value in params.items():
        merged.setdefault(describe_value(value), []).append(f"`{name}`")
    return [f"{', '.join(names)}: {what}" for what, names in merged.items()]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _id_ranges(ids: Iterable[str]) -> str:
    """``IAM.7, IAM.11-IAM.17`` (with an en dash): runs of three or more consecutive numbers joined."""
    parts: list[list[str]] = []
    previous: tuple[str, int] | None = None
    for control_id in ids:
        service, _, number = control_id.rpartition(".")
        current = (service.lower(), int(number)) if number.isdigit() else None
        if parts and current and previous and current == (previous[0], previous[1] + 1):
            parts[-1].append(control_id)
        else:
            parts.append([control_id])
        previous = current
    return ", ".join(", ".join(run) if len(run) < 3 else f"{run[0]}{EN_DASH}{run[-1]}" for run in parts)


def _row_label(row: Row) -> str:
    notes = []
    if row.remap:
        notes.append(f"runs the {row.remap} runbook")
    if row.metric_filter:
        notes.append(f"metric filter `{row.metric_filter}`")
    notes.extend(f"`{k}`: {describe_value(v)}" for k, v in row.overrides.items())
    return row.control_id + (f" ({'; '.join(notes)})" if notes else "")


def _aws_owned_text(names: list[str]) -> str:
    if not names:
        return ""
    documents = ", ".join(f"`AWS-{n}`" for n in names)
    return f", and the AWS-owned document{'s' if len(names) > 1 else ''} {documents}, read from AWS's description"


def render(effects: Mapping[str, Effect] | None = None) -> str:
    """The Markdown of ``docs/remediations.md``."""
    effects = load_effects() if effects is None else effects
    all_groups = groups()
    stds = [s for s in data.standards() if not s.consolidated]
    labels = standard_labels()
    services = list(dict.fromkeys(g.service for g in all_groups))
    controls = sum(len(g.rows) for g in all_groups)
    per_standard = sum(len(s.entries) for s in stds)
    aws_owned = sorted(n for n, r in data.remediations().items() if not r.document.startswith(solution.DOCUMENT_PREFIX))

    out = [
        "# Remediations and their side effects",
        "",
        "<!-- Generated from remediation_runbooks/effects/effects.yaml and playbooks/ by",
        f"     {COMMAND}",
        "     Do not edit: tests/test_remediation_docs.py fails when this page and the data differ. -->",
        "",
        f"Every consolidated Security Hub control a playbook remediates ({controls} controls, {len(services)} "
        f"services), the remediation runbook it runs, what that runbook changes, and the **collateral** "
        f"the control itself demands: what turning its remediation on (by AutoTrigger rule or the "
        f"custom action) can break or cost. Read the collateral of a control before you automate it.",
        "",
        f"{len(effects)} remediations are described: the `ASR-` runbooks of this repository, read from "
        f"their documents and scripts{_aws_owned_text(aws_owned)}. Each table lists the per-standard controls "
        f"({per_standard} in all) that are the same consolidated control: their findings run the same "
        f"remediation. Parameters are those the control runbook passes; a control parameter of the "
        f"finding (set on the control in Security Hub) overrides its default.",
        "",
        "| Label | Playbook | Findings |",
        "|---|---|---|",
        *(f"| {labels[s.key]} | {s.title} | `{s.long_name}` {s.version} |" for s in stds),
        "",
        "Services: " + " · ".join(f"[{s}](#{s.lower()})" for s in services),
        "",
    ]
    for service in services:
        mine = [g for g in all_groups if g.service == service]
        out += [
            f"## {service}",
            "",
            "| Control | Runbook | Per-standard controls |",
            "|---|---|---|",
        ]
        for group in mine:
            for row in group.rows:
                related = " · ".join(row.related) or "—"
                out.append(f"| {_cell(_row_label(row))} | `{group.remediation.document}` | {_cell(related)} |")
        out.append("")
        for group in mine:
            out += _group_section(group, effects)
    shown = {g.remediation.name for g in all_groups} | {p.remediation for g in all_groups for p in g.remediation.pre}
    others = sorted(set(effects) - shown)
    if others:
        out += [
            "## Runbooks no control runs directly",
            "",
            "Other runbooks start these; their effects are part of the remediation that runs them.",
            "",
        ]
        for name in others:
            out += [
                f"### `{solution.remediation_document(name)}`",
                "",
                f"**Changes.** {effects[name].changes}",
                "",
                f"**Collateral.** {effects[name].collateral}",
                "",
            ]
    return "\n".join(out).rstrip("\n") + "\n"


def _group_section(group: Group, effects: Mapping[str, Effect]) -> list[str]:
    rem = group.remediation
    effect = effects[rem.name]
    out = [
        f"### {_id_ranges(r.control_id for r in group.rows)}: `{rem.document}`",
        "",
    ]
    for pre in rem.pre:
        pre_effect = effects[pre.remediation]
        out += [
            f"**Runs first: `{solution.remediation_document(pre.remediation)}`.** {pre_effect.changes}",
            "",
            f"*Collateral:* {pre_effect.collateral}",
            "",
        ]
        items = describe_params(pre.params)
        if items:
            out += [f"*Parameters:* {'; '.join(items)}.", ""]
    out += [
        f"**Changes.** {effect.changes}",
        "",
        f"**Collateral.** {effect.collateral}",
        "",
    ]
    items = describe_params(rem.params)
    if items:
        out += ["**Parameters.**", "", *(f"- {item}" for item in items), ""]
    return out


def main(argv: list[str] | None = None) -> int:
    if argv:
        print(f"usage: {COMMAND}", file=sys.stderr)
        return 2
    try:
        text = render()
    except (EffectsError, data.PlaybookError, mapping.MappingError) as err:
        print(f"asr.remediation_docs: {err}", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
