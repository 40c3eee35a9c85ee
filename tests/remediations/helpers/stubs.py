"""botocore Stubber swapped in for one service's boto3 client, everything else left on moto."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber


@contextlib.contextmanager
def stubbed_boto3_client(monkeypatch: pytest.MonkeyPatch, service: str,
                         region: str = "us-east-1") -> Iterator[Stubber]:
    """``boto3.client(service)`` returns one Stubber-backed client while the block runs; every other
    service goes to the real ``boto3.client`` (moto). On leaving, every queued response must have been used."""
    client = boto3.client(service, region_name=region)
    stub = Stubber(client)
    real = boto3.client

    def fake(name, *args, **kwargs):
        return client if name == service else real(name, *args, **kwargs)

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
    monkeypatch.setattr(boto3, "client", lambda *_a, **_k: client)
    return stub
