"""SecretsManager.1, .3, .4 evaluators on moto. "Now" is injected through the module's utc_now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate
from asr.controls import secretsmanager as controls

ACCOUNT, REGION = "111111111111", "us-east-1"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db-password-AbCdEf"
T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


class StubSession:
    """Hands the evaluator a Stubber-backed client answering DescribeSecret with ``secret``."""

    def __init__(self, secret: dict[str, Any]) -> None:
        self.client_ = boto3.client("secretsmanager", region_name=REGION)
        self.stubber = Stubber(self.client_)
        self.stubber.add_response("describe_secret", {"ARN": SECRET, "Name": "db-password", **secret})
        self.stubber.activate()

    def client(self, service: str, region_name: str | None = None) -> Any:
        return self.client_


@pytest.fixture
def secrets():
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)


@pytest.fixture
def now(monkeypatch):
    """Sets the evaluation time: ``now(moment)``."""

    def set_now(moment: datetime) -> None:
        monkeypatch.setattr(controls, "utc_now", lambda: moment)

    return set_now


def _secret(secrets, name: str = "db-password") -> Resource:
    return Resource.of_arn(secrets.create_secret(Name=name, SecretString="s3cr3t")["ARN"], "AwsSecretsManagerSecret")


def _verdict(control_id: str, resource: Resource, parameters=None, session=None):
    return evaluate(control_id, session or boto3.Session(), resource, parameters)


# ----------------------------------------------------------------------------- SecretsManager.1


def test_sm1_secret_without_rotation_fails_then_passes_once_rotation_is_on(secrets):
    secret = _secret(secrets)
    verdict = _verdict("SecretsManager.1", secret)
    assert verdict.status is Status.FAILED
    assert "RotationEnabled is false" in verdict.reason
    # moto turns rotation on without a rotation Lambda function (AWS would require one).
    secrets.rotate_secret(SecretId=secret.id, RotationRules={"AutomaticallyAfterDays": 30}, RotateImmediately=False)
    assert _verdict("SecretsManager.1", secret).status is Status.PASSED


def test_sm1_maximum_allowed_rotation_frequency(secrets):
    secret = _secret(secrets)
    secrets.rotate_secret(SecretId=secret.id, RotationRules={"AutomaticallyAfterDays": 30}, RotateImmediately=False)
    verdict = _verdict("SecretsManager.1", secret, {"maximumAllowedRotationFrequency": 14})
    assert verdict.status is Status.FAILED
    assert "maximumAllowedRotationFrequency 14" in verdict.reason
    assert _verdict("SecretsManager.1", secret, {"maximumAllowedRotationFrequency": 30}).status is Status.PASSED


def test_sm1_rate_schedule_expression_is_compared():
    # moto ignores RotationRules.ScheduleExpression: stub the secret as Secrets Manager describes it.
    rules = {"ScheduleExpression": "rate(10 days)"}
    resource = Resource.of_arn(SECRET, "AwsSecretsManagerSecret")
    ok = StubSession({"RotationEnabled": True, "RotationRules": rules})
    assert _verdict("SecretsManager.1", resource, {"maximumAllowedRotationFrequency": 14}, ok).status is Status.PASSED
    late = StubSession({"RotationEnabled": True, "RotationRules": rules})
    assert _verdict("SecretsManager.1", resource, {"maximumAllowedRotationFrequency": 7}, late).status is Status.FAILED


def test_sm1_cron_schedule_cannot_be_compared_with_a_maximum_frequency():
    rules = {"ScheduleExpression": "cron(0 8 1 * ? *)"}
    resource = Resource.of_arn(SECRET, "AwsSecretsManagerSecret")
    enabled = StubSession({"RotationEnabled": True, "RotationRules": rules})
    assert _verdict("SecretsManager.1", resource, session=enabled).status is Status.PASSED
    compared = StubSession({"RotationEnabled": True, "RotationRules": rules})
    with pytest.raises(EvaluationError, match="cron"):
        _verdict("SecretsManager.1", resource, {"maximumAllowedRotationFrequency": 30}, compared)


def test_sm1_missing_secret_is_an_evaluation_error(secrets):
    with pytest.raises(EvaluationError, match="db-password"):
        _verdict("SecretsManager.1", Resource.of_arn(SECRET, "AwsSecretsManagerSecret"))


# ----------------------------------------------------------------------------- SecretsManager.3


def test_sm3_never_accessed_secret_counts_from_its_creation(secrets, now):
    secret = _secret(secrets)
    now(datetime.now(UTC) + timedelta(days=10))
    assert _verdict("SecretsManager.3", secret).status is Status.PASSED
    now(datetime.now(UTC) + timedelta(days=91))
    verdict = _verdict("SecretsManager.3", secret)
    assert verdict.status is Status.FAILED
    assert "never accessed" in verdict.reason


def test_sm3_last_accessed_date_decides(now):
    # moto does not record LastAccessedDate when a secret is read: stub the description.
    resource = Resource.of_arn(SECRET, "AwsSecretsManagerSecret")
    described = {"CreatedDate": T0 - timedelta(days=400), "LastAccessedDate": T0 - timedelta(days=10)}
    now(T0)
    assert _verdict("SecretsManager.3", resource, session=StubSession(described)).status is Status.PASSED
    verdict = _verdict("SecretsManager.3", resource, {"unusedForDays": 5}, StubSession(described))
    assert verdict.status is Status.FAILED
    assert "LastAccessedDate" in verdict.reason and "unusedForDays 5" in verdict.reason


def test_sm3_secret_scheduled_for_deletion_is_judged_until_deleted(secrets, now):
    """DescribeSecret still returns a secret pending deletion (with DeletedDate): it stays FAILED, and
    the reason names the deletion date; once deleted, nothing is left to judge."""
    secret = _secret(secrets)
    deletion = secrets.delete_secret(SecretId=secret.id, RecoveryWindowInDays=30)["DeletionDate"]
    now(datetime.now(UTC) + timedelta(days=91))
    verdict = _verdict("SecretsManager.3", secret)
    assert verdict.status is Status.FAILED
    assert f"scheduled for deletion on {deletion.astimezone(UTC).date().isoformat()}" in verdict.reason
    secrets.delete_secret(SecretId=secret.id, ForceDeleteWithoutRecovery=True)  # as Secrets Manager does later
    with pytest.raises(EvaluationError, match="db-password"):
        _verdict("SecretsManager.3", secret)


def test_sm3_recently_used_secret_scheduled_for_deletion_passes_and_says_so(now):
    resource = Resource.of_arn(SECRET, "AwsSecretsManagerSecret")
    described = {"CreatedDate": T0 - timedelta(days=400), "LastAccessedDate": T0 - timedelta(days=3),
                 "DeletedDate": T0 + timedelta(days=7)}  # fmt: skip
    now(T0)
    verdict = _verdict("SecretsManager.3", resource, session=StubSession(described))
    assert verdict.status is Status.PASSED
    assert "scheduled for deletion on 2024-06-08" in verdict.reason


# ----------------------------------------------------------------------------- SecretsManager.4


def test_sm4_rotated_secret_passes_until_max_days_since_rotation(secrets, now):
    secret = _secret(secrets)
    secrets.rotate_secret(SecretId=secret.id, RotationRules={"AutomaticallyAfterDays": 30}, RotateImmediately=False)
    now(datetime.now(UTC) + timedelta(days=30))
    verdict = _verdict("SecretsManager.4", secret)
    assert verdict.status is Status.PASSED, verdict.reason
    assert "LastRotatedDate" in verdict.reason
    now(datetime.now(UTC) + timedelta(days=100))
    assert _verdict("SecretsManager.4", secret).status is Status.FAILED
    assert _verdict("SecretsManager.4", secret, {"maxDaysSinceRotation": 120}).status is Status.PASSED


def test_sm4_never_rotated_secret_counts_from_its_creation(secrets, now):
    secret = _secret(secrets)
    now(datetime.now(UTC) + timedelta(days=10))
    assert _verdict("SecretsManager.4", secret).status is Status.PASSED
    now(datetime.now(UTC) + timedelta(days=91))
    verdict = _verdict("SecretsManager.4", secret)
    assert verdict.status is Status.FAILED
    assert "never rotated" in verdict.reason
