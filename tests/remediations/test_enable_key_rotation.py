"""ASR-EnableKeyRotation: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from remediation_runbooks.scripts.enable_key_rotation import RemediationError, enable_key_rotation


@pytest.fixture
def kms():
    with mock_aws():
        yield boto3.client("kms", region_name="us-east-1")


def test_enables_rotation_on_the_named_key_only(kms):
    target = kms.create_key()["KeyMetadata"]["KeyId"]
    bystander = kms.create_key()["KeyMetadata"]["KeyId"]

    out = enable_key_rotation({"KeyId": target}, None)

    assert kms.get_key_rotation_status(KeyId=target)["KeyRotationEnabled"] is True
    assert kms.get_key_rotation_status(KeyId=bystander)["KeyRotationEnabled"] is False
    assert out["RotationBefore"] == "false" and out["RotationAfter"] == "true"


def test_second_run_changes_nothing(kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    enable_key_rotation({"KeyId": key}, None)
    out = enable_key_rotation({"KeyId": key}, None)
    assert out["RotationBefore"] == "true"
    assert "nothing changed" in out["Message"]


def test_missing_key_names_the_input(kms):
    with pytest.raises(RemediationError, match="KeyId 11111111-2222-3333-4444-555555555555: no such KMS key"):
        enable_key_rotation({"KeyId": "11111111-2222-3333-4444-555555555555"}, None)


def test_asymmetric_key_is_refused_and_left_alone(kms):
    key = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    with pytest.raises(RemediationError, match="key spec RSA_2048"):
        enable_key_rotation({"KeyId": key}, None)


def test_disabled_key_is_refused(kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=key)
    with pytest.raises(RemediationError, match="state Disabled"):
        enable_key_rotation({"KeyId": key}, None)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Disabled"


class _LaggingKms:
    """A KMS client whose rotation status keeps reading disabled for ``lag`` reads after the first:
    KMS is eventually consistent (issue 13, defect 16)."""

    def __init__(self, client, lag: int) -> None:
        self.client, self.lag, self.reads = client, lag, 0

    def __getattr__(self, name):
        real = getattr(self.client, name)
        if name != "get_key_rotation_status":
            return real

        def read(**kwargs):
            self.reads += 1
            answer = real(**kwargs)
            return {**answer, "KeyRotationEnabled": False} if 1 < self.reads <= 1 + self.lag else answer

        return read


def _lag(monkeypatch, reads: int) -> None:
    real = boto3.client
    monkeypatch.setattr(
        boto3,
        "client",
        lambda name, *a, **kw: _LaggingKms(real(name, *a, **kw), reads) if name == "kms" else real(name, *a, **kw),
    )


def test_the_read_back_waits_for_rotation_to_show(kms, monkeypatch):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    _lag(monkeypatch, 2)
    slept: list[float] = []
    out = enable_key_rotation({"KeyId": key}, None, sleep=slept.append)
    assert out["RotationAfter"] == "true" and len(slept) == 2


def test_rotation_that_never_shows_fails_after_a_bounded_wait(kms, monkeypatch):
    from remediation_runbooks.scripts import enable_key_rotation as script

    key = kms.create_key()["KeyMetadata"]["KeyId"]
    _lag(monkeypatch, 100)
    slept: list[float] = []
    with pytest.raises(RemediationError, match="still reads disabled"):
        enable_key_rotation({"KeyId": key}, None, sleep=slept.append)
    assert len(slept) == script.VERIFY_ATTEMPTS - 1
