"""Macie.1 evaluator on moto: the shapes the control documentation names."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate
from tests.conftest import ACCOUNT, REGION

ACCOUNT_RESOURCE = Resource.account_level(ACCOUNT, REGION)


class StubbedSession:
    """A boto3 session whose macie2 client is the given (stubbed) one."""

    def __init__(self, macie2) -> None:
        self._macie2 = macie2

    def client(self, service: str, region_name: str | None = None):
        assert service == "macie2", service
        return self._macie2


@pytest.fixture
def macie():
    with mock_aws():
        yield boto3.client("macie2", region_name=REGION)


def test_enabled_macie_passes(macie):
    macie.enable_macie()
    result = evaluate("Macie.1", boto3.Session(), ACCOUNT_RESOURCE)
    assert result.status is Status.PASSED, result.reason
    assert "'ENABLED'" in result.reason


def test_paused_macie_fails(macie):
    macie.enable_macie(status="PAUSED")
    result = evaluate("Macie.1", boto3.Session(), ACCOUNT_RESOURCE)
    assert result.status is Status.FAILED
    assert "status is 'PAUSED'" in result.reason


def test_disabled_macie_fails(macie):
    # moto answers a disabled account with ResourceNotFoundException (and starts every account enabled).
    macie.disable_macie()
    result = evaluate("Macie.1", boto3.Session(), ACCOUNT_RESOURCE)
    assert result.status is Status.FAILED
    assert "Macie is not enabled" in result.reason


def test_never_enabled_macie_fails():
    # AWS answers GetMacieSession with AccessDeniedException "Macie is not enabled." where Macie was
    # never enabled; moto does not model that answer: stub it.
    client = boto3.client("macie2", region_name=REGION)
    with Stubber(client) as stub:
        stub.add_client_error("get_macie_session", "AccessDeniedException", "Macie is not enabled.", 403)
        result = evaluate("Macie.1", StubbedSession(client), ACCOUNT_RESOURCE)
    assert result.status is Status.FAILED
    assert "AccessDeniedException" in result.reason


def test_missing_permission_raises():
    client = boto3.client("macie2", region_name=REGION)
    message = f"User: arn:aws:sts::{ACCOUNT}:assumed-role/r/s is not authorized to perform: macie2:GetMacieSession"
    with Stubber(client) as stub:
        stub.add_client_error("get_macie_session", "AccessDeniedException", message, 403)
        with pytest.raises(EvaluationError, match="not authorized"):
            evaluate("Macie.1", StubbedSession(client), ACCOUNT_RESOURCE)
