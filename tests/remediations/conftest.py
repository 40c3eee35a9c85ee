"""Fixtures to prove a remediation: run its YAML document through the local runner on moto."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.core.config import default_user_config

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


@pytest.fixture
def aws_only() -> Iterator[None]:
    """A plain mock_aws() in one account (MOTO_ACCOUNT_ID), for calling a remediation script directly."""
    with mock_aws():
        yield


# --- service clients ---------------------------------------------------------------


def _client_fixtures(service: str, name: str):
    """Two fixtures for one AWS service:

    ``<name>``: a client inside a plain mock_aws(), for calling a remediation script directly;
    ``<name>_doc``: a client in the account and moto that ``run_runbook`` acts in, to set up and read
    back what a document run changes.
    """

    def script_client():
        with mock_aws():
            yield boto3.client(service, region_name=REGION)

    def document_client(run_runbook):
        return boto3.client(service, region_name=REGION)

    script_client.__doc__ = f"A {service} client inside a plain mock_aws(), for calling a script directly."
    document_client.__doc__ = f"A {service} client in the account and moto that ``run_runbook`` acts in."
    return pytest.fixture(script_client, name=name), pytest.fixture(document_client, name=f"{name}_doc")


ddb, ddb_doc = _client_fixtures("dynamodb", "ddb")
ec, ec_doc = _client_fixtures("elasticache", "ec")
logs, logs_doc = _client_fixtures("logs", "logs")
rds, rds_doc = _client_fixtures("rds", "rds")
redshift, redshift_doc = _client_fixtures("redshift", "redshift")
sm, sm_doc = _client_fixtures("secretsmanager", "sm")
sns, sns_doc = _client_fixtures("sns", "sns")
sqs, sqs_doc = _client_fixtures("sqs", "sqs")


@pytest.fixture
def lambda_without_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's Lambda uses its no-Docker stub, so e.g. RotateSecret calls a real (stubbed) function.

    Use as ``pytestmark = pytest.mark.usefixtures("lambda_without_docker")``.
    """
    monkeypatch.setitem(default_user_config["lambda"], "use_docker", False)


@pytest.fixture
def no_default_amis(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's EC2 backend starts without its default AMIs (loading them is slow).

    Use as ``pytestmark = pytest.mark.usefixtures("no_default_amis")`` so it is set before
    any fixture or test touches EC2.
    """
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


@pytest.fixture
def ec2(aws):
    """An EC2 client in the account and moto that ``run_runbook`` acts in."""
    return boto3.client("ec2", region_name=REGION)


# --- Stubber in the runner's session ------------------------------------------------


@pytest.fixture
def stub_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Stubber]]:
    """``stub_client(service)`` -> Stubber; every ``Session.client(service)`` then returns its client."""
    stubbers: list[Stubber] = []
    clients: dict[str, object] = {}
    real = boto3.session.Session.client

    def client(self, service_name, *args, **kwargs):
        if service_name in clients:
            # The stubbed client signs as the session asking for it (the remediation role, for the
            # IAM enforcer), as the client the script would have made.
            clients[service_name]._request_signer._credentials = self.get_credentials()
            return clients[service_name]
        return real(self, service_name, *args, **kwargs)

    monkeypatch.setattr(boto3.session.Session, "client", client)

    def make(service: str) -> Stubber:
        clients[service] = real(boto3.session.Session(region_name=REGION), service, region_name=REGION)
        stubber = Stubber(clients[service])
        stubber.activate()
        stubbers.append(stubber)
        return stubber

    yield make
    for stubber in stubbers:
        stubber.deactivate()
