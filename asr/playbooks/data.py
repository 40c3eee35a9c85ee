"""Read the playbook data (``playbooks/``).

Plain Python, no CDK: the stacks, the control-runbook generator, the simulator and
the tests all read the standards through this module.

* ``playbooks/<KEY>.yaml`` -- a standard's identity and its control entries;
* ``playbooks/remediations.yaml`` -- what a control runbook passes to each
  remediation (resource-id regex and parameter, extra parameters, finding note),
  shared by every standard;
* ``playbooks/regexes.yaml`` -- the resource-id regex registry, with examples;
* ``playbooks/metric_filters.yaml`` -- the CIS monitoring metric filters.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from asr import solution

PLAYBOOK_DIR = Path(__file__).resolve().parent.parent.parent / "playbooks"
SCRIPT_DIR = PLAYBOOK_DIR / "scripts"

#: Order in which the standards appear in parameters, nested stacks and docs.
STANDARD_KEYS = ("SC", "AFSBP", "CIS120", "CIS140", "CIS300", "NIST80053", "PCI321")
SCOPES = ("regional", "global")

#: Tokens of ``playbooks/regexes.yaml`` patterns. The patterns are compiled ``re.ASCII`` and used
#: with ``fullmatch`` (here and by ParseInput): a Unicode digit ("\u0661") or a trailing newline in a
#: finding's resource id never matches.
REGEX_TOKENS = {
    "{P}": "(?:aws|aws-cn|aws-us-gov)",
    "{R}": r"[a-z]{2}(?:-gov)?-[a-z]+-[0-9]",
    "{A}": r"[0-9]{12}",
}


class PlaybookError(ValueError):
    """A playbook data file is malformed."""


def _load(name: str) -> Any:
    path = PLAYBOOK_DIR / name
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlaybookError(f"playbooks/{name}: file not found") from None
    except yaml.YAMLError as err:
        raise PlaybookError(f"playbooks/{name}: invalid YAML: {err}") from None


# --- regex registry ---------------------------------------------------------------


@dataclass(frozen=True)
class ResourceRegex:
    name: str
    pattern: str  # tokens expanded
    group: int
    valid: dict[str, str]
    invalid: tuple[str, ...]

    @property
    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.ASCII)

    def extract(self, resource_id: str) -> str | None:
        match = self.compiled.fullmatch(resource_id)
        return match.group(self.group) if match else None


def expand_pattern(pattern: str) -> str:
    for token, value in REGEX_TOKENS.items():
        pattern = pattern.replace(token, value)
    return pattern


@functools.cache
def regexes() -> dict[str, ResourceRegex]:
    raw = _load("regexes.yaml")
    out = {}
    for name, spec in raw.items():
        where = f"playbooks/regexes.yaml {name}"
        if not isinstance(spec, dict) or not spec.get("pattern") or not spec.get("valid") or not spec.get("invalid"):
            raise PlaybookError(f"{where}: needs pattern, valid and invalid examples")
        pattern = expand_pattern(spec["pattern"])
        try:
            compiled = re.compile(pattern, re.ASCII)
        except re.error as err:
            raise PlaybookError(f"{where}: pattern does not compile: {err}") from None
        group = int(spec.get("group", 0))
        if group > compiled.groups:
            raise PlaybookError(f"{where}: group {group} but the pattern has {compiled.groups}")
        out[name] = ResourceRegex(
            name, pattern, group, {str(k): str(v) for k, v in spec["valid"].items()}, tuple(spec["invalid"])
        )
    return out


# --- metric filters -----------------------------------------------------------------


@functools.cache
def metric_filters() -> dict[str, dict[str, str]]:
    """kind -> the CreateLogMetricFilterAndAlarm values (FilterName, FilterPattern, ...)."""
    out = {}
    for kind, spec in _load("metric_filters.yaml").items():
        if not spec.get("name") or not spec.get("pattern") or not spec.get("description"):
            raise PlaybookError(f"playbooks/metric_filters.yaml {kind}: needs name, pattern and description")
        out[kind] = {
            "FilterName": spec.get("filter_name", spec["name"]),
            "FilterPattern": spec["pattern"],
            "MetricName": spec.get("metric_name", spec["name"]),
            "AlarmName": spec.get("alarm_name", spec["name"]),
            "AlarmDesc": spec["description"],
        }
    return out


# --- remediations -------------------------------------------------------------------


@dataclass(frozen=True)
class PreStep:
    remediation: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Remediation:
    name: str  # role SO0111-<name>-<ns>
    document: str  # ASR-<name> or AWS-<name>
    regex: ResourceRegex
    group: int
    param: str | None  # parameter receiving the resource id
    is_list: bool
    params: dict[str, Any]
    pre: tuple[PreStep, ...]
    note: str


_REMEDIATION_KEYS = {"document", "regex", "group", "param", "list", "params", "pre", "note"}


@functools.cache
def remediations() -> dict[str, Remediation]:
    registry = regexes()
    out = {}
    for name, spec in _load("remediations.yaml").items():
        where = f"playbooks/remediations.yaml {name}"
        unknown = set(spec) - _REMEDIATION_KEYS
        if unknown:
            raise PlaybookError(f"{where}: unknown keys {sorted(unknown)}")
        if spec.get("regex") not in registry:
            raise PlaybookError(f"{where}: regex {spec.get('regex')!r} is not in playbooks/regexes.yaml")
        if not spec.get("note"):
            raise PlaybookError(f"{where}: needs a note (the finding note on success)")
        regex = registry[spec["regex"]]
        document = spec.get("document") or solution.remediation_document(name)
        if not (document.startswith(solution.DOCUMENT_PREFIX) or document in solution.AWS_OWNED_DOCUMENTS):
            raise PlaybookError(f"{where}: document {document!r} is neither ASR-* nor a known AWS-owned document")
        pre = tuple(PreStep(p["remediation"], dict(p.get("params") or {})) for p in spec.get("pre") or ())
        out[name] = Remediation(
            name=name,
            document=document,
            regex=regex,
            group=int(spec.get("group", regex.group)),
            param=spec.get("param"),
            is_list=bool(spec.get("list", False)),
            params=dict(spec.get("params") or {}),
            pre=pre,
            note=spec["note"],
        )
    return out


# --- standards ------------------------------------------------------------------------


@dataclass(frozen=True)
class Control:
    """One entry of a standard's control list."""

    standard: str  # standard key
    control_id: str
    remediation: str  # remediation name (of the remap target for remapped entries)
    scope: str
    added: str
    remap: str | None = None
    metric_filter: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    note: str | None = None

    @property
    def remapped(self) -> bool:
        return self.remap is not None


@dataclass(frozen=True)
class Standard:
    key: str  # template / parameter key: SC, AFSBP, CIS120 ...
    short_name: str  # document / rule / SSM prefix: SC, AFSBP, CIS, PCI, NIST80053R5
    long_name: str  # as it appears in findings
    version: str
    title: str
    generator_id: str
    controls: tuple[dict[str, Any], ...] = field(default=(), repr=False)  # raw entries
    entries: tuple[Control, ...] = field(default=(), repr=False)

    def control_runbook(self, control_id: str) -> str:
        return solution.control_runbook(self.short_name, self.version, control_id)

    def own(self) -> list[Control]:
        """Entries with their own control runbook (not remapped)."""
        return [c for c in self.entries if not c.remapped]

    def remaps(self) -> list[Control]:
        return [c for c in self.entries if c.remapped]

    def control(self, control_id: str) -> Control:
        for c in self.entries:
            if c.control_id == control_id:
                return c
        raise KeyError(f"{self.key} has no control {control_id!r}")

    def expected_controls(self, control: Control) -> list[str]:
        """Control ids the runbook of ``control`` accepts: itself and every control remapped onto it."""
        return [control.control_id] + [c.control_id for c in self.entries if c.remap == control.control_id]

    def generator(self, control_id: str, partition: str = "aws") -> str:
        """The GeneratorId of this standard's findings of ``control_id``."""
        return self.generator_id.format(control=control_id, partition=partition)

    @property
    def consolidated(self) -> bool:
        return self.long_name == "security-control"


_REQUIRED = ("key", "short_name", "long_name", "version", "title", "generator_id")
_ENTRY_KEYS = {"id", "remediation", "scope", "added", "remap", "metric_filter", "params", "note"}


def _entries(key: str, raw: list[dict[str, Any]]) -> tuple[Control, ...]:
    known = remediations()
    filters = metric_filters()
    by_id: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(raw):
        where = f"playbooks/{key}.yaml controls[{i}]"
        if not isinstance(entry, dict) or not entry.get("id"):
            raise PlaybookError(f"{where}: needs an id")
        unknown = set(entry) - _ENTRY_KEYS
        if unknown:
            raise PlaybookError(f"{where} ({entry['id']}): unknown keys {sorted(unknown)}")
        if str(entry["id"]) in by_id:
            raise PlaybookError(f"{where}: control {entry['id']} listed twice")
        if not re.fullmatch(r"v\d+\.\d+\.\d+", str(entry.get("added", ""))):
            raise PlaybookError(f"{where} ({entry['id']}): added {entry.get('added')!r} is not vX.Y.Z")
        if entry.get("metric_filter") and entry["metric_filter"] not in filters:
            raise PlaybookError(f"{where} ({entry['id']}): unknown metric_filter {entry['metric_filter']!r}")
        by_id[str(entry["id"])] = entry
    out = []
    for cid, entry in by_id.items():
        where = f"playbooks/{key}.yaml {cid}"
        remap = entry.get("remap")
        if remap is not None:
            target = by_id.get(str(remap))
            if target is None or target.get("remap"):
                raise PlaybookError(f"{where}: remap target {remap!r} is not an own control of {key}")
            if "remediation" in entry or "params" in entry:
                raise PlaybookError(f"{where}: a remapped control takes its remediation from {remap}")
            remediation, scope = target["remediation"], target["scope"]
        else:
            remediation, scope = entry.get("remediation"), entry.get("scope")
            if remediation not in known:
                raise PlaybookError(f"{where}: remediation {remediation!r} is not in playbooks/remediations.yaml")
            if scope not in SCOPES:
                raise PlaybookError(f"{where}: scope {scope!r} is not one of {SCOPES}")
        out.append(
            Control(
                standard=key,
                control_id=cid,
                remediation=remediation,
                scope=scope,
                added=str(entry["added"]),
                remap=None if remap is None else str(remap),
                metric_filter=entry.get("metric_filter"),
                params=dict(entry.get("params") or {}),
                note=entry.get("note"),
            )
        )
    # A runbook serving metric-filter controls needs the filter of every control it accepts.
    for c in out:
        rem = known[c.remediation]
        if "{filter:" in str(rem.params) and not c.metric_filter:
            raise PlaybookError(f"playbooks/{key}.yaml {c.control_id}: {c.remediation} needs a metric_filter")
    return tuple(out)


@functools.cache
def load_standard(key: str) -> Standard:
    raw = _load(f"{key}.yaml")
    missing = [k for k in _REQUIRED if not raw.get(k)]
    if missing:
        raise PlaybookError(f"playbooks/{key}.yaml: missing {', '.join(missing)}")
    if raw["key"] != key:
        raise PlaybookError(f"playbooks/{key}.yaml: key is {raw['key']!r}, expected {key!r}")
    if not re.fullmatch(r"\d+\.\d+\.\d+", str(raw["version"])):
        raise PlaybookError(f"playbooks/{key}.yaml: version {raw['version']!r} is not x.y.z")
    controls = tuple(raw.get("controls") or ())
    return Standard(
        key=key,
        short_name=raw["short_name"],
        long_name=raw["long_name"],
        version=str(raw["version"]),
        title=raw["title"],
        generator_id=raw["generator_id"],
        controls=controls,
        entries=_entries(key, list(controls)),
    )


def standards() -> list[Standard]:
    return [load_standard(k) for k in STANDARD_KEYS]
