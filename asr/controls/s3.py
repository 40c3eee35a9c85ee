"""Amazon S3 controls.

Each evaluator reads the bucket (or the account's S3 settings) through the S3 API
and judges it as the Security Hub control page and its AWS Config rule describe.
The bucket-policy helpers below are shared with the CloudTrail bucket controls.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from asr.controls.base import Context, EvaluationError, Resource, Verdict, control, failed, passed

_DOC = "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html"

BPA_FIELDS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")

_PUBLIC_GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "AuthenticatedUsers",
}

# Representative actions used to decide whether an Allow statement (its Action or
# NotAction patterns) grants read or write access to the bucket or its objects.
READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:ListBucketVersions")
WRITE_ACTIONS = (
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObjectAcl",
    "s3:PutBucketAcl",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:DeleteBucket",
)
READ_ACL_PERMISSIONS = ("READ", "FULL_CONTROL")
WRITE_ACL_PERMISSIONS = ("WRITE", "WRITE_ACP", "FULL_CONTROL")

# Condition keys that, bound to fixed (non-wildcard) values, make an otherwise
# public statement non-public ("The meaning of public", Amazon S3 User Guide).
_FIXING_CONDITION_KEYS = {
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:userid",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
}

# --------------------------------------------------------------------------- API access


def s3_client(ctx: Context) -> Any:
    """An S3 client; bucket ARNs carry no Region, so an empty Region falls back to the session's."""
    return ctx.session.client("s3", region_name=ctx.region or None)


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def call(
    control_id: str,
    resource: Resource,
    fn: Callable[..., Any],
    *,
    absent: Iterable[str] = (),
    **kwargs: Any,
) -> Any:
    """``fn(**kwargs)``; None when the error code is one of ``absent`` (a setting not configured),
    EvaluationError naming the resource for any other failure."""
    try:
        return fn(**kwargs)
    except ClientError as err:
        if error_code(err) in set(absent):
            return None
        name = getattr(fn, "__name__", "call")
        raise EvaluationError(f"{control_id}: {name} failed for {resource.id!r}: {err}") from None
    except BotoCoreError as err:
        name = getattr(fn, "__name__", "call")
        raise EvaluationError(f"{control_id}: {name} failed for {resource.id!r}: {err}") from None


def account_of(ctx: Context, resource: Resource, control_id: str) -> str:
    """The account that owns the resource (bucket ARNs carry none: ask STS for the session's)."""
    if resource.account:
        return resource.account
    if ctx.account:
        return ctx.account
    sts = ctx.session.client("sts", region_name=ctx.region or None)
    return str(call(control_id, resource, sts.get_caller_identity)["Account"])


def bucket_policy(ctx: Context, resource: Resource, control_id: str) -> dict[str, Any] | None:
    """The bucket policy document, or None when the bucket has none."""
    s3 = s3_client(ctx)
    out = call(control_id, resource, s3.get_bucket_policy, absent=("NoSuchBucketPolicy",), Bucket=resource.name)
    if out is None:
        return None
    try:
        doc = json.loads(out["Policy"])
    except (KeyError, TypeError, ValueError) as err:
        raise EvaluationError(f"{control_id}: bucket policy of {resource.id!r} is not JSON: {err}") from None
    if not isinstance(doc, dict):
        raise EvaluationError(f"{control_id}: bucket policy of {resource.id!r} is not a JSON object")
    return doc


def bucket_bpa(ctx: Context, resource: Resource, control_id: str) -> dict[str, bool] | None:
    """The bucket-level Block Public Access configuration, or None when none is set."""
    s3 = s3_client(ctx)
    out = call(
        control_id,
        resource,
        s3.get_public_access_block,
        absent=("NoSuchPublicAccessBlockConfiguration",),
        Bucket=resource.name,
    )
    if out is None:
        return None
    conf = out.get("PublicAccessBlockConfiguration", {})
    return {f: bool(conf.get(f, False)) for f in BPA_FIELDS}


def account_bpa(ctx: Context, resource: Resource, control_id: str) -> dict[str, bool] | None:
    """The account-level Block Public Access configuration (S3 Control), or None when none is set."""
    account = account_of(ctx, resource, control_id)
    s3control = ctx.session.client("s3control", region_name=ctx.region or None)
    out = call(
        control_id,
        resource,
        s3control.get_public_access_block,
        absent=("NoSuchPublicAccessBlockConfiguration",),
        AccountId=account,
    )
    if out is None:
        return None
    conf = out.get("PublicAccessBlockConfiguration", {})
    return {f: bool(conf.get(f, False)) for f in BPA_FIELDS}


# --------------------------------------------------------------------------- policy reading


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def as_bool(value: Any) -> bool:
    """Control parameters may arrive as booleans or as the strings AWS Config uses."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def as_csv_list(value: Any) -> list[str]:
    """A list parameter given as a list or as a comma-separated string."""
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v).strip() for v in value if str(v).strip()]


def statements(policy: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if not policy:
        return []
    return [s for s in as_list(policy.get("Statement")) if isinstance(s, dict)]


def sid(statement: Mapping[str, Any], index: int) -> str:
    return repr(statement["Sid"]) if statement.get("Sid") else f"#{index}"


def principal_is_everyone(principal: Any) -> bool:
    """``"*"`` or ``{"AWS": "*"}`` (possibly in a list): every principal, anonymous ones included."""
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return "*" in [str(p).strip() for p in as_list(principal.get("AWS"))]
    return False


def action_matches(patterns: Iterable[Any], action: str) -> bool:
    """Whether one IAM action pattern (``s3:Get*``, ``*`` ...) covers ``action`` (case-insensitive)."""
    return any(fnmatch.fnmatchcase(action.lower(), str(p).lower()) for p in patterns)


def statement_allows_action(statement: Mapping[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not action_matches(as_list(statement["NotAction"]), action)
    return action_matches(as_list(statement.get("Action")), action)


def _fixed_value(value: Any) -> bool:
    text = str(value)
    if any(ch in text for ch in "*?") or "${" in text:
        return False
    return text not in ("0.0.0.0/0", "::/0")


def condition_fixes_access(condition: Any) -> bool:
    """True when a condition limits the statement to fixed values of a key S3 accepts as non-public."""
    if not isinstance(condition, dict):
        return False
    for operator, block in condition.items():
        op = str(operator).lower()
        # negated operators, Null and ...IfExists leave requests without the key unconstrained
        if "not" in op or op.startswith("null") or op.endswith("ifexists") or not isinstance(block, dict):
            continue
        for key, values in block.items():
            vals = as_list(values)
            if str(key).lower() in _FIXING_CONDITION_KEYS and vals and all(_fixed_value(v) for v in vals):
                return True
    return False


def public_policy_grant(policy: Mapping[str, Any] | None, actions: Iterable[str]) -> str | None:
    """Describe the first Allow statement granting any of ``actions`` to everyone, or None."""
    wanted = tuple(actions)
    for index, st in enumerate(statements(policy)):
        if st.get("Effect") != "Allow":
            continue
        everyone = principal_is_everyone(st.get("Principal")) or "NotPrincipal" in st
        if not everyone or condition_fixes_access(st.get("Condition")):
            continue
        for action in wanted:
            if statement_allows_action(st, action):
                return f"bucket policy statement {sid(st, index)} allows {action} to Principal '*'"
    return None


def public_acl_grant(ctx: Context, resource: Resource, control_id: str, permissions: Iterable[str]) -> str | None:
    """Describe the first bucket ACL grant of ``permissions`` to AllUsers/AuthenticatedUsers, or None."""
    s3 = s3_client(ctx)
    acl = call(control_id, resource, s3.get_bucket_acl, Bucket=resource.name)
    wanted = set(permissions)
    for grant in acl.get("Grants", []):
        group = _PUBLIC_GROUPS.get(grant.get("Grantee", {}).get("URI", ""))
        if group and grant.get("Permission") in wanted:
            return f"bucket ACL grants {grant['Permission']} to {group}"
    return None


def public_access(ctx: Context, resource: Resource, control_id: str, kind: str) -> Verdict:
    """The s3-bucket-public-{read,write}-prohibited logic: the bucket is compliant when (Block Public
    Access restricts public policies, or the policy grants no public ``kind`` access) and (Block
    Public Access restricts public ACLs, or the ACL grants no public ``kind`` access).

    S3 applies the most restrictive combination of the account-level and bucket-level settings,
    so either level counts. A setting "restricts" existing grants only when it acts on them:
    RestrictPublicBuckets for policies, IgnorePublicAcls for ACLs (BlockPublicPolicy and
    BlockPublicAcls only reject new public grants).
    """
    actions, acl_perms = (
        (READ_ACTIONS, READ_ACL_PERMISSIONS) if kind == "read" else (WRITE_ACTIONS, WRITE_ACL_PERMISSIONS)
    )
    levels = {"bucket": bucket_bpa(ctx, resource, control_id), "account": account_bpa(ctx, resource, control_id)}

    def restricted_by(field: str) -> str | None:
        for level, conf in levels.items():
            if conf and conf.get(field):
                return level
        return None

    reasons = []
    policy_level = restricted_by("RestrictPublicBuckets")
    if policy_level:
        reasons.append(f"RestrictPublicBuckets is true at the {policy_level} level")
    else:
        grant = public_policy_grant(bucket_policy(ctx, resource, control_id), actions)
        if grant:
            return failed(f"{grant} and RestrictPublicBuckets is false at both levels")
        reasons.append(f"the bucket policy grants no public {kind} access")

    acl_level = restricted_by("IgnorePublicAcls")
    if acl_level:
        reasons.append(f"IgnorePublicAcls is true at the {acl_level} level")
    else:
        grant = public_acl_grant(ctx, resource, control_id, acl_perms)
        if grant:
            return failed(f"{grant} and IgnorePublicAcls is false at both levels")
        reasons.append(f"the bucket ACL grants no public {kind} access")
    return passed("; ".join(reasons))


def server_access_logging(ctx: Context, resource: Resource, control_id: str) -> Verdict:
    """The s3-bucket-logging-enabled logic: LoggingEnabled must be set on the bucket."""
    s3 = s3_client(ctx)
    out = call(control_id, resource, s3.get_bucket_logging, Bucket=resource.name)
    target = (out.get("LoggingEnabled") or {}).get("TargetBucket")
    if target:
        return passed(f"LoggingEnabled.TargetBucket is {target!r}")
    return failed(f"LoggingEnabled is not set on bucket {resource.name!r}: server access logging is off")


# --------------------------------------------------------------------------- controls


@control(
    "S3.1",
    doc=f"{_DOC}#s3-1",
    resource_types=("AwsAccount",),
    defaults={
        "ignorePublicAcls": True,
        "blockPublicPolicy": True,
        "blockPublicAcls": True,
        "restrictPublicBuckets": True,
    },
    scope="account",
)
def account_block_public_access(ctx: Context, resource: Resource) -> Verdict:
    """S3.1 (Config rule s3-account-level-public-access-blocks-periodic): the account-level S3 Block
    Public Access settings must be configured; each of IgnorePublicAcls, BlockPublicPolicy,
    BlockPublicAcls and RestrictPublicBuckets whose parameter is true must be true. A missing
    configuration fails."""
    conf = account_bpa(ctx, resource, "S3.1")
    if conf is None:
        return failed("no account-level Block Public Access configuration exists")
    required = {
        "BlockPublicAcls": ctx.parameter("blockPublicAcls"),
        "IgnorePublicAcls": ctx.parameter("ignorePublicAcls"),
        "BlockPublicPolicy": ctx.parameter("blockPublicPolicy"),
        "RestrictPublicBuckets": ctx.parameter("restrictPublicBuckets"),
    }
    off = [f for f in BPA_FIELDS if as_bool(required[f]) and not conf[f]]
    if off:
        return failed(", ".join(f"{f} is false" for f in off) + " at the account level")
    checked = [f for f in BPA_FIELDS if as_bool(required[f])]
    return passed(
        ", ".join(f"{f} is true" for f in checked) + " at the account level" if checked else "no setting required"
    )


@control("S3.2", doc=f"{_DOC}#s3-2", resource_types=("AwsS3Bucket",))
def public_read_prohibited(ctx: Context, resource: Resource) -> Verdict:
    """S3.2 (Config rule s3-bucket-public-read-prohibited): checks Block Public Access, the bucket
    policy and the bucket ACL; fails when public read access is granted by a policy that Block
    Public Access does not restrict, or by an ACL that Block Public Access does not restrict."""
    return public_access(ctx, resource, "S3.2", "read")


@control("S3.3", doc=f"{_DOC}#s3-3", resource_types=("AwsS3Bucket",))
def public_write_prohibited(ctx: Context, resource: Resource) -> Verdict:
    """S3.3 (Config rule s3-bucket-public-write-prohibited): as S3.2, for public write access
    (PutObject/DeleteObject/ACL and policy writes; ACL WRITE, WRITE_ACP, FULL_CONTROL)."""
    return public_access(ctx, resource, "S3.3", "write")


_SSE_ALGORITHMS = {"AES256", "aws:kms", "aws:kms:dsse"}


def _denies_unencrypted_puts(policy: Mapping[str, Any] | None) -> str | None:
    for index, st in enumerate(statements(policy)):
        if st.get("Effect") != "Deny" or not principal_is_everyone(st.get("Principal")):
            continue
        if not statement_allows_action(st, "s3:PutObject"):
            continue
        for operator, block in (st.get("Condition") or {}).items():
            if not isinstance(block, dict):
                continue
            for key, values in block.items():
                if str(key).lower() != "s3:x-amz-server-side-encryption":
                    continue
                vals = [str(v).lower() for v in as_list(values)]
                op = str(operator).lower()
                if op == "null" and vals == ["true"]:
                    return f"bucket policy statement {sid(st, index)} denies s3:PutObject without encryption header"
                if op.startswith("stringnotequals") and {v.lower() for v in _SSE_ALGORITHMS} & set(vals):
                    return f"bucket policy statement {sid(st, index)} denies s3:PutObject without {values}"
    return None


@control("S3.4", doc=f"{_DOC}#s3-4", resource_types=("AwsS3Bucket",))
def server_side_encryption_enabled(ctx: Context, resource: Resource) -> Verdict:
    """S3.4 (Config rule s3-bucket-server-side-encryption-enabled): the bucket has default
    encryption (SSE-S3, SSE-KMS or DSSE-KMS), or its policy explicitly denies s3:PutObject
    requests without server-side encryption."""
    s3 = s3_client(ctx)
    out = call(
        "S3.4",
        resource,
        s3.get_bucket_encryption,
        absent=("ServerSideEncryptionConfigurationNotFoundError",),
        Bucket=resource.name,
    )
    for rule in (out or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", []):
        algorithm = rule.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
        if algorithm in _SSE_ALGORITHMS:
            return passed(f"default encryption SSEAlgorithm is {algorithm!r}")
    denial = _denies_unencrypted_puts(bucket_policy(ctx, resource, "S3.4"))
    if denial:
        return passed(denial)
    return failed(
        "ServerSideEncryptionConfiguration is absent (no default encryption) "
        "and no bucket policy statement denies unencrypted s3:PutObject"
    )


def _is_secure_transport_false(condition: Any) -> bool:
    if not isinstance(condition, dict):
        return False
    for operator, block in condition.items():
        if str(operator).lower() not in ("bool", "boolifexists") or not isinstance(block, dict):
            continue
        for key, values in block.items():
            if str(key).lower() == "aws:securetransport" and [str(v).lower() for v in as_list(values)] == ["false"]:
                return True
    return False


@control("S3.5", doc=f"{_DOC}#s3-5", resource_types=("AwsS3Bucket",))
def ssl_requests_only(ctx: Context, resource: Resource) -> Verdict:
    """S3.5 (Config rule s3-bucket-ssl-requests-only): the bucket policy must explicitly deny
    requests made without SSL. Accepted: Deny statements for Principal "*", Action "s3:*" (or
    "*"), Condition Bool aws:SecureTransport "false", whose Resources together cover both the
    bucket ARN and its objects (``bucket/*``). Allow-only policies do not count."""
    policy = bucket_policy(ctx, resource, "S3.5")
    if policy is None:
        return failed("bucket has no bucket policy: no statement denies aws:SecureTransport false")
    bucket_arn = f"arn:{resource.partition or 'aws'}:s3:::{resource.name}"
    object_arn = f"{bucket_arn}/any-object-key"
    covers_bucket = covers_objects = False
    near_misses = []
    for index, st in enumerate(statements(policy)):
        if st.get("Effect") != "Deny" or not _is_secure_transport_false(st.get("Condition")):
            continue
        label = f"statement {sid(st, index)}"
        if not principal_is_everyone(st.get("Principal")):
            near_misses.append(f"{label} Principal is {st.get('Principal')!r}, not '*'")
            continue
        actions = [str(a) for a in as_list(st.get("Action"))]
        if "NotAction" in st or not any(a in ("*", "s3:*") for a in actions):
            near_misses.append(f"{label} Action is {st.get('Action', st.get('NotAction'))!r}, not 's3:*'")
            continue
        resources = [str(r) for r in as_list(st.get("Resource"))]
        covers_bucket = covers_bucket or any(fnmatch.fnmatchcase(bucket_arn, r) for r in resources)
        covers_objects = covers_objects or any(fnmatch.fnmatchcase(object_arn, r) for r in resources)
    if covers_bucket and covers_objects:
        return passed(
            f"bucket policy denies s3:* to Principal '*' when aws:SecureTransport is false "
            f"on {bucket_arn} and {bucket_arn}/*"
        )
    if covers_bucket or covers_objects:
        missing = f"{bucket_arn}/*" if covers_bucket else bucket_arn
        return failed(f"the aws:SecureTransport false denial does not cover Resource {missing}")
    if near_misses:
        return failed("; ".join(near_misses))
    return failed("no bucket policy statement denies requests where aws:SecureTransport is false")


def _principal_accounts(principal: Any) -> list[str]:
    """Account ids named in a Principal (``*`` stands for every account); service principals skipped."""
    if principal == "*":
        return ["*"]
    if not isinstance(principal, dict):
        return []
    accounts = []
    for value in as_list(principal.get("AWS")):
        text = str(value).strip()
        if text == "*":
            accounts.append("*")
        elif text.isdigit() and len(text) == 12:
            accounts.append(text)
        elif text.startswith("arn:"):
            parts = text.split(":", 5)
            if len(parts) == 6 and parts[4]:
                accounts.append(parts[4])
    return accounts


_DENYLIST = "s3:DeleteBucketPolicy, s3:PutBucketAcl, s3:PutBucketPolicy, s3:PutEncryptionConfiguration, s3:PutObjectAcl"


@control(
    "S3.6",
    doc=f"{_DOC}#s3-6",
    resource_types=("AwsS3Bucket",),
    defaults={"blacklistedactionpatterns": [a.strip() for a in _DENYLIST.split(",")]},
)
def other_account_actions_restricted(ctx: Context, resource: Resource) -> Verdict:
    """S3.6 (Config rule s3-bucket-blacklisted-actions-prohibited): the bucket policy must not Allow
    a principal of another AWS account (``*`` included) any action matching the denylisted
    patterns. As the rule documents, only the Principal element is read; Conditions are ignored.
    A bucket without a policy grants nothing and passes."""
    patterns = as_csv_list(ctx.parameter("blacklistedactionpatterns"))
    policy = bucket_policy(ctx, resource, "S3.6")
    if policy is None:
        return passed("bucket has no bucket policy: no action is granted to other accounts")
    owner = account_of(ctx, resource, "S3.6")
    for index, st in enumerate(statements(policy)):
        if st.get("Effect") != "Allow":
            continue
        others = [a for a in _principal_accounts(st.get("Principal")) if a != owner]
        if not others:
            continue
        st_actions = [str(a) for a in as_list(st.get("Action"))]
        for pattern in patterns:
            if "NotAction" in st:
                hit = not action_matches(as_list(st["NotAction"]), pattern)
            else:
                hit = action_matches(st_actions, pattern) or any(
                    fnmatch.fnmatchcase(a.lower(), pattern.lower()) for a in st_actions
                )
            if hit:
                return failed(
                    f"bucket policy statement {sid(st, index)} allows {pattern} "
                    f"to principal account(s) {sorted(set(others))}"
                )
    return passed(f"no bucket policy statement allows {', '.join(patterns)} to another account")


@control(
    "S3.8",
    doc=f"{_DOC}#s3-8",
    resource_types=("AwsS3Bucket",),
    defaults={"excludedPublicBuckets": None},
)
def bucket_level_block_public_access(ctx: Context, resource: Resource) -> Verdict:
    """S3.8 (Config rule s3-bucket-level-public-access-prohibited): the bucket's own (bucket-level)
    Block Public Access settings must all be true: BlockPublicAcls, IgnorePublicAcls,
    BlockPublicPolicy, RestrictPublicBuckets. Account-level settings do not satisfy this control.
    Buckets named in excludedPublicBuckets are compliant."""
    excluded = as_csv_list(ctx.parameter("excludedPublicBuckets"))
    if resource.name in excluded:
        return passed(f"bucket {resource.name!r} is listed in excludedPublicBuckets")
    conf = bucket_bpa(ctx, resource, "S3.8")
    if conf is None:
        return failed("no bucket-level Block Public Access configuration exists")
    off = [f for f in BPA_FIELDS if not conf[f]]
    if off:
        return failed(", ".join(f"{f} is false" for f in off) + " at the bucket level")
    return passed(
        "BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets are true at the bucket level"
    )


@control("S3.9", doc=f"{_DOC}#s3-9", resource_types=("AwsS3Bucket",))
def server_access_logging_enabled(ctx: Context, resource: Resource) -> Verdict:
    """S3.9 (Config rule s3-bucket-logging-enabled): server access logging must be enabled on the
    bucket (a LoggingEnabled target bucket is set)."""
    return server_access_logging(ctx, resource, "S3.9")


_NOTIFICATION_KEYS = ("TopicConfigurations", "QueueConfigurations", "LambdaFunctionConfigurations")


@control(
    "S3.11",
    doc=f"{_DOC}#s3-11",
    resource_types=("AwsS3Bucket",),
    defaults={"eventTypes": None},
)
def event_notifications_enabled(ctx: Context, resource: Resource) -> Verdict:
    """S3.11 (Config rule s3-event-notifications-enabled): the bucket must have S3 Event
    Notifications configured (SNS topic, SQS queue or Lambda function configurations, or delivery
    to Amazon EventBridge, which receives every event type). When eventTypes is given, every listed
    type must be covered by a configured event (``s3:ObjectCreated:*`` covers ``s3:ObjectCreated:Put``)."""
    s3 = s3_client(ctx)
    out = call("S3.11", resource, s3.get_bucket_notification_configuration, Bucket=resource.name)
    configured: list[str] = []
    for key in _NOTIFICATION_KEYS:
        for conf in out.get(key) or []:
            configured.extend(str(e) for e in conf.get("Events", []))
    eventbridge = "EventBridgeConfiguration" in out
    if not configured and not eventbridge:
        return failed(
            "no TopicConfigurations, QueueConfigurations, LambdaFunctionConfigurations or EventBridgeConfiguration"
        )
    wanted = as_csv_list(ctx.parameter("eventTypes"))
    if eventbridge:
        what = "EventBridgeConfiguration is set (all event types)"
        return passed(what if not wanted else f"{what}, covering {', '.join(wanted)}")
    missing = [w for w in wanted if not any(fnmatch.fnmatchcase(w, c) or w == c for c in configured)]
    if missing:
        return failed(f"event notifications cover {sorted(set(configured))}, not eventTypes {missing}")
    return passed(f"event notifications are configured for {sorted(set(configured))}")


def _rule_matches(rule: Mapping[str, Any], days: int | None, expiration: int | None, storage_class: Any) -> bool:
    transitions = as_list(rule.get("Transitions")) + ([rule["Transition"]] if rule.get("Transition") else [])
    if days is not None or storage_class is not None:
        ok = any(
            (days is None or t.get("Days") == days)
            and (storage_class is None or t.get("StorageClass") == storage_class)
            for t in transitions
        )
        if not ok:
            return False
    return expiration is None or (rule.get("Expiration") or {}).get("Days") == expiration


@control(
    "S3.13",
    doc=f"{_DOC}#s3-13",
    resource_types=("AwsS3Bucket",),
    defaults={"targetTransitionDays": None, "targetExpirationDays": None, "targetTransitionStorageClass": None},
)
def lifecycle_configured(ctx: Context, resource: Resource) -> Verdict:
    """S3.13 (Config rule s3-lifecycle-policy-check): the bucket must have at least one lifecycle
    rule with Status Enabled. When targetTransitionDays, targetExpirationDays or
    targetTransitionStorageClass are given (no Security Hub default), an enabled rule must carry
    exactly those values (a transition with those Days/StorageClass, an expiration of those Days)."""
    s3 = s3_client(ctx)
    out = call(
        "S3.13",
        resource,
        s3.get_bucket_lifecycle_configuration,
        absent=("NoSuchLifecycleConfiguration",),
        Bucket=resource.name,
    )
    rules = (out or {}).get("Rules", [])
    if not rules:
        return failed("bucket has no lifecycle configuration")
    enabled = [r for r in rules if r.get("Status") == "Enabled"]
    if not enabled:
        return failed(f"all {len(rules)} lifecycle rule(s) have Status 'Disabled'")
    try:
        days = None if ctx.parameter("targetTransitionDays") is None else int(ctx.parameter("targetTransitionDays"))
        expiration = (
            None if ctx.parameter("targetExpirationDays") is None else int(ctx.parameter("targetExpirationDays"))
        )
    except (TypeError, ValueError) as err:
        raise EvaluationError(f"S3.13: target days parameters must be integers: {err}") from None
    storage_class = ctx.parameter("targetTransitionStorageClass")
    wanted = {
        k: v
        for k, v in (
            ("targetTransitionDays", days),
            ("targetExpirationDays", expiration),
            ("targetTransitionStorageClass", storage_class),
        )
        if v is not None
    }
    if not wanted:
        return passed(f"lifecycle rule {enabled[0].get('ID', '#0')!r} has Status 'Enabled'")
    for rule in enabled:
        if _rule_matches(rule, days, expiration, storage_class):
            return passed(f"enabled lifecycle rule {rule.get('ID', '')!r} matches {wanted}")
    return failed(f"no enabled lifecycle rule matches {wanted}")
