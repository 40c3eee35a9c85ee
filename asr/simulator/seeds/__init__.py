"""Noncompliant resources, seeded in emulated AWS, for each Security Hub control a playbook remediates.

    seeded = seed("S3.5", session, account, region)          # the typical noncompliant shape
    seeded = seed("EC2.13", session, account, region, shape="port-range")   # an edge shape
    seeded.resource          # asr.controls.Resource: what the finding names
    seeded.state()           # what the remediation may change (for "the second run changes nothing")
    seeded.bystanders()      # what it must not change (other statements, rules, resources)

Used by the before/after proofs of every control entry (tests/controls/test_before_after.py)
and by ``asr simulate``. A seeder builds the noncompliant shape the control's documentation
describes; it never imports remediation code.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

from asr.controls import Resource


@dataclass
class Seeded:
    resource: Resource
    state: Callable[[], Any]  # the resource's relevant configuration, read back
    bystanders: Callable[[], Any] = field(default=lambda: None)  # what must stay as it was
    #: Security Hub control parameters the finding carries (none: the control's defaults)
    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Where:
    session: boto3.Session
    account: str
    region: str
    partition: str = "aws"

    def client(self, service: str, region: str | None = None) -> Any:
        return self.session.client(service, region_name=region or self.region)


Seeder = Callable[[Where], Seeded]
SEEDERS: dict[tuple[str, str], Seeder] = {}


def seeder(control_id: str, shape: str = "default") -> Callable[[Seeder], Seeder]:
    def register(fn: Seeder) -> Seeder:
        key = (control_id, shape)
        if key in SEEDERS:
            raise ValueError(f"seeder {control_id}/{shape} registered twice")
        SEEDERS[key] = fn
        return fn

    return register


_LOADED = False


def load_all() -> dict[tuple[str, str], Seeder]:
    global _LOADED
    if not _LOADED:
        import asr.simulator.seeds as package

        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"asr.simulator.seeds.{info.name}")
        _LOADED = True
    return SEEDERS


class SeedError(LookupError):
    """No seeder for that control and shape."""


def shapes(control_id: str) -> list[str]:
    return sorted(shape for control, shape in load_all() if control == control_id)


def seed(control_id: str, session: boto3.Session, account: str, region: str, *, shape: str = "default") -> Seeded:
    fn = load_all().get((control_id, shape))
    if fn is None:
        known = shapes(control_id)
        raise SeedError(
            f"no seeder for control {control_id!r} shape {shape!r}"
            + (f" (shapes: {', '.join(known)})" if known else " (no shapes yet)")
        )
    return fn(Where(session, account, region))
