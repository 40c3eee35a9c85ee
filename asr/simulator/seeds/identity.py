"""Seeders for the AWS IAM controls: access keys and unused credentials of IAM users, the account
password policy (IAM.7 and the CIS checks IAM.11-IAM.17), and the AWS Support role (IAM.18).

Credential ages are dates moto's API never lets a caller set (a key's creation date, a login
profile's): the seeders move them into the past in moto's backend, as a credential that old would be.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from asr.controls import Resource
from asr.simulator.seeds import Seeded, Where, seeder

SUPPORT_POLICY = "AWSSupportAccess"


def _iam_backend(where: Where) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[where.account][where.partition]


def _backdate_key(where: Where, user: str, key_id: str, days: int) -> None:
    from moto.core.utils import utcnow

    for key in _iam_backend(where).users[user].access_keys:
        if key.access_key_id == key_id:
            key.create_date = utcnow() - timedelta(days=days)


def _backdate_user(where: Where, user: str, days: int) -> None:
    """The user, and so its login profile (moto dates a login profile by its user), ``days`` old."""
    from moto.core.utils import utcnow

    _iam_backend(where).users[user].create_date = utcnow() - timedelta(days=days)


def _key(iam: Any, where: Where, user: str, age: int) -> str:
    key_id = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    _backdate_key(where, user, key_id, age)
    return key_id


def _keys(iam: Any, user: str) -> list[tuple[str, str]]:
    return sorted((k["AccessKeyId"], k["Status"]) for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"])


def _has_login_profile(iam: Any, user: str) -> bool:
    try:
        iam.get_login_profile(UserName=user)
    except iam.exceptions.NoSuchEntityException:
        return False
    return True


def _user_rest(iam: Any, user: str) -> dict[str, Any]:
    """What a credential remediation must leave alone on a user: tags, groups, policies."""
    return {
        "Tags": iam.list_user_tags(UserName=user)["Tags"],
        "Groups": [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]],
        "Policies": iam.list_user_policies(UserName=user)["PolicyNames"],
    }


def _user(iam: Any, name: str) -> str:
    arn = iam.create_user(UserName=name, Tags=[{"Key": "team", "Value": "ops"}])["User"]["Arn"]
    iam.put_user_policy(
        UserName=name,
        PolicyName="read-logs",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:Get*", "Resource": "*"}]}
        ),
    )
    return arn


# --------------------------------------------------------------------------- IAM.3


@seeder("IAM.3")
def user_with_unrotated_key(where: Where) -> Seeded:
    """An IAM user with an active access key created 120 days ago and a fresh one (10 days); another
    user with a 400-day-old key is the bystander."""
    iam = where.client("iam")
    arn = _user(iam, "seeded-iam3")
    _key(iam, where, "seeded-iam3", 120)
    fresh = _key(iam, where, "seeded-iam3", 10)
    _user(iam, "seeded-iam3-bystander")
    _key(iam, where, "seeded-iam3-bystander", 400)
    return Seeded(
        resource=Resource.of_arn(arn, "AwsIamUser"),
        state=lambda: _keys(iam, "seeded-iam3"),
        bystanders=lambda: (
            [k for k in _keys(iam, "seeded-iam3") if k[0] == fresh],
            _user_rest(iam, "seeded-iam3"),
            _keys(iam, "seeded-iam3-bystander"),
        ),
    )


# --------------------------------------------------------------------------- IAM.8 / IAM.22


def _unused_credentials(where: Where, name: str, age: int) -> Seeded:
    """An IAM user, created ``age`` days ago, with a console password never used since and an access
    key never used; a recent key (5 days) is kept. Another user alike is the bystander."""
    iam = where.client("iam")
    users = (name, f"{name}-bystander")
    fresh = {}
    for user in users:
        arn = _user(iam, user)
        iam.create_login_profile(UserName=user, Password="Seeded-Passw0rd!")
        _key(iam, where, user, age)
        fresh[user] = _key(iam, where, user, 5)
        _backdate_user(where, user, age)
        if user == name:
            resource = Resource.of_arn(arn, "AwsIamUser")

    def credentials(user: str) -> dict[str, Any]:
        return {"Keys": _keys(iam, user), "LoginProfile": _has_login_profile(iam, user)}

    return Seeded(
        resource=resource,
        state=lambda: credentials(name),
        bystanders=lambda: (
            [k for k in _keys(iam, name) if k[0] == fresh[name]],
            _user_rest(iam, name),
            credentials(users[1]),
        ),
    )


@seeder("IAM.8")
def user_with_credentials_unused_90_days(where: Where) -> Seeded:
    return _unused_credentials(where, "seeded-iam8", 120)


@seeder("IAM.22")
def user_with_credentials_unused_45_days(where: Where) -> Seeded:
    return _unused_credentials(where, "seeded-iam22", 60)


# --------------------------------------------------------------------------- password policy

_WEAK = {
    "MinimumPasswordLength": 6,
    "RequireSymbols": False,
    "RequireNumbers": False,
    "RequireUppercaseCharacters": False,
    "RequireLowercaseCharacters": False,
    "AllowUsersToChangePassword": True,
    "HardExpiry": False,
}


def _password_policy(iam: Any) -> dict[str, Any] | None:
    try:
        return iam.get_account_password_policy()["PasswordPolicy"]
    except iam.exceptions.NoSuchEntityException:
        return None


def _password_shape(where: Where, policy: dict[str, Any] | None) -> Seeded:
    """The account password policy ``policy`` (None: none set, the IAM default); IAM users with console
    passwords are the bystanders (a password policy change must not remove or reset them)."""
    iam = where.client("iam")
    if policy is not None:
        iam.update_account_password_policy(**policy)
    _user(iam, "seeded-console-user")
    iam.create_login_profile(UserName="seeded-console-user", Password="Seeded-Passw0rd!")
    return Seeded(
        resource=Resource.account_level(where.account, where.region, where.partition),
        state=lambda: _password_policy(iam),
        bystanders=lambda: (
            _has_login_profile(iam, "seeded-console-user"),
            iam.get_login_profile(UserName="seeded-console-user")["LoginProfile"]["PasswordResetRequired"],
            _user_rest(iam, "seeded-console-user"),
        ),
    )


@seeder("IAM.7")
def weak_password_policy(where: Where) -> Seeded:
    """A password policy that requires no character classes and 6 characters."""
    return _password_shape(where, _WEAK)


@seeder("IAM.7", shape="no-policy")
def no_password_policy(where: Where) -> Seeded:
    """No account password policy at all (the IAM default does not comply)."""
    return _password_shape(where, None)


@seeder("IAM.11")
def policy_without_uppercase(where: Where) -> Seeded:
    return _password_shape(where, {**_WEAK, "RequireUppercaseCharacters": False})


@seeder("IAM.12")
def policy_without_lowercase(where: Where) -> Seeded:
    return _password_shape(where, {**_WEAK, "RequireLowercaseCharacters": False})


@seeder("IAM.13")
def policy_without_symbols(where: Where) -> Seeded:
    return _password_shape(where, {**_WEAK, "RequireSymbols": False})


@seeder("IAM.14")
def policy_without_numbers(where: Where) -> Seeded:
    return _password_shape(where, {**_WEAK, "RequireNumbers": False})


@seeder("IAM.15")
def policy_with_short_passwords(where: Where) -> Seeded:
    return _password_shape(where, {**_WEAK, "MinimumPasswordLength": 8})


@seeder("IAM.16")
def policy_with_little_reuse_prevention(where: Where) -> Seeded:
    return _password_shape(where, {**_WEAK, "PasswordReusePrevention": 5})


@seeder("IAM.17")
def policy_with_long_password_age(where: Where) -> Seeded:
    return _password_shape(where, {**_WEAK, "MaxPasswordAge": 365})


# --------------------------------------------------------------------------- IAM.18


def _aws_managed_policy(where: Where, name: str) -> None:
    """AWS defines its managed policies in every account; moto loads them only when asked to before
    the account's IAM exists, so the one the control needs is added to moto's account here."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy

    backend = _iam_backend(where)
    arn = f"arn:{where.partition}:iam::aws:policy/{name}"
    if arn not in backend.managed_policies:
        data = json.loads(aws_managed_policies_data)[name]
        backend.managed_policies[arn] = AWSManagedPolicy.from_data(name, where.account, where.region, data)


@seeder("IAM.18")
def no_support_role(where: Where) -> Seeded:
    """No IAM entity has AWSSupportAccess; an unrelated role (ReadOnly) is the bystander."""
    _aws_managed_policy(where, SUPPORT_POLICY)
    iam = where.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:{where.partition}:iam::{where.account}:root"},
             "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(RoleName="seeded-iam18-bystander", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(
        RoleName="seeded-iam18-bystander",
        PolicyName="read",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}
        ),
    )
    policy_arn = f"arn:{where.partition}:iam::aws:policy/{SUPPORT_POLICY}"

    def support_role() -> Any:
        roles = iam.list_entities_for_policy(PolicyArn=policy_arn, EntityFilter="Role")["PolicyRoles"]
        return sorted(r["RoleName"] for r in roles)

    return Seeded(
        resource=Resource.account_level(where.account, where.region, where.partition),
        state=support_role,
        bystanders=lambda: (
            iam.get_role(RoleName="seeded-iam18-bystander")["Role"]["AssumeRolePolicyDocument"],
            iam.list_role_policies(RoleName="seeded-iam18-bystander")["PolicyNames"],
            iam.list_attached_role_policies(RoleName="seeded-iam18-bystander")["AttachedPolicies"],
        ),
    )
