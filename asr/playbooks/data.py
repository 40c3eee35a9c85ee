"""Read the playbook data files (``playbooks/<KEY>.yaml``).

Plain Python, no CDK: the stacks, the control-runbook generator and the simulator
all read the standards through this module.
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

#: Order in which the standards appear in parameters, nested stacks and docs.
STANDARD_KEYS = ("SC", "AFSBP", "CIS120", "CIS140", "CIS300", "NIST80053", "PCI321")


class PlaybookError(ValueError):
    """A playbook data file is malformed."""


@dataclass(frozen=True)
class Standard:
    key: str  # template / parameter key: SC, AFSBP, CIS120 ...
    short_name: str  # document / rule / SSM prefix: SC, AFSBP, CIS, PCI, NIST80053R5
    long_name: str  # as it appears in findings
    version: str
    title: str
    generator_id: str
    controls: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    def control_runbook(self, control_id: str) -> str:
        return solution.control_runbook(self.short_name, self.version, control_id)


_REQUIRED = ("key", "short_name", "long_name", "version", "title", "generator_id")


@functools.cache
def load_standard(key: str) -> Standard:
    path = PLAYBOOK_DIR / f"{key}.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    missing = [k for k in _REQUIRED if not raw.get(k)]
    if missing:
        raise PlaybookError(f"playbooks/{key}.yaml: missing {', '.join(missing)}")
    if raw["key"] != key:
        raise PlaybookError(f"playbooks/{key}.yaml: key is {raw['key']!r}, expected {key!r}")
    if not re.fullmatch(r"\d+\.\d+\.\d+", str(raw["version"])):
        raise PlaybookError(f"playbooks/{key}.yaml: version {raw['version']!r} is not x.y.z")
    return Standard(
        key=key,
        short_name=raw["short_name"],
        long_name=raw["long_name"],
        version=str(raw["version"]),
        title=raw["title"],
        generator_id=raw["generator_id"],
        controls=tuple(raw.get("controls") or ()),
    )


def standards() -> list[Standard]:
    return [load_standard(k) for k in STANDARD_KEYS]
