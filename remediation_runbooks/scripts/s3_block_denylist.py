"""ASR-S3BlockDenylist: deny sensitive S3 actions to the other-account principals a bucket policy allows."""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
DENY_SID = "ASRDenySensitiveActionsToOtherAccounts"
_ACCOUNT = re.compile(r"^\d{12}$")
_PRINCIPAL_ARN = re.compile(r"^arn:[\w-]+:(?:iam|sts)::(\d{12}):")


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
    if _ACCOUNT.match(principal):
        return principal
    match = _PRINCIPAL_ARN.match(principal)
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


def _result(bucket: str, denied: list[str], message: str) -> dict[str, Any]:
    return {"BucketName": bucket, "DeniedPrincipals": denied, "Message": message}


def block_denylist(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    bucket, owner, partition = event["BucketName"], event["AccountId"], event["Partition"]
    actions = parse_denylist(event["DenyList"])
    s3 = boto3.client("s3", config=BOTO_CONFIG)
    policy = _load_policy(s3, bucket, owner)
    if policy is None:
        return _result(
            bucket, [], f"Bucket {bucket} has no bucket policy, so no other account is allowed; nothing changed."
        )
    principals = allowed_principals(policy)
    if principals and all(p == "*" for p in principals):
        raise RemediationError(
            f"BucketName {bucket}: unable to create an explicit deny statement: every principal in the bucket "
            'policy is "*", and denying them would lock everyone out. Replace "*" by specific accounts, then '
            "run again; nothing was changed."
        )
    others = [p for p in principals if principal_account(p) not in (None, owner)]
    if not others:
        return _result(
            bucket, [], f"Bucket {bucket}: the policy allows no principal of another account; nothing changed."
        )
    deny = _deny_statement(policy, others, actions, f"arn:{partition}:s3:::{bucket}")
    kept = [s for s in policy["Statement"] if s.get("Sid") != DENY_SID]
    if _already_denied(policy, others, actions):
        return _result(
            bucket,
            deny["Principal"]["AWS"],
            f"Bucket {bucket} already denies {', '.join(actions)} to {', '.join(others)}; nothing changed.",
        )
    policy["Statement"] = [*kept, deny]
    _put_policy(s3, bucket, owner, policy)
    after = _load_policy(s3, bucket, owner) or {"Statement": []}
    if not any(s.get("Sid") == DENY_SID for s in after["Statement"]):
        raise RemediationError(f"BucketName {bucket}: the policy does not show statement {DENY_SID} after the change")
    return _result(
        bucket,
        deny["Principal"]["AWS"],
        f"Bucket {bucket}: statement {DENY_SID} denies {', '.join(deny['Action'])} "
        f"to {', '.join(deny['Principal']['AWS'])}; "
        f"the other {len(kept)} statements are unchanged.",
    )
