"""End-to-end harness: the synthesized admin template's state machine on moto.

A thin adapter over the product's emulation (``asr.simulator.orchestration``, also what
``asr simulate`` runs), with the tests' ``monkeypatch`` applying its patches. The admin account
is moto's default account (123456789012), because moto's Step Functions interpreter makes its own
AWS calls (Lambda, SQS) with fixed credentials that moto maps to that account. The member account
is a different one (111111111111): the orchestrator reaches it only through
``SO0111-ASR-Orchestrator-Member``.
"""

from __future__ import annotations

import pytest

from asr.simulator.orchestration import world
from asr.simulator.orchestration.world import (
    ADMIN,
    AFSBP,
    MEMBER,
    REGION,
    SC,
    TICKET_FUNCTION,
    Result,
    machine_definition,
    ticket_handler,
)

NAMESPACE = "test"

__all__ = [
    "ADMIN",
    "AFSBP",
    "MEMBER",
    "NAMESPACE",
    "REGION",
    "SC",
    "TICKET_FUNCTION",
    "Harness",
    "Result",
    "admin_template",
    "machine_definition",
    "ticket_handler",
]


def admin_template():
    """The admin stack as the build synthesizes it (alone, without cdk-nag: the infrastructure tests
    hold the nag and lint gates)."""
    return world.admin_template()


class Harness(world.Orchestration):
    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, ticketing: bool = False, event_source: bool = True) -> None:
        """``event_source=False``: no SQS -> worker mapping (the caller runs the consumers, e.g. the burst)."""
        self.monkeypatch = monkeypatch
        super().__init__(monkeypatch, ticketing=ticketing, event_source=event_source, namespace=NAMESPACE)
