"""Playbook tests: moto with accounts kept apart, plus Security Hub BatchUpdateFindings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import ACCOUNT, OTHER_ACCOUNT, REGION, multi_account_moto
from tests.playbooks import securityhub
from tests.playbooks.harness import CLIENTS, OTHER_REGION, solution_parameters


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto for every AWS API; the caller acts in ACCOUNT; solution SSM parameters in
    both test accounts and Regions."""
    CLIENTS.clear()
    securityhub.install(monkeypatch)
    with multi_account_moto(monkeypatch):
        for account in (ACCOUNT, OTHER_ACCOUNT):
            for region in (REGION, OTHER_REGION):
                solution_parameters(account, region)
        yield
    CLIENTS.clear()


@pytest.fixture(scope="module")
def shared_aws() -> Iterator[None]:
    """As ``aws``, but one moto world for a whole module (runs against recording
    stubs change nothing, and every finding has its own id)."""
    CLIENTS.clear()
    with pytest.MonkeyPatch.context() as monkeypatch:
        securityhub.install(monkeypatch)
        with multi_account_moto(monkeypatch):
            for account in (ACCOUNT, OTHER_ACCOUNT):
                for region in (REGION, OTHER_REGION):
                    solution_parameters(account, region)
            yield
    CLIENTS.clear()


# The built distribution (one build per test worker, shared with tests/infrastructure).
from tests.infrastructure.conftest import built, template_bytes, templates  # noqa: E402,F401
