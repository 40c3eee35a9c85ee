"""The remediation policy document: read, validate, normalize.

A policy is YAML (or JSON), ``version: 1``, validated by ``asr/policy/schema.json`` (JSON
Schema draft 2020-12), then by the checks a schema cannot make (control ids known and
mapped, RFC 3339 timestamps, durations, exactly one target per exemption, duplicate control
keys after mapping). Every error is a ``PolicyError`` naming the JSON path and the value
(bounded by ``asr.limits.shown``), never another exception.

The reader is strict where YAML is lenient: a mapping key twice, anchors and aliases (a
"billion laughs" document expands exponentially), nesting deeper than ``MAX_DEPTH``, non-string
keys and YAML-only types (timestamps stay strings, ``!!binary`` is refused) are errors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
import hashlib
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asr import limits

if TYPE_CHECKING:  # PyYAML and jsonschema are imported where used: the orchestrator Lambda's zip
    import jsonschema  # has neither, and reads the compiled JSON only (Policy.from_json)
    import yaml

SCHEMA_PATH = Path(__file__).with_name("schema.json")
VERSION = 1

#: Size cap of a policy document. The store is one S3 object (asr/policy/store.py), whose own
#: limit (5 TB) bounds nothing useful; what bounds it is the reader: the orchestrator Lambda
#: reads and parses the whole policy on a cold start, and a decision carries paths into it. 256
#: KiB is the Step Functions payload limit (asr.limits.SFN_PAYLOAD_BYTES), so the policy could
#: travel whole through the state machine; a policy for all 105 controls with a hundred
#: exemptions each is about a tenth of it.
MAX_DOCUMENT_BYTES = limits.SFN_PAYLOAD_BYTES
#: Nesting the schema needs is 7 levels (controls.X.scope.include.tags[0].key); 32 is generous.
MAX_DEPTH = 32
#: Longest value an error message shows.
SHOWN_CHARS = 120
#: Most problems listed in one error message (all are kept on the exception).
SHOWN_ISSUES = 20

MODES = ("auto", "manual", "dry-run")
RETRY_OUTCOMES = ("FAILED", "TIMEDOUT")
MAX_DEADLINE_SECONDS = 365 * 86400

ACCOUNT_RE = re.compile(r"[0-9]{12}", re.ASCII)
OU_RE = re.compile(r"ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32}", re.ASCII)
REGION_RE = re.compile(r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}", re.ASCII)
_RFC3339 = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ](?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})(?P<frac>\.[0-9]+)?"
    r"(?P<zone>[Zz]|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)
_DURATION = re.compile(r"(?:(?P<d>[0-9]+)d)?(?:(?P<h>[0-9]+)h)?(?:(?P<m>[0-9]+)m)?(?:(?P<s>[0-9]+)s)?", re.ASCII)
_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*", re.ASCII)


# --- errors ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    path: str  # JSON path in the document: controls.S3.2.exemptions[0].expires
    value: Any
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.problem} (got {limits.shown(self.value, SHOWN_CHARS)})"


class PolicyError(ValueError):
    """A policy that cannot be used; every issue names the path and the value."""

    def __init__(self, issues: list[Issue], source: str = "policy") -> None:
        self.issues = issues or [Issue("(document)", None, "is not a policy")]
        self.source = source
        first = self.issues[0]
        self.path, self.value = first.path, first.value
        lines = [str(i) for i in self.issues[:SHOWN_ISSUES]]
        if len(self.issues) > SHOWN_ISSUES:
            lines.append(f"... and {len(self.issues) - SHOWN_ISSUES} more")
        head = f"{source}: " if len(lines) == 1 else f"{source}: {len(self.issues)} problems:\n  "
        super().__init__(head + "\n  ".join(lines))


def _error(path: str, value: Any, problem: str, source: str = "policy") -> PolicyError:
    return PolicyError([Issue(path, value, problem)], source)


# --- paths -------------------------------------------------------------------------------


def child(path: str, key: str | int) -> str:
    """``path`` + ``key``: ``.key`` for plain keys (dots allowed: controls.S3.2), ``["key"]``
    for others, ``[n]`` for list items."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _SIMPLE_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    quoted = json.dumps(limits.clean(key), ensure_ascii=False)
    return f"{path}[{quoted}]"


def _join(parts: Any) -> str:
    path = ""
    for part in parts:
        path = child(path, part)
    return path or "(document)"


# --- reading YAML, strictly ----------------------------------------------------------------


_BOOL = "tag:yaml.org,2002:bool"


@functools.cache
def _loader_class() -> type:
    """SafeLoader with YAML 1.2 booleans and no timestamp type: ``expires`` stays the text
    written, and ``on``/``off``/``yes``/``no`` stay strings (YAML 1.1 would make the retries key
    ``on`` a boolean, and a Region or tag value ``no`` false). Built on first use (lazy PyYAML)."""
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:timestamp", _BOOL)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
    return _Loader


def _mark(node_or_event: Any) -> str:
    mark = getattr(node_or_event, "start_mark", None)
    return f"line {mark.line + 1} column {mark.column + 1}" if mark is not None else "(document)"


def read_text(data: bytes | str, source: str = "policy") -> str:
    """The document's text: UTF-8, within MAX_DOCUMENT_BYTES."""
    size = len(data) if isinstance(data, bytes) else limits.utf8_len(data)
    if size > MAX_DOCUMENT_BYTES:
        raise _error("(document)", f"{size} bytes", f"is larger than {MAX_DOCUMENT_BYTES} bytes", source)
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise _error(
                f"(document) byte {err.start}", data[err.start : err.start + 8], "is not UTF-8", source
            ) from None
    else:
        text = data
        if limits.clean(text) is not text:
            raise _error("(document)", text[:40], "holds a lone surrogate: not UTF-8 text", source)
    return text.removeprefix("\ufeff")


def _scan(text: str, source: str) -> None:
    """Refuse anchors, aliases and deep nesting before anything recursive runs."""
    import yaml

    depth = 0
    for event in yaml.parse(text, Loader=_loader_class()):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _error(
                _mark(event), getattr(event, "anchor", None), "uses a YAML anchor or alias (not allowed)", source
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _error(_mark(event), f"depth {depth}", f"nests deeper than {MAX_DEPTH} levels", source)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _build(loader: Any, node: yaml.Node, path: str, source: str) -> Any:
    import yaml

    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _build(loader, key_node, path, source)
            if not isinstance(key, str):
                raise _error(
                    path or "(document)", key, f"has a key that is not a string at {_mark(key_node)} (quote it)", source
                )
            if key in out:
                raise _error(child(path, key), key, f"is given twice (again at {_mark(key_node)})", source)
            out[key] = _build(loader, value_node, child(path, key), source)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, child(path, i), source) for i, item in enumerate(node.value)]
    value = loader.construct_object(node, deep=True)
    where = path or "(document)"
    if isinstance(value, float) and not math.isfinite(value):
        raise _error(where, value, "is not a finite number", source)
    if value is not None and not isinstance(value, str | int | float | bool):
        raise _error(where, value, f"is a YAML {type(value).__name__}, not a JSON value", source)
    return value


def parse_yaml(data: bytes | str, source: str = "policy") -> Any:
    """The document as JSON values, or PolicyError (naming line and column for YAML errors)."""
    import yaml

    text = read_text(data, source)
    try:
        _scan(text, source)
        loader = _loader_class()(text)
        try:
            root = loader.get_single_node()
            return None if root is None else _build(loader, root, "", source)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else "(document)"
        snippet = text.splitlines()[mark.line][:60] if mark and mark.line < len(text.splitlines()) else ""
        raise _error(where, snippet, f"is not valid YAML: {err.problem or err.context}", source) from None
    except yaml.YAMLError as err:
        raise _error("(document)", str(err)[:80], "is not valid YAML", source) from None
    except RecursionError:
        raise _error("(document)", "nesting", f"nests deeper than {MAX_DEPTH} levels", source) from None


# --- schema --------------------------------------------------------------------------------


@functools.cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    import jsonschema

    cls = jsonschema.validators.validator_for(schema())
    cls.check_schema(schema())
    return cls(schema())


def _schema_issues(document: Any) -> list[Issue]:
    issues = []
    for err in _validator().iter_errors(document):
        path = list(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set(err.schema.get("properties", {}))
            for extra in sorted(k for k in err.instance if k not in allowed):
                hint = difflib.get_close_matches(extra, sorted(allowed), n=1)
                known = f"did you mean {hint[0]!r}?" if hint else f"known keys: {', '.join(sorted(allowed))}"
                issues.append(Issue(_join([*path, extra]), extra, f"is not a known key ({known})"))
            continue
        if err.validator == "required" and isinstance(err.instance, dict):
            for name in err.validator_value:
                if name not in err.instance:
                    issues.append(Issue(_join([*path, name]), None, "is required"))
            continue
        if err.validator == "anyOf":  # a tag: say what a tag may be, not every branch's complaint
            issues.append(Issue(_join(path), err.instance, "must be 'key', 'key=value' or {key, value}"))
            continue
        message = err.message
        shown = limits.shown(err.instance, 40)
        message = message.replace(repr(err.instance), shown) if len(repr(err.instance)) > 40 else message
        issues.append(Issue(_join(path), err.instance, limits.truncate_chars(message, 300)))
    issues.sort(key=lambda i: i.path)
    return issues


# --- the policy ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TagRule:
    key: str
    value: str | None  # None: any value
    path: str

    def matches(self, tags: Mapping[str, str]) -> bool:
        return self.key in tags and (self.value is None or tags[self.key] == self.value)

    def to_json(self) -> dict[str, str]:
        return {"key": self.key} if self.value is None else {"key": self.key, "value": self.value}

    def __str__(self) -> str:
        return self.key if self.value is None else f"{self.key}={self.value}"


@functools.lru_cache(maxsize=4096)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """An ARN pattern as an anchored regex: ``*`` any run (also across ``:`` and ``/``), ``?``
    one character, everything else literal. IAM uses the same two wildcards in resource ARNs
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html);
    unlike IAM, ``*`` is not limited to one segment."""
    parts = [".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern]
    return re.compile("".join(parts), re.DOTALL)


@dataclass(frozen=True)
class Selector:
    accounts: tuple[str, ...] = ()
    ous: tuple[str, ...] = ()
    tags: tuple[TagRule, ...] = ()
    resources: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    path: str = ""

    KINDS = ("accounts", "ous", "tags", "resources", "regions")

    def kinds(self) -> list[str]:
        return [k for k in self.KINDS if getattr(self, k)]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for kind in self.kinds():
            values = getattr(self, kind)
            out[kind] = [t.to_json() for t in values] if kind == "tags" else list(values)
        return out


@dataclass(frozen=True)
class Scope:
    include: Selector | None = None
    exclude: Selector | None = None
    path: str = ""

    @property
    def uses_ous(self) -> bool:
        return any(s is not None and s.ous for s in (self.include, self.exclude))

    @property
    def uses_tags(self) -> bool:
        return any(s is not None and s.tags for s in (self.include, self.exclude))

    def to_json(self) -> dict[str, Any]:
        out = {}
        if self.include is not None:
            out["include"] = self.include.to_json()
        if self.exclude is not None:
            out["exclude"] = self.exclude.to_json()
        return out


@dataclass(frozen=True)
class Exemption:
    kind: str  # resource | resource_pattern | tag
    target: str | TagRule
    reason: str
    owner: str
    expires: dt.datetime  # aware, UTC
    path: str

    def expired(self, now: dt.datetime) -> bool:
        return now >= self.expires

    def describe(self) -> str:
        return f"{self.kind.replace('_', ' ')} {self.target}"

    def to_json(self) -> dict[str, Any]:
        target = self.target.to_json() if isinstance(self.target, TagRule) else self.target
        return {
            self.kind: target,
            "reason": self.reason,
            "owner": self.owner,
            "expires": format_time(self.expires),
        }


@dataclass(frozen=True)
class Retries:
    attempts: int = 1
    backoff_seconds: int = 60
    on: tuple[str, ...] = RETRY_OUTCOMES
    cap_per_account_region: int = 10

    MAX_DELAY_SECONDS = 86400

    def delay_before(self, attempt: int) -> int:
        """Seconds to wait before attempt ``attempt`` (2 is the first retry)."""
        if attempt < 2:
            return 0
        return min(self.backoff_seconds * 2 ** min(attempt - 2, 32), self.MAX_DELAY_SECONDS)

    def to_json(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "backoff_seconds": self.backoff_seconds,
            "on": list(self.on),
            "cap_per_account_region": self.cap_per_account_region,
        }


#: The defaults: ASR without a policy (everything enabled, triggers as configured, no
#: exemption, no retry, no deadline).
DEFAULT_ENABLED = True
DEFAULT_MODE = "auto"
DEFAULT_OVERRIDE = False
DEFAULT_RETRIES = Retries()


@dataclass(frozen=True)
class Rules:
    """Settings as written at one place (global or a control); None: not given there."""

    path: str
    enabled: bool | None = None
    mode: str | None = None
    scope: Scope | None = None
    exemptions: tuple[Exemption, ...] = ()
    allow_manual_override: bool | None = None
    retries: Retries | None = None
    deadline_seconds: int | None = None
    deadline_set: bool = False  # deadline given (null included)

    def to_json(self, *, with_defaults: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {}

        def put(name: str, value: Any, default: Any) -> None:
            if value is not None:
                out[name] = value
            elif with_defaults:
                out[name] = default

        put("enabled", self.enabled, DEFAULT_ENABLED)
        put("mode", self.mode, DEFAULT_MODE)
        if self.scope is not None and self.scope.to_json():
            out["scope"] = self.scope.to_json()
        elif with_defaults:
            out["scope"] = {}
        if self.exemptions or with_defaults:
            out["exemptions"] = [e.to_json() for e in self.exemptions]
        put("allow_manual_override", self.allow_manual_override, DEFAULT_OVERRIDE)
        put("retries", self.retries.to_json() if self.retries else None, DEFAULT_RETRIES.to_json())
        if self.deadline_set or with_defaults:
            out["deadline"] = format_duration(self.deadline_seconds)
        return out


@dataclass(frozen=True)
class ControlRules:
    control: str  # consolidated id
    key: str  # as written in the document
    rules: Rules


@dataclass(frozen=True)
class PolicyWarning:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class Policy:
    version: int
    global_rules: Rules
    controls: dict[str, ControlRules]
    sha256: str  # of the document's bytes (what the store keeps), "default" for no policy
    source: str = "policy"
    description: str | None = None
    warnings: tuple[PolicyWarning, ...] = ()
    revision: str | None = None  # the store's object version id, when read from it
    mapped: dict[str, str] = field(default_factory=dict)  # key as written -> consolidated id, where they differ

    def to_json(self) -> dict[str, Any]:
        """The normalized document: global with every default, controls by consolidated id."""
        out: dict[str, Any] = {"version": self.version}
        if self.description is not None:
            out["description"] = self.description
        out["global"] = self.global_rules.to_json(with_defaults=True)
        out["controls"] = {cid: self.controls[cid].rules.to_json() for cid in sorted(self.controls, key=_control_sort)}
        return out

    @classmethod
    def from_json(
        cls,
        document: Any,
        *,
        sha256: str,
        source: str = "policy",
        revision: str | None = None,
        keys: Mapping[str, str] | None = None,
    ) -> Policy:
        """The Policy of a normalized document (``to_json()``), with the standard library only: what
        the orchestrator Lambda reads (no PyYAML, no jsonschema in its zip). The document was
        validated when it was compiled (``asr policy apply``); a document of the wrong shape is a
        PolicyError naming the path, never another exception. ``keys``: consolidated id -> the
        ``controls`` key as written, so that rule paths name the YAML's keys."""
        keys = keys or {}
        issues = _normalized_issues(document)
        if issues:
            raise PolicyError(issues, source)
        if not isinstance(document, dict) or document.get("version") != VERSION:
            got = document.get("version") if isinstance(document, dict) else document
            raise _error("version", got, f"must be {VERSION} (a normalized policy document)", source)
        if not isinstance(document.get("global", {}), dict) or not isinstance(document.get("controls", {}), dict):
            raise _error("(document)", document, "needs global and controls mappings", source)
        warnings: list[PolicyWarning] = []
        path = "global"
        try:
            global_rules = _rules(document.get("global", {}), path, warnings)
            controls = {}
            for cid, raw in document.get("controls", {}).items():
                key = keys.get(cid, cid)
                path = child("controls", key)
                if not isinstance(raw, dict):
                    raise _error(path, raw, "must be a mapping", source)
                controls[cid] = ControlRules(cid, key, _rules(raw, path, warnings))
        except PolicyError as err:
            raise PolicyError(err.issues, source) from None
        except (AttributeError, KeyError, TypeError, ValueError) as err:
            raise _error(path, type(err).__name__, f"is not a normalized policy section ({err})", source) from None
        return cls(
            version=VERSION,
            global_rules=global_rules,
            controls=controls,
            sha256=sha256,
            source=source,
            description=document.get("description"),
            revision=revision,
            mapped={k: c for c, k in keys.items() if k != c and c in controls},
        )

    def exemptions(self) -> Iterator[Exemption]:
        yield from self.global_rules.exemptions
        for control in self.controls.values():
            yield from control.rules.exemptions


def _normalized_issues(document: Any) -> list[Issue]:
    """The types and ranges of a normalized document (``Policy.to_json()``), checked with the
    standard library: what ``from_json`` reads in the orchestrator, where jsonschema is not. The
    values' own rules (ids, timestamps, durations, tags) are then checked by ``_rules``."""
    issues: list[Issue] = []

    def bad(path: str, value: Any, problem: str) -> None:
        issues.append(Issue(path or "(document)", value, problem))

    def is_int(value: Any, low: int, high: int) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high

    def strings(path: str, value: Any) -> None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            bad(path, value, "must be a list of strings")

    def tag(path: str, value: Any) -> None:
        if not (
            isinstance(value, dict)
            and set(value) <= {"key", "value"}
            and isinstance(value.get("key"), str)
            and isinstance(value.get("value", ""), str)
        ):
            bad(path, value, "must be {key, value} strings")

    def known(path: str, value: Any, names: tuple[str, ...]) -> bool:
        if not isinstance(value, dict):
            bad(path, value, "must be a mapping")
            return False
        for extra in sorted(set(value) - set(names)):
            bad(child(path, extra), extra, f"is not a known key (known keys: {', '.join(names)})")
        return True

    def selector(path: str, value: Any) -> None:
        if not known(path, value, Selector.KINDS):
            return
        for kind, items in value.items():
            if kind == "tags" and isinstance(items, list):
                for i, t in enumerate(items):
                    tag(child(child(path, kind), i), t)
            elif kind in Selector.KINDS:
                strings(child(path, kind), items)

    def rules(path: str, value: Any) -> None:
        names = ("enabled", "mode", "scope", "exemptions", "allow_manual_override", "retries", "deadline")
        if not known(path, value, names):
            return
        for name in ("enabled", "allow_manual_override"):
            if name in value and not isinstance(value[name], bool):
                bad(child(path, name), value[name], "must be true or false")
        if "mode" in value and value["mode"] not in MODES:
            bad(child(path, "mode"), value["mode"], f"must be one of {', '.join(MODES)}")
        if "deadline" in value and not (value["deadline"] is None or isinstance(value["deadline"], str)):
            bad(child(path, "deadline"), value["deadline"], "must be a duration or null")
        if "scope" in value and known(child(path, "scope"), value["scope"], ("include", "exclude")):
            for side, sel in value["scope"].items():
                if side in ("include", "exclude"):
                    selector(child(child(path, "scope"), side), sel)
        if "exemptions" in value:
            if not isinstance(value["exemptions"], list):
                bad(child(path, "exemptions"), value["exemptions"], "must be a list")
            else:
                for i, e in enumerate(value["exemptions"]):
                    where = child(child(path, "exemptions"), i)
                    if not known(where, e, ("resource", "resource_pattern", "tag", "reason", "owner", "expires")):
                        continue
                    for name in ("resource", "resource_pattern", "reason", "owner", "expires"):
                        if name in e and not isinstance(e[name], str):
                            bad(child(where, name), e[name], "must be a string")
                    if "tag" in e:
                        tag(child(where, "tag"), e["tag"])
        if "retries" in value:
            where = child(path, "retries")
            names = ("attempts", "backoff_seconds", "on", "cap_per_account_region")
            if known(where, value["retries"], names):
                r = value["retries"]
                for name, low, high in (("attempts", 1, 10), ("backoff_seconds", 1, 86400)):
                    if name in r and not is_int(r[name], low, high):
                        bad(child(where, name), r[name], f"must be a whole number {low}..{high}")
                if "cap_per_account_region" in r and not is_int(r["cap_per_account_region"], 1, 1000):
                    bad(child(where, "cap_per_account_region"), r["cap_per_account_region"], "must be 1..1000")
                if "on" in r and not (isinstance(r["on"], list) and r["on"] and set(r["on"]) <= set(RETRY_OUTCOMES)):
                    bad(child(where, "on"), r["on"], f"must list some of {', '.join(RETRY_OUTCOMES)}")

    if not known("", document, ("version", "description", "global", "controls")):
        return issues
    if document.get("version") != VERSION:
        bad("version", document.get("version"), f"must be {VERSION}")
    if not isinstance(document.get("description", ""), str | None):
        bad("description", document["description"], "must be a string")
    rules("global", document.get("global", {}))
    controls = document.get("controls", {})
    if known("controls", controls, tuple(controls) if isinstance(controls, dict) else ()):
        for cid, raw in controls.items():
            rules(child("controls", cid), raw)
    return issues


def _control_sort(control_id: str) -> tuple[Any, ...]:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.-]", control_id))


def default_policy() -> Policy:
    """No policy: what ASR does today."""
    return Policy(VERSION, Rules("global"), {}, "default", source="(no policy)")


# --- values --------------------------------------------------------------------------------


def parse_time(text: str, path: str, source: str = "policy") -> dt.datetime:
    """An RFC 3339 timestamp with its zone, as an aware UTC datetime."""
    match = _RFC3339.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise _error(path, text, "is not an RFC 3339 timestamp with its zone (2026-06-30T00:00:00Z)", source)
    frac = (match["frac"] or "")[:7].ljust(7, "0")[1:7] if match["frac"] else ""
    zone = "+00:00" if match["zone"] in "Zz" else match["zone"]
    iso = f"{match['date']}T{match['time']}{'.' + frac if frac else ''}{zone}"
    try:
        value = dt.datetime.fromisoformat(iso)
    except ValueError as err:
        raise _error(path, text, f"is not a valid date and time ({err})", source) from None
    return value.astimezone(dt.UTC)


def format_time(value: dt.datetime) -> str:
    text = value.astimezone(dt.UTC).isoformat()
    return text.replace("+00:00", "Z")


def parse_duration(text: str, path: str, source: str = "policy") -> int:
    """``90m``, ``72h``, ``3d``, ``1d12h``, ``30s``: seconds, 1 s .. 365 d."""
    match = _DURATION.fullmatch(text) if text else None
    if match is None or not any(match.groupdict().values()):
        raise _error(path, text, "is not a duration such as 90m, 72h, 3d or 1d12h", source)
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    seconds = sum(int(v) * units[k] for k, v in match.groupdict().items() if v)
    if not 1 <= seconds <= MAX_DEADLINE_SECONDS:
        raise _error(path, text, "must be between 1s and 365d", source)
    return seconds


def format_duration(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            out += f"{count}{unit}"
    return out


def parse_tag(value: Any, path: str) -> TagRule:
    if isinstance(value, dict):
        return TagRule(value["key"], value.get("value"), path)
    key, sep, tag_value = value.partition("=")
    if not key:
        raise _error(path, value, "has no tag key before '='")
    if len(key) > 128 or len(tag_value) > 256:
        raise _error(path, value, "has a key over 128 or a value over 256 characters (AWS tag limits)")
    return TagRule(key, tag_value if sep else None, path)


# --- control ids -------------------------------------------------------------------------


@functools.cache
def _consolidated_ids() -> frozenset[str]:
    from asr.playbooks import data

    return frozenset(c.control_id for c in data.load_standard("SC").entries)


@functools.cache
def _standard_aliases() -> dict[str, tuple[str, ...]]:
    """How a per-standard prefix may be written -> playbook keys it names."""
    from asr.playbooks import data

    aliases: dict[str, list[str]] = {}
    for std in data.standards():
        for alias in {std.key, f"{std.short_name} {std.version}", f"{std.short_name}:{std.version}", std.short_name}:
            aliases.setdefault(alias.upper(), []).append(std.key)
    return {k: tuple(dict.fromkeys(v)) for k, v in aliases.items()}


def control_id(key: str, path: str, source: str = "policy") -> str:
    """The consolidated control id a ``controls`` key names (``S3.2``, ``AFSBP:S3.2``,
    ``CIS120:2.1``, ``CIS 1.2.0:2.1``)."""
    from asr.controls.mapping import security_control
    from asr.playbooks import data

    known = _consolidated_ids()
    if ":" not in key:
        if key in known:
            return key
        close = difflib.get_close_matches(key, sorted(known), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else " ('asr controls SC' lists them)"
        raise _error(path, key, f"is not a Security Hub control ASR remediates{hint}", source)
    prefix, _, control = key.rpartition(":")
    keys = _standard_aliases().get(prefix.strip().upper())
    if not keys:
        raise _error(
            path,
            key,
            f"names no playbook {prefix!r} (use one of {', '.join(data.STANDARD_KEYS)} or e.g. 'CIS 1.2.0')",
            source,
        )
    if len(keys) > 1:
        raise _error(path, key, f"{prefix!r} names several playbooks ({', '.join(keys)}): give the version", source)
    std = data.load_standard(keys[0])
    if not any(c.control_id == control for c in std.entries):
        ids = [c.control_id for c in std.entries]
        close = difflib.get_close_matches(control, ids, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f" ('asr controls {std.key}' lists them)"
        raise _error(path, key, f"is not a control of playbook {std.key}{hint}", source)
    return security_control(std.key, control)


# --- building the policy from a validated document -----------------------------------------


def _selector(raw: dict[str, Any] | None, path: str, warnings: list[PolicyWarning]) -> Selector | None:
    if raw is None:
        return None
    tags = tuple(parse_tag(t, child(child(path, "tags"), i)) for i, t in enumerate(raw.get("tags", [])))
    for kind, pattern in (("accounts", ACCOUNT_RE), ("ous", OU_RE), ("regions", REGION_RE)):
        for i, value in enumerate(raw.get(kind, [])):
            if not pattern.fullmatch(value):  # the schema's $ lets a trailing newline through
                raise _error(
                    child(child(path, kind), i), value, f"is not {'an' if kind != 'regions' else 'a'} {kind[:-1]} id"
                )
    for kind in ("accounts", "ous", "resources", "regions"):
        seen: set[str] = set()
        for i, value in enumerate(raw.get(kind, [])):
            if value in seen:
                warnings.append(PolicyWarning(child(child(path, kind), i), f"{value!r} is listed twice"))
            seen.add(value)
    return Selector(
        accounts=tuple(raw.get("accounts", [])),
        ous=tuple(raw.get("ous", [])),
        tags=tags,
        resources=tuple(raw.get("resources", [])),
        regions=tuple(raw.get("regions", [])),
        path=path,
    )


def _scope(raw: dict[str, Any] | None, path: str, warnings: list[PolicyWarning]) -> Scope | None:
    if raw is None:
        return None
    include = _selector(raw.get("include"), child(path, "include"), warnings)
    exclude = _selector(raw.get("exclude"), child(path, "exclude"), warnings)
    if include is not None and exclude is not None:
        for kind in Selector.KINDS:
            inc = {str(v) for v in getattr(include, kind)}
            for i, value in enumerate(getattr(exclude, kind)):
                if str(value) in inc:
                    warnings.append(
                        PolicyWarning(
                            child(child(exclude.path, kind), i),
                            f"{str(value)!r} is also in {child(include.path, kind)}: exclude wins (out of scope)",
                        )
                    )
    return Scope(include, exclude, path)


def _exemption(raw: dict[str, Any], path: str) -> Exemption:
    targets = [k for k in ("resource", "resource_pattern", "tag") if k in raw]
    if len(targets) != 1:
        raise _error(path, raw, "needs exactly one of resource, resource_pattern or tag")
    kind = targets[0]
    target: str | TagRule = parse_tag(raw["tag"], child(path, "tag")) if kind == "tag" else raw[kind]
    for name in ("reason", "owner"):
        if not raw[name].strip():
            raise _error(child(path, name), raw[name], "is blank")
    expires = parse_time(raw["expires"], child(path, "expires"))
    return Exemption(kind, target, raw["reason"], raw["owner"], expires, path)


def _rules(raw: dict[str, Any], path: str, warnings: list[PolicyWarning]) -> Rules:
    retries = None
    if "retries" in raw:
        r = raw["retries"]
        retries = Retries(
            attempts=r.get("attempts", DEFAULT_RETRIES.attempts),
            backoff_seconds=r.get("backoff_seconds", DEFAULT_RETRIES.backoff_seconds),
            on=tuple(o for o in RETRY_OUTCOMES if o in r.get("on", RETRY_OUTCOMES)),
            cap_per_account_region=r.get("cap_per_account_region", DEFAULT_RETRIES.cap_per_account_region),
        )
    deadline = raw.get("deadline")
    return Rules(
        path=path,
        enabled=raw.get("enabled"),
        mode=raw.get("mode"),
        scope=_scope(raw.get("scope"), child(path, "scope"), warnings),
        exemptions=tuple(
            _exemption(e, child(child(path, "exemptions"), i)) for i, e in enumerate(raw.get("exemptions", []))
        ),
        allow_manual_override=raw.get("allow_manual_override"),
        retries=retries,
        deadline_seconds=None if deadline is None else parse_duration(deadline, child(path, "deadline")),
        deadline_set="deadline" in raw,
    )


def build(document: Any, *, sha256: str, source: str = "policy", now: dt.datetime | None = None) -> Policy:
    """A Policy from parsed JSON values; PolicyError naming every problem the schema finds, then
    the first semantic one. ``now``: exemptions expired by then are warned about."""
    if document is None:
        raise _error("(document)", None, "is empty: a policy starts with 'version: 1'", source)
    if not isinstance(document, dict):
        raise _error(
            "(document)",
            document,
            f"must be a mapping (version, global, controls), not a {type(document).__name__}",
            source,
        )
    issues = _schema_issues(document)
    if issues:
        raise PolicyError(issues, source)
    warnings: list[PolicyWarning] = []
    try:
        global_rules = _rules(document.get("global", {}), "global", warnings)
        controls: dict[str, ControlRules] = {}
        mapped: dict[str, str] = {}
        for key, raw in document.get("controls", {}).items():
            path = child("controls", key)
            cid = control_id(key, path, source)
            if cid in controls:
                first = controls[cid].key
                raise _error(path, key, f"is control {cid} again (already given as {child('controls', first)})", source)
            if cid != key:
                mapped[key] = cid
            controls[cid] = ControlRules(cid, key, _rules(raw, path, warnings))
    except PolicyError as err:
        raise PolicyError(err.issues, source) from None
    policy = Policy(
        version=document["version"],
        global_rules=global_rules,
        controls=controls,
        sha256=sha256,
        source=source,
        description=document.get("description"),
        mapped=mapped,
    )
    if now is not None:
        for exemption in policy.exemptions():
            if exemption.expired(now):
                warnings.append(
                    PolicyWarning(
                        child(exemption.path, "expires"),
                        f"expired {format_time(exemption.expires)}: the exemption of {exemption.describe()} "
                        "no longer applies",
                    )
                )
    return dataclasses.replace(policy, warnings=tuple(warnings))


def loads(data: bytes | str, *, source: str = "policy", now: dt.datetime | None = None) -> Policy:
    """Read, validate and normalize a policy document (YAML or JSON)."""
    raw = data if isinstance(data, bytes) else read_text(data, source).encode("utf-8")
    document = parse_yaml(data, source)
    return build(document, sha256=hashlib.sha256(raw).hexdigest(), source=source, now=now)


def load(path: str | Path, *, now: dt.datetime | None = None) -> Policy:
    """A policy file; PolicyError naming the file when it cannot be read."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as err:
        raise _error("(document)", source, f"cannot be read: {err.strerror or err}", source) from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _error(
            "(document)", f"more than {MAX_DOCUMENT_BYTES} bytes", f"is larger than {MAX_DOCUMENT_BYTES} bytes", source
        )
    return loads(data, source=source, now=now)
