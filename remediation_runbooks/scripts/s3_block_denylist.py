"""ASR-S3BlockDenylist: deny sensitive S3 actions to the other-account principals a bucket policy allows."""

from __future__ import annotations

import fnmatch
import json
import re
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
DENY_SID = "ASRDenySensitiveActionsToOtherAccounts"
# ASCII only, whole value: a Unicode digit ("\u0661") or a trailing newline is no account id.
_ACCOUNT = re.compile(r"[0-9]{12}", re.ASCII)
_PRINCIPAL_ARN = re.compile(r"arn:[a-z-]+:(?:iam|sts)::([0-9]{12}):.+", re.ASCII)
# Bucket policies are eventually consistent: read the change back for up to a minute.
VERIFY_ATTEMPTS = 6
VERIFY_INTERVAL_SECONDS = 10


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def parse_denylist(text: str) -> list[str]:
    actions = list(dict.fromkeys(a.strip() for a in text.split(",") if a.strip()))
    bad = [a for a in actions if not re.fullmatch(r"s3:[A-Za-z*]+", a)]
    if not actions or bad:
        raise RemediationError(f"DenyList {text!r}: expected comma-separated S3 actions like s3:PutBucketPolicy")
    return actions


def _load_policy(s3: Any, bucket: str, owner: str) -> dict[str, Any] | None:
    try:
        text = s3.get_bucket_policy(Bucket=bucket, ExpectedBucketOwner=owner)["Policy"]
    except ClientError as err:
        code = _error_code(err)
        if code == "NoSuchBucketPolicy":
            return None
        if code == "NoSuchBucket":
            raise RemediationError(f"BucketName {bucket}: no such bucket") from None
        if code in ("AccessDenied", "403"):
            raise RemediationError(
                f"BucketName {bucket}: access denied reading the bucket policy; the bucket is not owned by "
                f"account {owner} or the role lacks s3:GetBucketPolicy"
            ) from None
        raise
    policy = json.loads(text)
    policy["Statement"] = _as_list(policy.get("Statement", []))
    return policy


def principal_account(principal: str) -> str | None:
    """Account of an AWS principal (ARN or account id); None for "*" and unique ids."""
    if _ACCOUNT.fullmatch(principal):
        return principal
    match = _PRINCIPAL_ARN.fullmatch(principal)
    return match.group(1) if match else None


def allowed_principals(policy: dict[str, Any]) -> list[str]:
    """AWS principals of the Allow statements, in order, without duplicates."""
    found: list[str] = []
    for statement in policy["Statement"]:
        principal = statement.get("Principal")
        if statement.get("Effect") != "Allow" or principal is None:
            continue
        values = (
            ["*"] if principal == "*" else _as_list(principal.get("AWS", [])) if isinstance(principal, dict) else []
        )
        found.extend(v for v in values if v not in found)
    return found


def _deny_statement(
    policy: dict[str, Any], principals: list[str], actions: list[str], bucket_arn: str
) -> dict[str, Any]:
    """The ASR deny statement, merged with the one a previous run wrote."""
    old = next((s for s in policy["Statement"] if s.get("Sid") == DENY_SID), None)
    old_principals = _as_list((old or {}).get("Principal", {}).get("AWS", []))
    old_actions = _as_list((old or {}).get("Action", []))
    return {
        "Sid": DENY_SID,
        "Effect": "Deny",
        "Principal": {"AWS": list(dict.fromkeys([*old_principals, *principals]))},
        "Action": list(dict.fromkeys([*old_actions, *actions])),
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
    }


def _already_denied(policy: dict[str, Any], principals: list[str], actions: list[str]) -> bool:
    old = next((s for s in policy["Statement"] if s.get("Sid") == DENY_SID), None)
    if not old or not isinstance(old.get("Principal"), dict):
        return False
    return set(principals) <= set(_as_list(old["Principal"].get("AWS", []))) and set(actions) <= set(
        _as_list(old.get("Action", []))
    )


# --- narrowing the Allow statements ----------------------------------------------------
#
# The Config rule behind S3.6 (s3-bucket-blacklisted-actions-prohibited) is NON_COMPLIANT "if any
# blocklisted actions are allowed by the Amazon S3 bucket policy"; it reads only the Principal element
# and no Condition (https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-blacklisted-actions-prohibited.html).
# A Deny statement next to the Allow does not remove the Allow from what the rule reads, so the
# denylisted actions are taken out of every Allow statement that names another account or "*".


def _matches(action: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def _grants(statement: dict[str, Any], pattern: str) -> bool:
    """Whether the Allow statement grants an action of the denylist ``pattern`` (as the rule reads it)."""
    if "NotAction" in statement:
        return not any(_matches(pattern, str(n)) for n in _as_list(statement["NotAction"]))
    return any(_matches(pattern, str(a)) or _matches(str(a), pattern) for a in _as_list(statement.get("Action", [])))


def _split_principals(statement: dict[str, Any], owner: str) -> tuple[list[str], Any]:
    """(AWS principals of other accounts or "*", the Principal element without them, or None if nothing is left)."""
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"], None
    if not isinstance(principal, dict):
        return [], principal
    aws = [str(p) for p in _as_list(principal.get("AWS", []))]
    others = [p for p in aws if p == "*" or principal_account(p) not in (None, owner)]
    if not others:
        return [], principal
    rest = {k: v for k, v in principal.items() if k != "AWS"}
    kept = [p for p in aws if p not in others]
    if kept:
        rest["AWS"] = kept if len(kept) > 1 else kept[0]
    return others, rest or None


def _narrowed(statement: dict[str, Any], patterns: list[str], sid: str) -> dict[str, Any] | None:
    """The statement without the denylisted actions (None when it grants nothing else)."""
    if "NotAction" in statement:
        extra = [p for p in patterns if not any(_matches(p, str(n)) for n in _as_list(statement["NotAction"]))]
        return {**statement, "NotAction": [*_as_list(statement["NotAction"]), *extra]}
    actions = [str(a) for a in _as_list(statement.get("Action", []))]
    kept = [a for a in actions if not any(_matches(a, p) for p in patterns)]
    broad = [a for a in kept if any(_matches(p, a) for p in patterns)]
    if not broad:
        if not kept:
            return None
        return {**statement, "Action": kept if len(kept) > 1 else kept[0]}
    if all(a.lower() in ("*", "s3:*") for a in broad):
        # s3:* (or *) on the bucket's resources is every S3 action: the same grant minus the denylist
        # is "every action except the denylist".
        narrowed = {k: v for k, v in statement.items() if k != "Action"}
        return {**narrowed, "NotAction": list(patterns)}
    raise RemediationError(
        f"statement {sid} allows {', '.join(broad)} to another account, which covers a denylisted action "
        f"({', '.join(p for p in patterns if any(_matches(p, a) for a in broad))}); a wildcard like this cannot be "
        "narrowed without knowing which actions to keep. Replace it with the actions the other account needs, "
        "then run again; nothing was changed."
    )


def narrow_allow_statements(policy: dict[str, Any], patterns: list[str], owner: str) -> list[str]:
    """Take the denylisted actions out of every Allow statement for other accounts (in place); a statement
    that also names principals of the owner's account is split, so they keep every action. Returns the
    statements (Sid or #index) changed."""
    result: list[dict[str, Any]] = []
    changed: list[str] = []
    for index, statement in enumerate(policy["Statement"]):
        sid = repr(statement["Sid"]) if statement.get("Sid") else f"#{index}"
        hits = [p for p in patterns if _grants(statement, p)] if statement.get("Effect") == "Allow" else []
        others, rest = _split_principals(statement, owner) if hits else ([], None)
        if not others:
            result.append(statement)
            continue
        changed.append(sid)
        if rest is not None:  # the owner's principals keep the statement as it was
            result.append({**statement, "Principal": rest})
        principal: Any = "*" if statement.get("Principal") == "*" else {"AWS": others if len(others) > 1 else others[0]}
        for_others = {**statement, "Principal": principal}
        if rest is not None and statement.get("Sid"):
            for_others["Sid"] = f"{statement['Sid']}OtherAccounts"
        narrowed = _narrowed(for_others, patterns, sid)
        if narrowed is not None:
            result.append(narrowed)
    policy["Statement"] = result
    return changed


def still_granted(policy: dict[str, Any], patterns: list[str], owner: str) -> list[str]:
    """Denylisted patterns an Allow statement still grants to another account or "*"."""
    return [
        f"{p} in statement {s.get('Sid') or '#' + str(i)}"
        for i, s in enumerate(policy["Statement"])
        if s.get("Effect") == "Allow" and _split_principals(s, owner)[0]
        for p in patterns
        if _grants(s, p)
    ]


def _put_policy(s3: Any, bucket: str, owner: str, policy: dict[str, Any]) -> None:
    try:
        s3.put_bucket_policy(Bucket=bucket, ExpectedBucketOwner=owner, Policy=json.dumps(policy))
    except ClientError as err:
        if _error_code(err) in ("AccessDenied", "403"):
            raise RemediationError(
                f"BucketName {bucket}: S3 denied PutBucketPolicy. If Block Public Access is on for the bucket "
                "or account, remove the policy statements that allow public access, then run again; "
                "nothing was changed."
            ) from None
        raise


def _result(bucket: str, denied: list[str], message: str, narrowed: list[str] | None = None) -> dict[str, Any]:
    return {"BucketName": bucket, "DeniedPrincipals": denied, "NarrowedStatements": narrowed or [], "Message": message}


def _read_back(
    s3: Any, bucket: str, owner: str, wanted: dict[str, Any], sleep: Callable[[float], None]
) -> dict[str, Any]:
    """The policy once S3 shows ``wanted`` (bucket policies are eventually consistent), bounded."""
    after: dict[str, Any] = {"Statement": []}
    for attempt in range(VERIFY_ATTEMPTS):
        after = _load_policy(s3, bucket, owner) or {"Statement": []}
        if after["Statement"] == wanted["Statement"]:
            return after
        if attempt < VERIFY_ATTEMPTS - 1:
            sleep(VERIFY_INTERVAL_SECONDS)
    return after


def block_denylist(
    event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, Any]:
    bucket, owner, partition = event["BucketName"], event["AccountId"], event["Partition"]
    actions = parse_denylist(event["DenyList"])
    s3 = boto3.client("s3", config=BOTO_CONFIG)
    policy = _load_policy(s3, bucket, owner)
    if policy is None:
        return _result(
            bucket, [], f"Bucket {bucket} has no bucket policy, so no other account is allowed; nothing changed."
        )
    principals = allowed_principals(policy)  # as the policy was: the accounts it allowed are denied
    narrowed = narrow_allow_statements(policy, actions, owner)
    others = [p for p in principals if principal_account(p) not in (None, owner)]
    if not others and not narrowed:
        return _result(
            bucket, [], f"Bucket {bucket}: the policy allows no principal of another account; nothing changed."
        )
    kept = [s for s in policy["Statement"] if s.get("Sid") != DENY_SID]
    deny = _deny_statement(policy, others, actions, f"arn:{partition}:s3:::{bucket}") if others else None
    if not narrowed and _already_denied(policy, others, actions):
        return _result(
            bucket,
            deny["Principal"]["AWS"] if deny else [],
            f"Bucket {bucket} already denies {', '.join(actions)} to {', '.join(others)}; nothing changed.",
        )
    policy["Statement"] = [*kept, deny] if deny else kept
    _put_policy(s3, bucket, owner, policy)
    after = _read_back(s3, bucket, owner, policy, sleep)
    left = still_granted(after, actions, owner)
    if left or (deny and not any(s.get("Sid") == DENY_SID for s in after["Statement"])):
        raise RemediationError(
            f"BucketName {bucket}: after {VERIFY_ATTEMPTS} reads the policy still "
            + (f"allows {', '.join(left)} to another account" if left else f"does not show statement {DENY_SID}")
        )
    denied = deny["Principal"]["AWS"] if deny else []
    parts = []
    if narrowed:
        parts.append(
            f"removed {', '.join(actions)} from what statement(s) {', '.join(narrowed)} grant other accounts"
        )
    if deny:
        parts.append(f"statement {DENY_SID} denies {', '.join(deny['Action'])} to {', '.join(denied)}")
    return _result(
        bucket,
        denied,
        f"Bucket {bucket}: " + "; ".join(parts) + "; the other statements are unchanged.",
        narrowed,
    )
