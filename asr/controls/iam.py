"""AWS IAM controls: access keys and unused credentials of IAM users, the account password
policy (IAM.7 and the CIS checks remapped as IAM.11-IAM.17), and the AWS Support role.

Controls that age a credential compare dates with :func:`utc_now`; tests replace it
instead of waiting for time to pass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from asr.controls.base import Context, EvaluationError, Resource, Verdict, control, failed, passed
from asr.controls.base import api_call as _call

DOC = "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html"


def utc_now() -> datetime:
    """The time the evaluation happens at (aware, UTC)."""
    return datetime.now(UTC)


def _pages(control_id: str, resource: Resource, operation: Callable[..., Any], key: str, **kwargs: Any) -> list[Any]:
    """Every item under ``key`` across the Marker/IsTruncated pages of an IAM list call."""
    items: list[Any] = []
    marker: str | None = None
    while True:
        page = _call(control_id, resource, operation, **kwargs, **({"Marker": marker} if marker else {}))
        items.extend(page.get(key, []))
        if not page.get("IsTruncated"):
            return items
        marker = page["Marker"]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _days(control_id: str, name: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise EvaluationError(f"{control_id}: {name} must be an integer, got {value!r}") from None


def _flag(value: Any) -> bool:
    """A boolean parameter. As in the Config rule, a string counts as true only if it is 'true'."""
    if isinstance(value, str):
        return value == "true"
    return bool(value)


def _active_keys(control_id: str, ctx: Context, resource: Resource) -> list[dict[str, Any]]:
    iam = ctx.client("iam")
    keys = _pages(control_id, resource, iam.list_access_keys, "AccessKeyMetadata", UserName=resource.name)
    return [k for k in keys if k.get("Status") == "Active"]


# --------------------------------------------------------------------------- IAM.3


@control(
    "IAM.3",
    doc=f"{DOC}#iam-3",
    resource_types=("AwsIamUser",),
    defaults={"maxAccessKeyAge": 90},
)
def access_keys_rotated(ctx: Context, resource: Resource) -> Verdict:
    """IAM.3 (Config rule access-keys-rotated): NON_COMPLIANT if an active access key of the
    IAM user was created more than ``maxAccessKeyAge`` days ago (90, not customizable in
    Security Hub). Inactive keys are not evaluated; a user without active keys passes."""
    max_age = _days("IAM.3", "maxAccessKeyAge", ctx.parameters["maxAccessKeyAge"])
    active = _active_keys("IAM.3", ctx, resource)
    if not active:
        return passed("the user has no active access keys")
    now = utc_now()
    stale = []
    for key in active:
        age = now - _aware(key["CreateDate"])
        if age > timedelta(days=max_age):
            stale.append(
                f"access key {key['AccessKeyId']} CreateDate {key['CreateDate']:%Y-%m-%d} is {age.days} days old"
            )
    if stale:
        return failed(f"{'; '.join(stale)} (maxAccessKeyAge {max_age})")
    return passed(f"{len(active)} active access key(s), none older than maxAccessKeyAge {max_age} days")


# --------------------------------------------------------------------------- IAM.8 / IAM.22


def _unused_credentials(control_id: str, ctx: Context, resource: Resource) -> Verdict:
    """iam-user-unused-credentials-check: NON_COMPLIANT if the user has a console password
    or an active access key not used within ``maxCredentialUsageAge`` days. A credential
    never used counts from its creation date; a credential used before it was re-created
    (a new login profile) counts from the later of the two dates."""
    max_age = _days(control_id, "maxCredentialUsageAge", ctx.parameters["maxCredentialUsageAge"])
    iam = ctx.client("iam")
    user = _call(control_id, resource, iam.get_user, UserName=resource.name)["User"]
    now = utc_now()
    credentials: list[tuple[str, datetime, str]] = []  # (credential, last activity, which field)
    try:
        profile = iam.get_login_profile(UserName=resource.name)["LoginProfile"]
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "NoSuchEntity":
            raise EvaluationError(f"{control_id}: get_login_profile failed for {resource.id!r}: {err}") from None
        profile = None
    except BotoCoreError as err:
        raise EvaluationError(f"{control_id}: get_login_profile failed for {resource.id!r}: {err}") from None
    if profile is not None:
        created = _aware(profile["CreateDate"])
        used = user.get("PasswordLastUsed")
        if used and _aware(used) >= created:
            credentials.append(("console password", _aware(used), "PasswordLastUsed"))
        else:
            credentials.append(("console password", created, "login profile CreateDate (never used since)"))
    for key in _active_keys(control_id, ctx, resource):
        last = _call(control_id, resource, iam.get_access_key_last_used, AccessKeyId=key["AccessKeyId"])
        used = last.get("AccessKeyLastUsed", {}).get("LastUsedDate")
        if used:
            credentials.append((f"access key {key['AccessKeyId']}", _aware(used), "LastUsedDate"))
        else:
            credentials.append(
                (f"access key {key['AccessKeyId']}", _aware(key["CreateDate"]), "CreateDate (never used)")
            )
    if not credentials:
        return passed("the user has no console password and no active access keys")
    unused = [
        f"{what} {field} {when:%Y-%m-%d} is {(now - when).days} days ago"
        for what, when, field in credentials
        if now - when > timedelta(days=max_age)
    ]
    if unused:
        return failed(f"{'; '.join(unused)} (maxCredentialUsageAge {max_age})")
    names = ", ".join(what for what, _, _ in credentials)
    return passed(f"{names} used within maxCredentialUsageAge {max_age} days")


@control(
    "IAM.8",
    doc=f"{DOC}#iam-8",
    resource_types=("AwsIamUser",),
    defaults={"maxCredentialUsageAge": 90},
)
def unused_credentials_90(ctx: Context, resource: Resource) -> Verdict:
    """IAM.8 (Config rule iam-user-unused-credentials-check, maxCredentialUsageAge 90, not
    customizable in Security Hub): the user's console password and active access keys must
    each have been used within 90 days."""
    return _unused_credentials("IAM.8", ctx, resource)


@control(
    "IAM.22",
    doc=f"{DOC}#iam-22",
    resource_types=("AwsIamUser",),
    defaults={"maxCredentialUsageAge": 45},
)
def unused_credentials_45(ctx: Context, resource: Resource) -> Verdict:
    """IAM.22 (Config rule iam-user-unused-credentials-check, maxCredentialUsageAge 45): the
    user's console password and active access keys must each have been used within 45 days
    (CIS: credentials unused for 45 days or more should be removed)."""
    return _unused_credentials("IAM.22", ctx, resource)


# --------------------------------------------------------------------------- password policy

# Parameter (= PasswordPolicy field) -> how the policy value must compare with it.
_FLAG, _AT_LEAST, _AT_MOST = "flag", "at least", "at most"
PASSWORD_CHECKS: Mapping[str, str] = {
    "RequireUppercaseCharacters": _FLAG,
    "RequireLowercaseCharacters": _FLAG,
    "RequireSymbols": _FLAG,
    "RequireNumbers": _FLAG,
    "MinimumPasswordLength": _AT_LEAST,
    "PasswordReusePrevention": _AT_LEAST,
    "MaxPasswordAge": _AT_MOST,
}


def _password_policy(control_id: str, ctx: Context, resource: Resource) -> dict[str, Any] | None:
    iam = ctx.client("iam")
    try:
        return iam.get_account_password_policy()["PasswordPolicy"]
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "NoSuchEntity":
            return None
        raise EvaluationError(f"{control_id}: get_account_password_policy failed for {resource.id!r}: {err}") from None
    except BotoCoreError as err:
        raise EvaluationError(f"{control_id}: get_account_password_policy failed for {resource.id!r}: {err}") from None


def _password_verdict(control_id: str, ctx: Context, resource: Resource, names: tuple[str, ...]) -> Verdict:
    """iam-password-policy over the parameters ``names`` (a parameter set to None is not checked)."""
    wanted = {name: ctx.parameters.get(name) for name in names}
    policy = _password_policy(control_id, ctx, resource)
    if policy is None:
        return failed("no account password policy is set (the IAM default password policy does not comply)")
    problems: list[str] = []
    good: list[str] = []
    for name, value in wanted.items():
        if value is None:
            continue
        how = PASSWORD_CHECKS[name]
        actual = policy.get(name)
        if how == _FLAG:
            if not _flag(value):
                continue
            (good if actual is True else problems).append(f"{name} is {str(bool(actual)).lower()}")
            continue
        limit = _days(control_id, name, value)
        if name == "MaxPasswordAge" and (not actual or policy.get("ExpirePasswords") is False):
            problems.append(f"MaxPasswordAge is not set (passwords do not expire), required at most {limit}")
        elif actual is None:
            problems.append(f"{name} is not set, required {how} {limit}")
        elif (how == _AT_LEAST and int(actual) < limit) or (how == _AT_MOST and int(actual) > limit):
            problems.append(f"{name} is {actual}, required {how} {limit}")
        else:
            good.append(f"{name} is {actual}")
    if problems:
        return failed("; ".join(problems))
    if not good:
        return passed("a password policy is set and no parameter requires more")
    return passed("; ".join(good))


_IAM7_DEFAULTS = {
    "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True,
    "RequireSymbols": True,
    "RequireNumbers": True,
    "MinimumPasswordLength": 8,
    "PasswordReusePrevention": None,
    "MaxPasswordAge": None,
}


@control(
    "IAM.7",
    doc=f"{DOC}#iam-7",
    resource_types=("AwsAccount",),
    defaults=_IAM7_DEFAULTS,
    scope="account",
)
def password_policy_strong(ctx: Context, resource: Resource) -> Verdict:
    """IAM.7 (Config rule iam-password-policy): the account password policy must require
    uppercase, lowercase, symbols and numbers and a minimum length of 8 (Security Hub
    defaults, customizable); PasswordReusePrevention (at least) and MaxPasswordAge (at most)
    are checked only when set, as Security Hub has no default for them. An account with no
    password policy (the IAM default) is NON_COMPLIANT."""
    return _password_verdict("IAM.7", ctx, resource, tuple(_IAM7_DEFAULTS))


def _single_password_control(control_id: str, anchor: str, name: str, value: Any, rule: str) -> None:
    def evaluator(ctx: Context, resource: Resource) -> Verdict:
        return _password_verdict(control_id, ctx, resource, (name,))

    evaluator.__name__ = f"password_policy_{name[0].lower()}{name[1:]}"
    evaluator.__doc__ = f"{control_id} (Config rule iam-password-policy, {name} = {value}): {rule}"
    control(
        control_id,
        doc=f"{DOC}#{anchor}",
        resource_types=("AwsAccount",),
        defaults={name: value},
        scope="account",
    )(evaluator)
    globals()[evaluator.__name__] = evaluator


# The CIS v1.2.0 password-policy checks: each is the iam-password-policy rule on one field.
_single_password_control(
    "IAM.11", "iam-11", "RequireUppercaseCharacters", True, "the policy must require an uppercase letter."
)
_single_password_control(
    "IAM.12", "iam-12", "RequireLowercaseCharacters", True, "the policy must require a lowercase letter."
)
_single_password_control("IAM.13", "iam-13", "RequireSymbols", True, "the policy must require a symbol.")
_single_password_control("IAM.14", "iam-14", "RequireNumbers", True, "the policy must require a number.")
_single_password_control(
    "IAM.15", "iam-15", "MinimumPasswordLength", 14, "the minimum password length must be 14 or greater."
)
_single_password_control(
    "IAM.16", "iam-16", "PasswordReusePrevention", 24, "the policy must remember 24 passwords against reuse."
)
_single_password_control("IAM.17", "iam-17", "MaxPasswordAge", 90, "passwords must expire within 90 days or less.")


# --------------------------------------------------------------------------- IAM.18


@control(
    "IAM.18",
    doc=f"{DOC}#iam-18",
    resource_types=("AwsAccount",),
    defaults={"policyARN": "arn:{partition}:iam::aws:policy/AWSSupportAccess", "policyUsageType": "ANY"},
    scope="account",
)
def support_role(ctx: Context, resource: Resource) -> Verdict:
    """IAM.18 (Config rule iam-policy-in-use; policyARN = the AWSSupportAccess managed policy,
    policyUsageType = ANY): the policy must be attached to an IAM user, to a group with one
    or more users, or to a role (a role always has a trusted entity in its trust policy).
    Use as a permissions boundary does not count."""
    arn = str(ctx.parameters["policyARN"]).replace("{partition}", ctx.partition)
    usage = str(ctx.parameters["policyUsageType"]).upper()
    if usage not in ("ANY", "IAM_USER", "IAM_GROUP", "IAM_ROLE"):
        raise EvaluationError(f"IAM.18: policyUsageType must be ANY, IAM_USER, IAM_GROUP or IAM_ROLE, got {usage!r}")
    iam = ctx.client("iam")
    policy = _call("IAM.18", resource, iam.get_policy, PolicyArn=arn)["Policy"]
    name = policy.get("PolicyName", arn)
    users = _pages(
        "IAM.18",
        resource,
        iam.list_entities_for_policy,
        "PolicyUsers",
        PolicyArn=arn,
        EntityFilter="User",
        PolicyUsageFilter="PermissionsPolicy",
    )
    if usage in ("ANY", "IAM_USER") and users:
        return passed(f"{name} is attached to user(s) {[u['UserName'] for u in users]}")
    roles = _pages(
        "IAM.18",
        resource,
        iam.list_entities_for_policy,
        "PolicyRoles",
        PolicyArn=arn,
        EntityFilter="Role",
        PolicyUsageFilter="PermissionsPolicy",
    )
    if usage in ("ANY", "IAM_ROLE") and roles:
        return passed(f"{name} is attached to role(s) {[r['RoleName'] for r in roles]}")
    groups = _pages(
        "IAM.18",
        resource,
        iam.list_entities_for_policy,
        "PolicyGroups",
        PolicyArn=arn,
        EntityFilter="Group",
        PolicyUsageFilter="PermissionsPolicy",
    )
    empty = []
    if usage in ("ANY", "IAM_GROUP"):
        for group in groups:
            members = _pages("IAM.18", resource, iam.get_group, "Users", GroupName=group["GroupName"])
            if members:
                return passed(f"{name} is attached to group {group['GroupName']!r} with {len(members)} user(s)")
            empty.append(group["GroupName"])
    detail = f" (attached only to group(s) {empty} without users)" if empty else ""
    return failed(f"{name} is not attached to any user, role, or group with users (policyUsageType {usage}){detail}")
