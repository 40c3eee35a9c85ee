"""Is every permission we grant used? Granted (role, action pattern) pairs against what tests exercised.

A grant is *exercised* when some allowed request of that role matched the action
pattern. A grant no test can exercise (a service role that only an AWS service
uses, the Lambda runtime's own log writes) carries a written reason in
``asr/iam/unexercised.yaml``. Anything else is an excess grant: remove it, or prove
it with a test.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from asr.iam.policy import glob_match
from asr.iam.template import Role

REASONS_FILE = Path(__file__).with_name("unexercised.yaml")


@dataclass(frozen=True)
class Reason:
    role: str  # glob on the role's source ("<template>:<logical id>")
    action: str  # glob on the granted action pattern
    reason: str


@functools.cache
def reasons() -> tuple[Reason, ...]:
    raw = yaml.safe_load(REASONS_FILE.read_text(encoding="utf-8")) or []
    out = []
    for i, entry in enumerate(raw):
        if (
            not isinstance(entry, dict)
            or set(entry) != {"role", "action", "reason"}
            or not str(entry["reason"]).strip()
        ):
            raise ValueError(f"{REASONS_FILE.name} entry {i}: needs role, action and a non-empty reason, got {entry!r}")
        out.append(Reason(str(entry["role"]), str(entry["action"]), str(entry["reason"]).strip()))
    return tuple(out)


def grants(roles: Iterable[Role]) -> set[tuple[str, str]]:
    """(role source, action pattern) of every Allow statement of every role."""
    return {
        (role.source, action)
        for role in roles
        for policy in role.policies
        for statement in policy.statements
        if statement.effect == "Allow"
        for action in statement.actions
    }


@dataclass(frozen=True)
class Report:
    granted: int
    exercised: int
    reasoned: int
    unexercised: tuple[tuple[str, str], ...]  # neither exercised nor reasoned
    stale_reasons: tuple[Reason, ...]  # reasons that no longer match any grant, or match an exercised one

    def as_text(self) -> str:
        lines = [
            f"IAM grants: {self.granted} (role, action) pairs; {self.exercised} exercised by tests, "
            f"{self.reasoned} with a written reason, {len(self.unexercised)} neither."
        ]
        lines += [f"  unexercised: {role} {action}" for role, action in self.unexercised]
        lines += [f"  stale reason: {r.role} {r.action}" for r in self.stale_reasons]
        return "\n".join(lines)


def report(roles: Iterable[Role], exercised: Iterable[tuple[str, str]]) -> Report:
    granted = grants(roles)
    used = set(exercised)
    covered = {
        (role, pattern)
        for role, pattern in granted
        if any(r == role and glob_match(pattern, action, ignore_case=True) for r, action in used)
    }
    reasoned: set[tuple[str, str]] = set()
    live: set[Reason] = set()
    for role, pattern in granted - covered:
        for reason in reasons():
            if glob_match(reason.role, role) and glob_match(reason.action, pattern, ignore_case=True):
                reasoned.add((role, pattern))
                live.add(reason)
    stale = tuple(r for r in reasons() if r not in live)
    return Report(
        granted=len(granted),
        exercised=len(covered),
        reasoned=len(reasoned),
        unexercised=tuple(sorted(granted - covered - reasoned)),
        stale_reasons=stale,
    )
