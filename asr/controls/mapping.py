"""Which consolidated Security Hub control a per-standard control entry is.

Security Hub lists, on each control's page, the standards' requirements it serves
("Related requirements"); our playbooks say the same through their data: an entry runs a
remediation (after its remap) and, for the CIS alarm controls, a metric filter. An entry is
the consolidated control with the same remediation and metric filter; where several share
them (the password-policy controls, S3 Block Public Access, CloudTrail.1/.3), AFSBP and NIST
use the consolidated ids themselves, and ``playbooks/security_controls.yaml`` names the rest.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from asr.playbooks import data

DATA = Path(__file__).resolve().parents[2] / "playbooks" / "security_controls.yaml"


class MappingError(LookupError):
    pass


def _target(std: data.Standard, control: data.Control) -> data.Control:
    return std.control(control.remap) if control.remap else control


@functools.cache
def _index() -> dict[tuple[str, str | None], tuple[str, ...]]:
    sc = data.load_standard("SC")
    index: dict[tuple[str, str | None], list[str]] = {}
    for control in [*sc.own(), *sc.remaps()]:
        key = (_target(sc, control).remediation, control.metric_filter)
        index.setdefault(key, []).append(control.control_id)
    return {k: tuple(v) for k, v in index.items()}


@functools.cache
def _explicit() -> dict[str, dict[str, str]]:
    raw = yaml.safe_load(DATA.read_text(encoding="utf-8")) or {}
    return {str(k): {str(c): str(s) for c, s in (v or {}).items()} for k, v in raw.items()}


def security_control(standard_key: str, control_id: str) -> str:
    """The consolidated control id (``S3.5``) of a playbook entry (``CIS120``, ``2.6``)."""
    std = data.load_standard(standard_key)
    if standard_key == "SC":
        std.control(control_id)  # must exist
        return control_id
    explicit = _explicit().get(standard_key, {}).get(control_id)
    control = std.control(control_id)
    candidates = _index().get((_target(std, control).remediation, control.metric_filter), ())
    if explicit is not None:
        if explicit not in candidates:
            raise MappingError(
                f"{DATA.name}: {standard_key} {control_id} -> {explicit}, which runs another remediation "
                f"(candidates {list(candidates)})"
            )
        return explicit
    if len(candidates) == 1:
        return candidates[0]
    if control_id in candidates:
        return control_id
    raise MappingError(
        f"{standard_key} {control_id}: {len(candidates)} consolidated controls run its remediation "
        f"({list(candidates)}): name one in {DATA.name}"
    )
