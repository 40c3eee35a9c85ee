"""ASR-SetSSLBucketPolicy: add a statement denying requests without TLS to one bucket's policy."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
SSL_SID = "AllowSSLRequestsOnly"
# Condition keys with which S3 does not consider a "*" principal public.
NON_PUBLIC_CONDITION_KEYS = frozenset(
    {
        "aws:sourceip",
        "aws:sourcearn",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourceaccount",
        "aws:sourceowner",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:userid",
        "s3:dataaccesspointarn",
        "s3:dataaccesspointaccount",
    }
)


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


# S3 bucket settings are eventually consistent ("Bucket configurations have an eventual consistency model",
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel): a change is read
# back for up to a minute before the document says it failed.
VERIFY_ATTEMPTS = 6
VERIFY_INTERVAL_SECONDS = 10


def read_back(read: Callable[[], Any], done: Callable[[Any], bool], sleep: Callable[[float], None]) -> Any:
    """``read()`` until ``done`` says it shows the change, at most VERIFY_ATTEMPTS times; the last read."""
    value = read()
    for _ in range(VERIFY_ATTEMPTS - 1):
        if done(value):
            break
        sleep(VERIFY_INTERVAL_SECONDS)
        value = read()
    return value


def _error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


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
                f"BucketName {bucket}: access denied reading the bucket policy; the bucket is not owned "
                f"by AccountId {owner} or the role lacks s3:GetBucketPolicy"
            ) from None
        raise
    policy = json.loads(text)
    policy["Statement"] = _as_list(policy.get("Statement", []))
    return policy


def _wildcard_principal(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    return isinstance(principal, dict) and "*" in _as_list(principal.get("AWS", []))


def ssl_statement(bucket_arn: str) -> dict[str, Any]:
    return {
        "Sid": SSL_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def enforces_tls(statement: dict[str, Any], bucket_arn: str) -> bool:
    """True if the statement denies every S3 action without TLS on the bucket and its objects."""
    if statement.get("Effect") != "Deny" or not _wildcard_principal(statement):
        return False
    if not {"s3:*", "*"} & set(_as_list(statement.get("Action", []))):
        return False
    resources = set(_as_list(statement.get("Resource", [])))
    if "*" not in resources and not {bucket_arn, f"{bucket_arn}/*"} <= resources:
        return False
    for operator, values in (statement.get("Condition") or {}).items():
        if operator in ("Bool", "BoolIfExists"):
            for key, value in values.items():
                if key.lower() == "aws:securetransport" and str(_as_list(value)[0]).lower() == "false":
                    return True
    return False


def public_statements(policy: dict[str, Any]) -> list[str]:
    """Sids (or #index) of Allow statements S3 considers public."""
    found = []
    for index, statement in enumerate(policy["Statement"]):
        if statement.get("Effect") != "Allow" or not _wildcard_principal(statement):
            continue
        keys = {key.lower() for values in (statement.get("Condition") or {}).values() for key in values}
        if not keys & NON_PUBLIC_CONDITION_KEYS:
            found.append(statement.get("Sid") or f"#{index}")
    return found


def _blocks_public_policy(bucket: str, owner: str) -> str | None:
    """'bucket' or 'account' if Block Public Access BlockPublicPolicy is on there, else None."""
    checks = (
        (
            "bucket",
            lambda: boto3.client("s3", config=BOTO_CONFIG).get_public_access_block(
                Bucket=bucket, ExpectedBucketOwner=owner
            ),
        ),
        ("account", lambda: boto3.client("s3control", config=BOTO_CONFIG).get_public_access_block(AccountId=owner)),
    )
    for level, read in checks:
        try:
            if read()["PublicAccessBlockConfiguration"].get("BlockPublicPolicy"):
                return level
        except ClientError as err:
            if _error_code(err) != "NoSuchPublicAccessBlockConfiguration":
                raise
    return None


def _refuse_if_public_blocked(bucket: str, owner: str, public: list[str]) -> None:
    if not public:
        return
    level = _blocks_public_policy(bucket, owner)
    if level:
        raise RemediationError(
            f"BucketName {bucket}: the bucket policy has statements that allow public access "
            f"({', '.join(public)}) and Block Public Access (BlockPublicPolicy) is on for the {level}, "
            "so S3 would deny PutBucketPolicy. Remove those statements, then run again; "
            "nothing was changed."
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


def add_ssl_bucket_policy(
    event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, Any]:
    bucket, owner, partition = event["BucketName"], event["AccountId"], event["Partition"]
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    s3 = boto3.client("s3", config=BOTO_CONFIG)
    policy = _load_policy(s3, bucket, owner)
    statements = policy["Statement"] if policy else []
    if any(enforces_tls(s, bucket_arn) for s in statements):
        return {
            "BucketName": bucket,
            "StatementsBefore": len(statements),
            "StatementsAfter": len(statements),
            "Message": f"Bucket {bucket} already denies requests without TLS; nothing changed.",
        }
    if any(s.get("Sid") == SSL_SID for s in statements):
        raise RemediationError(
            f"BucketName {bucket}: the policy already has a statement with Sid {SSL_SID} that does not deny "
            "all requests without TLS; review it, then run again. Nothing was changed."
        )
    new_policy = policy or {"Version": "2012-10-17", "Statement": []}
    new_policy["Statement"] = [*statements, ssl_statement(bucket_arn)]
    _refuse_if_public_blocked(bucket, owner, public_statements(new_policy))
    _put_policy(s3, bucket, owner, new_policy)
    after = read_back(
        lambda: _load_policy(s3, bucket, owner) or {"Statement": []},
        lambda got: any(enforces_tls(s, bucket_arn) for s in got["Statement"]),
        sleep,
    )
    if not any(enforces_tls(s, bucket_arn) for s in after["Statement"]):
        raise RemediationError(
            f"BucketName {bucket}: the policy does not show statement {SSL_SID} after {VERIFY_ATTEMPTS} reads"
        )
    return {
        "BucketName": bucket,
        "StatementsBefore": len(statements),
        "StatementsAfter": len(after["Statement"]),
        "Message": f"Added statement {SSL_SID} to the policy of bucket {bucket}; "
        f"the other {len(statements)} statements are unchanged.",
    }
