"""botocore Stubber swapped in for one service's boto3 client, everything else left on moto."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber

from asr.simulator.actions import script  # the session a script step runs with, per thread


@contextlib.contextmanager
def stubbed_boto3_client(monkeypatch: pytest.MonkeyPatch, service: str, region: str = "us-east-1") -> Iterator[Stubber]:
    """``boto3.client(service)`` returns one Stubber-backed client while the block runs; every other
    service goes to the real ``boto3.client`` (moto). On leaving, every queued response must have been used."""
    client = boto3.client(service, region_name=region)
    stub = Stubber(client)
    real = boto3.client

    def fake(name, *args, **kwargs):
        if name != service:
            return real(name, *args, **kwargs)
        _sign_as_caller(client)
        return client

    monkeypatch.setattr(boto3, "client", fake)
    with stub:
        yield stub
    stub.assert_no_pending_responses()


def stub_every_boto3_client(monkeypatch: pytest.MonkeyPatch, service: str, region: str = "us-east-1") -> Stubber:
    """From now on every ``boto3.client(...)`` call returns one Stubber-backed ``service`` client, so a
    script's calls are checked against the real API shapes and any call not queued fails. Returns the
    active Stubber, to queue responses on and to ``assert_no_pending_responses()``."""
    client = boto3.client(service, region_name=region)
    stub = Stubber(client)
    stub.activate()

    def fake(*_args, **_kwargs):
        _sign_as_caller(client)
        return client

    monkeypatch.setattr(boto3, "client", fake)
    return stub


def _sign_as_caller(client) -> None:
    """Sign as whoever asks for the client now (the script's default session: the remediation role
    under the runner), as the client the script would have made -- so the IAM enforcer checks its calls."""
    session = getattr(script._scripts, "session", None) or boto3.DEFAULT_SESSION or boto3.session.Session()
    client._request_signer._credentials = session.get_credentials()
