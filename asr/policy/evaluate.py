"""What the policy decides for one finding: ``decide(policy, facts, *, now, ou_resolver, tags)``.

Pure and deterministic: the same policy, facts, ``now``, OU answers and tags give the same
Decision; the only calls out are ``ou_resolver`` (only when a scope that applies names OUs)
and a ``tags`` callable (only when a rule that applies needs tags and the finding has none).

Precedence, first match wins:

1. DISABLED: the control (``controls.<id>.enabled``) or everything (``global.enabled``) is off;
2. EXEMPT: an exemption that has not expired matches the resource (expired ones are ignored
   and reported in ``Decision.expired_exemptions``); a manual action (the custom action) goes
   on only where ``allow_manual_override`` is true;
3. OUT_OF_SCOPE: an exclude entry matches, or an include list exists and the finding matches
   none of its entries (global and control scopes both apply);
4. the mode: DRY_RUN (``dry-run``); MANUAL_ONLY (``manual``, for an automatic trigger);
   otherwise PROCEED. A retry is RETRY_NOT_ALLOWED when the retries settings do not allow it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from asr.policy import document as doc

# Outcomes (the orchestrator will add the stopping ones to lambdas/orchestrator/outcomes.py).
PROCEED = "PROCEED"
DISABLED = "DISABLED"
EXEMPT = "EXEMPT"
OUT_OF_SCOPE = "OUT_OF_SCOPE"
DRY_RUN = "DRY_RUN"
MANUAL_ONLY = "MANUAL_ONLY"
RETRY_NOT_ALLOWED = "RETRY_NOT_ALLOWED"
OUTCOMES = (PROCEED, DISABLED, EXEMPT, OUT_OF_SCOPE, DRY_RUN, MANUAL_ONLY, RETRY_NOT_ALLOWED)

# Initiators: who asks for the remediation.
MANUAL = "custom-action"  # "Remediate with ASR" (or the ticketing action)
AUTO = "auto"  # an AutoTrigger rule (Security Hub Findings - Imported)
RETRY = "retry"  # the orchestrator retrying an attempt that ended FAILED or TIMEDOUT
INITIATORS = (MANUAL, AUTO, RETRY)

OuResolver = Callable[[str], Sequence[str]]
TagSource = Mapping[str, str] | Callable[[], Mapping[str, str] | None] | None


class DecisionInputError(ValueError):
    """decide() lacks what a rule needs (an OU resolver, the resource's tags) or got a bad input."""


@dataclass(frozen=True)
class FindingFacts:
    """What the policy looks at in a finding (``asr.policy.facts`` builds it with asr.explain)."""

    account: str
    region: str  # the resource's Region: where the remediation runs
    resource: str  # Resources[0].Id
    control: str | None = None  # consolidated control id (S3.2), None when ASR has no entry
    standard_control: str | None = None  # PLAYBOOK:CONTROL as the finding names it (CIS120:2.1)
    finding_id: str | None = None
    resource_type: str | None = None
    tags: Mapping[str, str] | None = None  # Resources[0].Tags, None when the finding has none


@dataclass(frozen=True)
class ExemptionInfo:
    path: str
    target: str  # "resource arn:...", "tag Env=dev"
    reason: str
    owner: str
    expires: str

    @classmethod
    def of(cls, e: doc.Exemption) -> ExemptionInfo:
        return cls(e.path, e.describe(), e.reason, e.owner, doc.format_time(e.expires))

    def to_json(self) -> dict[str, str]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Decision:
    outcome: str
    rule: str  # path in the document of the rule that decided ("(defaults)" when none did)
    reason: str
    initiator: str
    control: str | None
    mode: str
    policy_sha256: str
    policy_version: int
    policy_revision: str | None = None
    exemption: ExemptionInfo | None = None  # the one that applies (or was overridden)
    overridden: bool = False  # a manual action went past ``exemption`` by allow_manual_override
    expired_exemptions: tuple[ExemptionInfo, ...] = ()
    retries: doc.Retries = doc.DEFAULT_RETRIES
    retry_delay_seconds: int | None = None  # before this attempt, for a retry
    deadline_seconds: int | None = None
    ous: tuple[str, ...] | None = None  # the account's ancestors, when a rule needed them
    tags_from: str | None = None  # finding | lookup, when a rule needed tags
    checked: tuple[str, ...] = field(default=())  # every rule looked at, in order

    @property
    def allowed(self) -> bool:
        return self.outcome == PROCEED

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "allowed": self.allowed,
            "rule": self.rule,
            "reason": self.reason,
            "initiator": self.initiator,
            "control": self.control,
            "mode": self.mode,
            "exemption": self.exemption.to_json() if self.exemption else None,
            "overridden": self.overridden,
            "expired_exemptions": [e.to_json() for e in self.expired_exemptions],
            "retries": self.retries.to_json(),
            "retry_delay_seconds": self.retry_delay_seconds,
            "deadline": doc.format_duration(self.deadline_seconds),
            "deadline_seconds": self.deadline_seconds,
            "ous": list(self.ous) if self.ous is not None else None,
            "tags_from": self.tags_from,
            "policy": {"version": self.policy_version, "sha256": self.policy_sha256, "revision": self.policy_revision},
            "checked": list(self.checked),
        }


@dataclass(frozen=True)
class Effective:
    """The settings that apply to one control: control over global over defaults."""

    enabled: tuple[bool, str]  # value, path that set it ("(defaults)")
    mode: tuple[str, str]
    allow_manual_override: tuple[bool, str]
    retries: tuple[doc.Retries, str]
    deadline: tuple[int | None, str]
    scopes: tuple[doc.Scope, ...]
    exemptions: tuple[doc.Exemption, ...]


DEFAULTS = "(defaults)"


def effective(policy: doc.Policy, control: str | None) -> Effective:
    g = policy.global_rules
    c = policy.controls[control].rules if control in policy.controls else None

    def pick(name: str, default: Any) -> tuple[Any, str]:
        for rules in (c, g):
            if rules is not None and getattr(rules, name) is not None:
                return getattr(rules, name), doc.child(rules.path, name)
        return default, DEFAULTS

    if g.enabled is False:
        enabled = (False, "global.enabled")
    elif c is not None and c.enabled is False:
        enabled = (False, doc.child(c.path, "enabled"))
    else:
        enabled = (True, DEFAULTS)
    deadline: tuple[int | None, str] = (None, DEFAULTS)
    for rules in (c, g):
        if rules is not None and rules.deadline_set:
            deadline = (rules.deadline_seconds, doc.child(rules.path, "deadline"))
            break
    scopes = tuple(r.scope for r in (g, c) if r is not None and r.scope is not None)
    exemptions = tuple(e for r in (g, c) if r is not None for e in r.exemptions)
    return Effective(
        enabled=enabled,
        mode=pick("mode", doc.DEFAULT_MODE),
        allow_manual_override=pick("allow_manual_override", doc.DEFAULT_OVERRIDE),
        retries=pick("retries", doc.DEFAULT_RETRIES),
        deadline=deadline,
        scopes=scopes,
        exemptions=exemptions,
    )


class _Lookups:
    """OU and tag answers, asked for at most once per decision, only when a rule needs them."""

    def __init__(self, facts: FindingFacts, ou_resolver: OuResolver | None, tags: TagSource) -> None:
        self.facts, self._resolver, self._tags = facts, ou_resolver, tags
        self.ous: tuple[str, ...] | None = None
        self.tags: Mapping[str, str] | None = None
        self.tags_from: str | None = None

    def ancestors(self, path: str) -> tuple[str, ...]:
        if self.ous is None:
            if self._resolver is None:
                raise DecisionInputError(
                    f"{path} names OUs, and no OU resolver was given to find the OUs of account {self.facts.account}"
                )
            self.ous = tuple(self._resolver(self.facts.account))
        return self.ous

    def resource_tags(self, path: str) -> Mapping[str, str]:
        if self.tags is None:
            if self.facts.tags is not None:
                self.tags, self.tags_from = self.facts.tags, "finding"
            else:
                source = self._tags() if callable(self._tags) else self._tags
                if source is None:
                    raise DecisionInputError(
                        f"{path} needs the tags of {self.facts.resource}: the finding has no Resources[0].Tags "
                        "and no tag lookup was given"
                    )
                self.tags, self.tags_from = dict(source), "lookup"
        return self.tags


def _exemption_matches(e: doc.Exemption, facts: FindingFacts, lookups: _Lookups) -> bool:
    if e.kind == "resource":
        return facts.resource == e.target
    if e.kind == "resource_pattern":
        return doc.glob_regex(str(e.target)).fullmatch(facts.resource) is not None
    assert isinstance(e.target, doc.TagRule)
    return e.target.matches(lookups.resource_tags(e.path))


def _entry_matches(kind: str, value: Any, facts: FindingFacts, lookups: _Lookups, path: str) -> bool:
    if kind == "accounts":
        return facts.account == value
    if kind == "regions":
        return facts.region == value
    if kind == "resources":
        return doc.glob_regex(value).fullmatch(facts.resource) is not None
    if kind == "ous":
        return value in lookups.ancestors(path)
    return value.matches(lookups.resource_tags(path))  # tags


def _out_of_scope(scope: doc.Scope, facts: FindingFacts, lookups: _Lookups) -> tuple[str, str] | None:
    """(path, reason) when ``scope`` leaves the finding out, else None."""
    if scope.exclude is not None:
        for kind in scope.exclude.kinds():
            for i, value in enumerate(getattr(scope.exclude, kind)):
                path = doc.child(doc.child(scope.exclude.path, kind), i)
                if _entry_matches(kind, value, facts, lookups, path):
                    return path, f"excluded: {_what(kind, facts, lookups)} matches {kind[:-1]} {value}"
    if scope.include is not None:
        for kind in scope.include.kinds():
            path = doc.child(scope.include.path, kind)
            values = getattr(scope.include, kind)
            if not any(_entry_matches(kind, v, facts, lookups, path) for v in values):
                listed = ", ".join(str(v) for v in values[:5]) + (", ..." if len(values) > 5 else "")
                return path, f"not included: {_what(kind, facts, lookups)} matches none of {listed}"
    return None


def _what(kind: str, facts: FindingFacts, lookups: _Lookups) -> str:
    if kind == "accounts":
        return f"account {facts.account}"
    if kind == "regions":
        return f"Region {facts.region}"
    if kind == "resources":
        return f"resource {facts.resource}"
    if kind == "ous":
        return f"account {facts.account} (in {' < '.join(lookups.ous or ()) or 'no OU'})"
    tags = lookups.tags or {}
    shown = ", ".join(f"{k}={v}" for k, v in sorted(tags.items())[:8]) or "no tags"
    return f"resource tags ({shown})"


def decide(
    policy: doc.Policy,
    facts: FindingFacts,
    *,
    now: dt.datetime,
    ou_resolver: OuResolver | None = None,
    tags: TagSource = None,
    initiator: str = AUTO,
    attempt: int = 1,
    previous_outcome: str | None = None,
) -> Decision:
    """The policy's decision for one finding (see the module docstring for the precedence).

    ``now``: aware datetime (exemption expiry). ``ou_resolver(account)``: the account's parent OU,
    its parent, ... up to the root. ``tags``: the resource's tags, or a callable returning them,
    used when the finding carries no Resources[0].Tags. ``initiator``: MANUAL, AUTO or RETRY;
    a retry gives ``attempt`` (2 for the first retry) and the ``previous_outcome``.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise DecisionInputError(f"now {now.isoformat()!r} has no time zone")
    if initiator not in INITIATORS:
        raise DecisionInputError(f"initiator {initiator!r} is not one of {', '.join(INITIATORS)}")
    if initiator == RETRY and attempt < 2:
        raise DecisionInputError(f"a retry is attempt 2 or later, got attempt {attempt}")
    eff = effective(policy, facts.control)
    lookups = _Lookups(facts, ou_resolver, tags)
    checked: list[str] = []
    control_rules = policy.controls.get(facts.control) if facts.control else None
    control_label = facts.control or "(no control)"

    def decision(outcome: str, rule: str, reason: str, **more: Any) -> Decision:
        return Decision(
            outcome=outcome,
            rule=rule,
            reason=reason,
            initiator=initiator,
            control=facts.control,
            mode=eff.mode[0],
            policy_sha256=policy.sha256,
            policy_version=policy.version,
            policy_revision=policy.revision,
            expired_exemptions=tuple(expired),
            retries=eff.retries[0],
            deadline_seconds=eff.deadline[0],
            ous=lookups.ous,
            tags_from=lookups.tags_from,
            checked=tuple(checked),
            **more,
        )

    expired: list[ExemptionInfo] = []
    # 1. DISABLED
    enabled, where = eff.enabled
    checked.append("global.enabled")
    if control_rules is not None:
        checked.append(doc.child(control_rules.rules.path, "enabled"))
    if not enabled:
        scope = "every control" if where == "global.enabled" else f"control {control_label}"
        return decision(DISABLED, where, f"remediation is disabled for {scope} ({where}: false)")

    # 2. EXEMPT (expired exemptions are skipped and reported)
    applying: doc.Exemption | None = None
    for e in eff.exemptions:
        if e.expired(now):
            # Reported when it matches; one that would need a lookup nobody can answer is
            # only skipped (an expired exemption decides nothing).
            try:
                if _exemption_matches(e, facts, lookups):
                    expired.append(ExemptionInfo.of(e))
            except DecisionInputError:
                pass
            continue
        if applying is not None:
            continue
        checked.append(e.path)
        if _exemption_matches(e, facts, lookups):
            applying = e
    overridden = None
    if applying is not None:
        info = ExemptionInfo.of(applying)
        override, override_path = eff.allow_manual_override
        if not (initiator == MANUAL and override):
            setting = (
                "allow_manual_override is not set (default false)"
                if override_path == DEFAULTS
                else (f"{override_path} is false")
            )
            why = f"; the custom action is refused because {setting}" if initiator == MANUAL else ""
            return decision(
                EXEMPT,
                applying.path,
                f"{facts.resource} is exempt ({info.target}) until {info.expires}, owner {info.owner}: "
                f"{info.reason}{why}",
                exemption=info,
            )
        overridden = info

    # 3. OUT_OF_SCOPE
    for scope in eff.scopes:
        checked.append(scope.path)
        out = _out_of_scope(scope, facts, lookups)
        if out is not None:
            path, reason = out
            return decision(OUT_OF_SCOPE, path, reason, exemption=overridden, overridden=overridden is not None)

    # 4. mode
    more = {"exemption": overridden, "overridden": overridden is not None}
    mode, mode_path = eff.mode
    checked.append(mode_path)
    if mode == "dry-run":
        return decision(
            DRY_RUN, mode_path, f"dry-run: control {control_label} would be remediated, nothing runs", **more
        )
    if mode == "manual" and initiator == AUTO:
        return decision(
            MANUAL_ONLY,
            mode_path,
            f"control {control_label} is remediated only by the custom action (mode manual); "
            "the automatic trigger is ignored",
            **more,
        )
    if initiator == RETRY:
        retries, retries_path = eff.retries
        checked.append(retries_path)
        if attempt > retries.attempts:
            return decision(
                RETRY_NOT_ALLOWED,
                retries_path,
                f"attempt {attempt} is beyond retries.attempts {retries.attempts}",
                **more,
            )
        if previous_outcome not in retries.on:
            return decision(
                RETRY_NOT_ALLOWED,
                retries_path,
                f"outcome {previous_outcome} is not retried (retries.on: {', '.join(retries.on)})",
                **more,
            )
        more["retry_delay_seconds"] = retries.delay_before(attempt)
    reason = f"control {control_label} is remediated (mode {mode}, initiator {initiator})"
    if overridden is not None:
        reason += f"; exemption {overridden.path} overridden by the custom action (allow_manual_override)"
    return decision(PROCEED, mode_path, reason, **more)
