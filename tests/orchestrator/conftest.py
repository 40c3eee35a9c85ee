"""Fixtures of the orchestrator tests: moto with the Step Functions interpreter on,
real multi-account behaviour, and the end-to-end harness."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto.core.config import default_user_config

from lambdas.orchestrator import notifications
from tests.conftest import multi_account_moto
from tests.orchestrator.harness import ADMIN, Harness


@pytest.fixture
def moto_admin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto with real multi-account behaviour; the caller acts in the admin account.

    The notifier caches the sendCloudwatchMetrics switch for 5 minutes, as a warm
    Lambda does; every test starts cold, or one test's answer leaks into the next.
    """
    monkeypatch.setattr(notifications, "_metrics_enabled", None)
    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})
    with multi_account_moto(monkeypatch, account=ADMIN):
        yield


@pytest.fixture
def harness(moto_admin: None, monkeypatch: pytest.MonkeyPatch) -> Harness:
    return Harness(monkeypatch)


@pytest.fixture
def ticket_harness(moto_admin: None, monkeypatch: pytest.MonkeyPatch) -> Harness:
    return Harness(monkeypatch, ticketing=True)
