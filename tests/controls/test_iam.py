"""IAM.3, .7, .8, .11-.18, .22 evaluators on moto. "Now" is injected through the module's utc_now."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate, load_all
from asr.controls import iam as controls

ACCOUNT, REGION = "111111111111", "us-east-1"
ACCOUNT_RESOURCE = Resource.account_level(ACCOUNT, REGION)
SUPPORT_POLICY = "arn:aws:iam::aws:policy/AWSSupportAccess"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "support.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


class StubSession:
    """Hands the evaluator a Stubber-backed IAM client, for fields moto never reports."""

    def __init__(self) -> None:
        self.client_ = boto3.client("iam", region_name=REGION)
        self.stubber = Stubber(self.client_)

    def client(self, service: str, region_name: str | None = None) -> Any:
        return self.client_


@pytest.fixture
def iam():
    with mock_aws():
        yield boto3.client("iam", region_name=REGION)


@pytest.fixture
def iam_with_managed_policies(monkeypatch):
    # moto loads the AWS managed policies (AWSSupportAccess among them) only when asked to.
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    with mock_aws():
        yield boto3.client("iam", region_name=REGION)


@pytest.fixture
def now(monkeypatch):
    """Sets the evaluation time: ``now(moment)``; ``later(days)`` is real now plus days."""

    def set_now(moment: datetime) -> None:
        monkeypatch.setattr(controls, "utc_now", lambda: moment)

    return set_now


def later(days: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def _user(iam, name: str = "alice") -> Resource:
    return Resource.of_arn(iam.create_user(UserName=name)["User"]["Arn"], "AwsIamUser")


def _verdict(control_id: str, resource: Resource, parameters=None, session=None):
    return evaluate(control_id, session or boto3.Session(), resource, parameters)


def _user_stub(password_last_used: datetime | None, profile_created: datetime | None) -> StubSession:
    """GetUser, GetLoginProfile and ListAccessKeys (no keys) as IAM answers them for alice."""
    user = {
        "Path": "/",
        "UserName": "alice",
        "UserId": "AIDAEXAMPLEALICE0001",
        "Arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
        "CreateDate": T0 - timedelta(days=1000),
    }
    if password_last_used:
        user["PasswordLastUsed"] = password_last_used
    session = StubSession()
    session.stubber.add_response("get_user", {"User": user})
    if profile_created:
        profile = {"UserName": "alice", "CreateDate": profile_created}
        session.stubber.add_response("get_login_profile", {"LoginProfile": profile})
    else:
        session.stubber.add_client_error("get_login_profile", "NoSuchEntity", http_status_code=404)
    session.stubber.add_response("list_access_keys", {"AccessKeyMetadata": [], "IsTruncated": False})
    session.stubber.activate()
    return session


# ----------------------------------------------------------------------------- IAM.3


def test_iam3_access_key_older_than_90_days_fails(iam, now):
    user = _user(iam)
    key = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    now(later(30))
    assert _verdict("IAM.3", user).status is Status.PASSED
    now(later(91))
    verdict = _verdict("IAM.3", user)
    assert verdict.status is Status.FAILED
    assert key in verdict.reason and "maxAccessKeyAge 90" in verdict.reason


def test_iam3_inactive_key_is_not_evaluated(iam, now):
    user = _user(iam)
    key = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName="alice", AccessKeyId=key, Status="Inactive")
    now(later(400))
    verdict = _verdict("IAM.3", user)
    assert verdict.status is Status.PASSED
    assert "no active access keys" in verdict.reason


def test_iam3_max_access_key_age_parameter(iam, now):
    user = _user(iam)
    iam.create_access_key(UserName="alice")
    now(later(100))
    assert _verdict("IAM.3", user, {"maxAccessKeyAge": 120}).status is Status.PASSED


def test_iam3_missing_user_is_an_evaluation_error(iam):
    gone = Resource.of_arn(f"arn:aws:iam::{ACCOUNT}:user/gone", "AwsIamUser")
    with pytest.raises(EvaluationError, match="gone"):
        _verdict("IAM.3", gone)


# ----------------------------------------------------------------------------- IAM.8 / IAM.22


def test_unused_console_password_fails_after_45_then_90_days(iam, now):
    user = _user(iam)
    iam.create_login_profile(UserName="alice", Password="Not-a-real-password-1!")
    now(later(10))
    assert _verdict("IAM.22", user).status is Status.PASSED
    now(later(50))
    verdict = _verdict("IAM.22", user)
    assert verdict.status is Status.FAILED
    assert "console password" in verdict.reason and "never used" in verdict.reason
    assert _verdict("IAM.8", user).status is Status.PASSED
    now(later(91))
    assert _verdict("IAM.8", user).status is Status.FAILED


def test_used_access_key_counts_from_its_last_use(iam, now):
    user = _user(iam)
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    # A call signed with the key makes moto record its LastUsedDate.
    boto3.client(
        "sts", region_name=REGION, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
    ).get_caller_identity()
    now(later(30))
    verdict = _verdict("IAM.22", user)
    assert verdict.status is Status.PASSED, verdict.reason
    now(later(46))
    verdict = _verdict("IAM.22", user)
    assert verdict.status is Status.FAILED
    assert f"access key {key['AccessKeyId']} LastUsedDate" in verdict.reason


def test_unused_credentials_ignores_inactive_keys_and_passes_without_credentials(iam, now):
    user = _user(iam)
    verdict = _verdict("IAM.8", user)
    assert verdict.status is Status.PASSED
    assert "no console password and no active access keys" in verdict.reason
    key = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName="alice", AccessKeyId=key, Status="Inactive")
    now(later(365))
    assert _verdict("IAM.8", user).status is Status.PASSED


def test_password_last_used_decides(now):
    # moto never sets GetUser's PasswordLastUsed (no console sign-in to simulate): stub the IAM calls.
    user = Resource.of_arn(f"arn:aws:iam::{ACCOUNT}:user/alice", "AwsIamUser")
    now(T0)
    recent = _user_stub(T0 - timedelta(days=10), T0 - timedelta(days=300))
    verdict = _verdict("IAM.22", user, session=recent)
    assert verdict.status is Status.PASSED, verdict.reason
    recent.stubber.assert_no_pending_responses()
    stale = _user_stub(T0 - timedelta(days=60), T0 - timedelta(days=300))
    verdict = _verdict("IAM.22", user, session=stale)
    assert verdict.status is Status.FAILED
    assert "PasswordLastUsed" in verdict.reason


def test_password_recreated_after_its_last_use_counts_from_the_new_login_profile(now):
    user = Resource.of_arn(f"arn:aws:iam::{ACCOUNT}:user/alice", "AwsIamUser")
    now(T0)
    session = _user_stub(T0 - timedelta(days=200), T0 - timedelta(days=5))
    verdict = _verdict("IAM.8", user, session=session)
    assert verdict.status is Status.PASSED, verdict.reason


def test_unused_credentials_missing_user_is_an_evaluation_error(iam):
    gone = Resource.of_arn(f"arn:aws:iam::{ACCOUNT}:user/gone", "AwsIamUser")
    with pytest.raises(EvaluationError, match="gone"):
        _verdict("IAM.8", gone)


# ----------------------------------------------------------------------------- IAM.7

STRONG = {
    "MinimumPasswordLength": 14,
    "RequireSymbols": True,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True,
}


def test_iam7_no_password_policy_fails(iam):
    verdict = _verdict("IAM.7", ACCOUNT_RESOURCE)
    assert verdict.status is Status.FAILED
    assert "no account password policy" in verdict.reason


def test_iam7_strong_policy_passes_weak_one_fails(iam):
    iam.update_account_password_policy(**STRONG)
    assert _verdict("IAM.7", ACCOUNT_RESOURCE).status is Status.PASSED
    iam.update_account_password_policy(**{**STRONG, "RequireSymbols": False, "MinimumPasswordLength": 6})
    verdict = _verdict("IAM.7", ACCOUNT_RESOURCE)
    assert verdict.status is Status.FAILED
    assert "RequireSymbols is false" in verdict.reason
    assert "MinimumPasswordLength is 6, required at least 8" in verdict.reason


def test_iam7_reuse_and_age_are_checked_only_when_set(iam):
    iam.update_account_password_policy(**STRONG)
    verdict = _verdict("IAM.7", ACCOUNT_RESOURCE, {"PasswordReusePrevention": 5, "MaxPasswordAge": 90})
    assert verdict.status is Status.FAILED
    assert "PasswordReusePrevention is not set" in verdict.reason
    assert "passwords do not expire" in verdict.reason
    iam.update_account_password_policy(**STRONG, PasswordReusePrevention=5, MaxPasswordAge=120)
    verdict = _verdict("IAM.7", ACCOUNT_RESOURCE, {"PasswordReusePrevention": 5, "MaxPasswordAge": 90})
    assert verdict.status is Status.FAILED
    assert "MaxPasswordAge is 120, required at most 90" in verdict.reason
    iam.update_account_password_policy(**STRONG, PasswordReusePrevention=5, MaxPasswordAge=60)
    assert _verdict("IAM.7", ACCOUNT_RESOURCE, {"PasswordReusePrevention": 5, "MaxPasswordAge": 90}).status is (
        Status.PASSED
    )


def test_iam7_parameters_can_relax_and_tighten(iam):
    iam.update_account_password_policy(**{**STRONG, "RequireSymbols": False})
    assert _verdict("IAM.7", ACCOUNT_RESOURCE, {"RequireSymbols": "false"}).status is Status.PASSED
    verdict = _verdict("IAM.7", ACCOUNT_RESOURCE, {"RequireSymbols": False, "MinimumPasswordLength": 20})
    assert verdict.status is Status.FAILED
    assert "MinimumPasswordLength is 14, required at least 20" in verdict.reason


# ----------------------------------------------------------------------------- IAM.11 - IAM.17

SINGLE_FIELD = [
    ("IAM.11", {"RequireUppercaseCharacters": True}, {"RequireUppercaseCharacters": False}),
    ("IAM.12", {"RequireLowercaseCharacters": True}, {"RequireLowercaseCharacters": False}),
    ("IAM.13", {"RequireSymbols": True}, {"RequireSymbols": False}),
    ("IAM.14", {"RequireNumbers": True}, {"RequireNumbers": False}),
    ("IAM.15", {"MinimumPasswordLength": 14}, {"MinimumPasswordLength": 13}),
    ("IAM.16", {"PasswordReusePrevention": 24}, {"PasswordReusePrevention": 23}),
    ("IAM.17", {"MaxPasswordAge": 90}, {"MaxPasswordAge": 91}),
]


@pytest.mark.parametrize(("control_id", "good", "bad"), SINGLE_FIELD)
def test_remapped_password_controls_check_one_field(iam, control_id, good, bad):
    # Only the control's own field is set: the other requirements of IAM.7 do not matter here.
    iam.update_account_password_policy(**good)
    verdict = _verdict(control_id, ACCOUNT_RESOURCE)
    assert verdict.status is Status.PASSED, verdict.reason
    iam.update_account_password_policy(**bad)
    verdict = _verdict(control_id, ACCOUNT_RESOURCE)
    assert verdict.status is Status.FAILED
    assert next(iter(bad)) in verdict.reason


@pytest.mark.parametrize("control_id", [c for c, _, _ in SINGLE_FIELD])
def test_remapped_password_controls_fail_without_a_policy(iam, control_id):
    assert _verdict(control_id, ACCOUNT_RESOURCE).status is Status.FAILED


def test_iam17_passwords_that_never_expire_fail(iam):
    iam.update_account_password_policy(MinimumPasswordLength=14)
    verdict = _verdict("IAM.17", ACCOUNT_RESOURCE)
    assert verdict.status is Status.FAILED
    assert "passwords do not expire" in verdict.reason


def test_remapped_password_controls_declare_their_fixed_values():
    registry = load_all()
    assert registry["IAM.15"].defaults == {"MinimumPasswordLength": 14}
    assert registry["IAM.16"].defaults == {"PasswordReusePrevention": 24}
    assert registry["IAM.17"].defaults == {"MaxPasswordAge": 90}
    assert all(registry[c].scope == "account" for c, _, _ in SINGLE_FIELD)


# ----------------------------------------------------------------------------- IAM.18


def test_iam18_no_support_role_fails(iam_with_managed_policies):
    verdict = _verdict("IAM.18", ACCOUNT_RESOURCE)
    assert verdict.status is Status.FAILED
    assert "AWSSupportAccess is not attached" in verdict.reason


def test_iam18_support_role_passes(iam_with_managed_policies):
    iam = iam_with_managed_policies
    iam.create_role(RoleName="support", AssumeRolePolicyDocument=TRUST)
    iam.attach_role_policy(RoleName="support", PolicyArn=SUPPORT_POLICY)
    verdict = _verdict("IAM.18", ACCOUNT_RESOURCE)
    assert verdict.status is Status.PASSED
    assert "role(s) ['support']" in verdict.reason


def test_iam18_policy_attached_to_a_user_passes(iam_with_managed_policies):
    iam = iam_with_managed_policies
    iam.create_user(UserName="helpdesk")
    iam.attach_user_policy(UserName="helpdesk", PolicyArn=SUPPORT_POLICY)
    assert _verdict("IAM.18", ACCOUNT_RESOURCE).status is Status.PASSED


def test_iam18_group_counts_only_with_users(iam_with_managed_policies):
    iam = iam_with_managed_policies
    iam.create_group(GroupName="support")
    iam.attach_group_policy(GroupName="support", PolicyArn=SUPPORT_POLICY)
    verdict = _verdict("IAM.18", ACCOUNT_RESOURCE)
    assert verdict.status is Status.FAILED
    assert "without users" in verdict.reason
    iam.create_user(UserName="bob")
    iam.add_user_to_group(GroupName="support", UserName="bob")
    assert _verdict("IAM.18", ACCOUNT_RESOURCE).status is Status.PASSED


def test_iam18_policy_usage_type_parameter(iam_with_managed_policies):
    iam = iam_with_managed_policies
    iam.create_role(RoleName="support", AssumeRolePolicyDocument=TRUST)
    iam.attach_role_policy(RoleName="support", PolicyArn=SUPPORT_POLICY)
    assert _verdict("IAM.18", ACCOUNT_RESOURCE, {"policyUsageType": "IAM_USER"}).status is Status.FAILED
    assert _verdict("IAM.18", ACCOUNT_RESOURCE, {"policyUsageType": "IAM_ROLE"}).status is Status.PASSED


def test_iam18_unknown_policy_is_an_evaluation_error(iam):
    # A policyARN no account holds (AWS managed policies such as AWSSupportAccess exist in every
    # account, and asr/simulator/emulation/iam.py makes moto agree): GetPolicy fails.
    unknown = "arn:aws:iam::aws:policy/NoSuchSupportPolicy"
    with pytest.raises(EvaluationError, match="NoSuchSupportPolicy"):
        _verdict("IAM.18", ACCOUNT_RESOURCE, {"policyARN": unknown})
