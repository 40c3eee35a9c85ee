"""Fixtures to prove a remediation: run its YAML document through the local runner on moto."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from asr import solution
from tests.conftest import ACCOUNT, REGION, multi_account_moto

NAMESPACE = "sim"


def role_arn(remediation: str, account: str = ACCOUNT, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:role/{solution.remediation_role(remediation, NAMESPACE)}"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto for every AWS API, accounts kept apart; the caller acts in ACCOUNT."""
    with multi_account_moto(monkeypatch):
        yield


@pytest.fixture(scope="session")
def registry():
    from asr.simulator.registry import DocumentRegistry

    return DocumentRegistry.from_repo(namespace=NAMESPACE)


@pytest.fixture
def clock():
    from asr.simulator.runner import FakeClock

    return FakeClock()


RunRunbook = Callable[..., dict[str, Any]]


@pytest.fixture
def run_runbook(aws, registry, clock) -> RunRunbook:
    """``run_runbook("EnableKeyRotation", KeyId=...)`` -> SSM-shaped execution dict.

    AutomationAssumeRole defaults to ``SO0111-<Name>-sim`` in the given account.
    """
    from asr.simulator.runner import AutomationRunner

    def run(remediation: str, *, account: str = ACCOUNT, region: str = REGION, **params: Any) -> dict[str, Any]:
        params.setdefault("AutomationAssumeRole", role_arn(remediation, account))
        runner = AutomationRunner(registry, clock=clock)
        execution = runner.run(solution.remediation_document(remediation), params, account_id=account, region=region)
        return execution.to_dict()

    return run
