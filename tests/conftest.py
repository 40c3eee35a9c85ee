"""Shared fixtures: fake AWS credentials so nothing can ever reach AWS."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

ACCOUNT = "111111111111"
OTHER_ACCOUNT = "222222222222"
REGION = "us-east-1"


@pytest.fixture(autouse=True)
def _fake_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


@contextlib.contextmanager
def multi_account_moto(monkeypatch: pytest.MonkeyPatch, account: str = ACCOUNT) -> Iterator[None]:
    """moto where credentials decide the account, and the caller acts in ``account``.

    MOTO_ACCOUNT_ID (set above for simple single-account tests) would pin every
    request to one account, collapsing cross-account runs (TargetLocations, the
    orchestrator assuming a member role); it is removed, and the ambient
    credentials become those of a role in ``account``, which moto maps to it.
    """
    from asr.simulator.aws import new_session

    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with mock_aws():
        sts = boto3.Session().client("sts", region_name=REGION)
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/caller", RoleSessionName="caller")[
            "Credentials"
        ]
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
        monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", new_session())
        yield
