"""Fixtures of the runner tests: moto with real multi-account behaviour, a fake clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from asr.simulator import AutomationRunner, DocumentRegistry, FakeClock
from asr.simulator.aws import new_session
from asr.simulator.execution import AutomationExecution
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, REGION, multi_account_moto

OTHER_REGION = "us-west-2"
ROLE_NAME = "AutomationRole"
__all__ = ["ACCOUNT", "OTHER_ACCOUNT", "OTHER_REGION", "REGION", "ROLE_NAME", "role_arn"]


def role_arn(account: str = ACCOUNT, name: str = ROLE_NAME) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto with real multi-account behaviour; the caller acts in ACCOUNT."""
    with multi_account_moto(monkeypatch):
        yield


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def registry() -> DocumentRegistry:
    return DocumentRegistry()


@pytest.fixture
def runner(registry: DocumentRegistry, clock: FakeClock) -> AutomationRunner:
    return AutomationRunner(registry, clock=clock)


RunDocument = Callable[..., AutomationExecution]


@pytest.fixture
def run_doc(aws: None, registry: DocumentRegistry, runner: AutomationRunner) -> RunDocument:
    """``run_doc(document_dict_or_yaml, **parameters)`` registers it as "Test" and runs it."""

    def run(
        document: dict[str, Any] | str,
        /,
        _name: str = "Test",
        _region: str = REGION,
        _approvals: dict[str, str] | None = None,
        **parameters: Any,
    ) -> AutomationExecution:
        registry.add(_name, document)
        return runner.run(_name, parameters, account_id=ACCOUNT, region=_region, approvals=_approvals)

    return run


def session_in(account: str, region: str) -> boto3.Session:
    """A session acting in ``account``/``region`` (to arrange or inspect resources)."""
    credentials = (
        new_session()
        .client("sts", region_name=region)
        .assume_role(RoleArn=role_arn(account, "inspector"), RoleSessionName="inspector")["Credentials"]
    )
    return new_session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )
