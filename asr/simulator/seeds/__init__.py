"""Noncompliant resources, seeded in emulated AWS, for each Security Hub control a playbook remediates.

    seeded = seed("S3.5", session, account, region)          # the typical noncompliant shape
    seeded = seed("EC2.13", session, account, region, shape="port-range")   # an edge shape
    seeded.resource          # asr.controls.Resource: what the finding names
    seeded.state()           # what the remediation may change (for "the second run changes nothing")
    seeded.bystanders()      # what it must not change (other statements, rules, resources)
    seeded.successor()       # what stands for the finding's resource after the remediation (see below)

Most remediations change the finding's resource in place, and the control then judges that same
resource PASSED. Some cannot: the remediation replaces or removes it (``replaced_by`` is set).

* EC2.4 terminates the instance: to AWS Config a deleted resource, evaluated NOT_APPLICABLE (below);
  DescribeInstances still shows it, terminated, for a while.
* RDS.4 copies the snapshot encrypted (the copy is judged) and deletes the unencrypted one.
* ECS.5 registers a new task definition revision; the Config rule "only evaluates the latest active
  revision" (https://docs.aws.amazon.com/config/latest/developerguide/ecs-containers-readonly-access.html),
  so the finding's revision becomes NOT_APPLICABLE and the new one is judged.
* AutoScaling.3 / Autoscaling.5 create a fixed copy of the (immutable) launch configuration, move the
  groups to it and delete the original.
* SecretsManager.3 schedules the secret's deletion; the secret stays, judged FAILED, until Secrets
  Manager deletes it at the end of the recovery window (``pending`` names when).

For those, ``successor()`` reads back the replacement (or None when nothing replaces the resource),
``exists()`` whether the finding's resource is still there. A deleted resource is not judged at all:
"Rules reporting on deleted resources should return the evaluation result of NOT_APPLICABLE"
(https://docs.aws.amazon.com/config/latest/developerguide/evaluate-config_develop-rules-delete.html),
and Security Hub archives the control findings of resources AWS Config records as deleted
(https://aws.amazon.com/blogs/security/automatically-resolve-security-hub-findings-for-resources-that-no-longer-exist/;
a NOT_APPLICABLE evaluation becomes NOT_AVAILABLE and is archived after 3 days:
https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_Compliance.html).

A shape registered with ``refused=`` is one the remediation must refuse, changing nothing (an instance
stopped for fewer days than allowed, a shared snapshot the default key cannot keep shared): the text
is what its failure message must say.

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
    #: Set when the remediation replaces or removes the finding's resource instead of changing it:
    #: reads back the resource that now stands for it (an encrypted copy, a new revision or launch
    #: configuration), or None when none does (terminated, deleted or scheduled for deletion).
    replaced_by: Callable[[], Resource | None] | None = None
    #: With ``replaced_by``: whether the finding's own resource still exists, read from AWS.
    exists: Callable[[], bool] | None = None
    #: With ``replaced_by``: when the remediation only started what AWS finishes later (a secret
    #: scheduled for deletion), reads back what is pending -- the text the remediation's output must
    #: name (the deletion date); until then the control still judges the resource FAILED.
    pending: Callable[[], str] | None = None

    def __post_init__(self) -> None:
        if self.replaced_by is None and (self.exists is not None or self.pending is not None):
            raise ValueError(f"{self.resource.id}: exists/pending only describe a replaced resource (replaced_by)")
        if self.replaced_by is not None and self.exists is None:
            raise ValueError(f"{self.resource.id}: a replaced resource needs exists() to tell whether it is gone")

    @property
    def replaced(self) -> bool:
        """The remediation replaces or removes the finding's resource rather than changing it."""
        return self.replaced_by is not None

    def successor(self) -> Resource | None:
        """The resource that stands for the finding's resource after the remediation: the resource
        itself when the remediation changes it in place, its replacement, or None when none does."""
        return self.resource if self.replaced_by is None else self.replaced_by()


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
#: Shapes the remediation must refuse, changing nothing: what the failure message must say.
REFUSED: dict[tuple[str, str], str] = {}


def seeder(control_id: str, shape: str = "default", *, refused: str = "") -> Callable[[Seeder], Seeder]:
    """Register a seeder. ``refused``: the remediation must refuse this shape and change nothing; the
    text its failure message must contain (never for the default shape, which must be fixed)."""
    if refused and shape == "default":
        raise ValueError(f"seeder {control_id}: the default shape is the one the remediation fixes, not refuses")

    def register(fn: Seeder) -> Seeder:
        key = (control_id, shape)
        if key in SEEDERS:
            raise ValueError(f"seeder {control_id}/{shape} registered twice")
        SEEDERS[key] = fn
        if refused:
            REFUSED[key] = refused
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
