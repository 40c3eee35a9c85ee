"""ASR-ConfigureS3PublicAccessBlock: turn on the account-level S3 Block Public Access flags."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
# The account-level setting is eventually consistent: read it back for up to 2 minutes.
VERIFY_ATTEMPTS = 12
VERIFY_INTERVAL_SECONDS = 10


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _flag(event: dict[str, Any], name: str) -> bool:
    value = event.get(name, True)
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise RemediationError(f"{name} {value!r}: expected true or false")


def _current_block(s3control: Any, account: str) -> dict[str, bool]:
    try:
        config = s3control.get_public_access_block(AccountId=account)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "NoSuchPublicAccessBlockConfiguration":
            return dict.fromkeys(FLAGS, False)
        raise
    block = config["PublicAccessBlockConfiguration"]
    return {flag: bool(block.get(flag, False)) for flag in FLAGS}


def _check_account(account: str) -> None:
    caller = boto3.client("sts", config=BOTO_CONFIG).get_caller_identity()["Account"]
    if caller != account:
        raise RemediationError(
            f"AccountId {account}: this document runs in account {caller} and only changes that account"
        )


def _wait_until(
    s3control: Any, account: str, wanted: dict[str, bool], sleep: Callable[[float], None]
) -> dict[str, bool]:
    current = _current_block(s3control, account)
    for _ in range(VERIFY_ATTEMPTS - 1):
        if current == wanted:
            break
        sleep(VERIFY_INTERVAL_SECONDS)
        current = _current_block(s3control, account)
    if current != wanted:
        raise RemediationError(
            f"AccountId {account}: Block Public Access still reads {current} after "
            f"{VERIFY_ATTEMPTS * VERIFY_INTERVAL_SECONDS}s, expected {wanted}"
        )
    return current


def configure_account_public_access_block(
    event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, Any]:
    """Turn on each requested flag; a flag passed as false is left as it is, never turned off."""
    account = event["AccountId"]
    requested = {flag: _flag(event, flag) for flag in FLAGS}
    _check_account(account)
    s3control = boto3.client("s3control", config=BOTO_CONFIG)
    before = _current_block(s3control, account)
    wanted = {flag: before[flag] or requested[flag] for flag in FLAGS}
    if wanted != before:
        s3control.put_public_access_block(AccountId=account, PublicAccessBlockConfiguration=wanted)
    after = _wait_until(s3control, account, wanted, sleep)
    changed = sorted(flag for flag in FLAGS if after[flag] != before[flag])
    return {
        "AccountId": account,
        "Before": before,
        "After": after,
        "Changed": changed,
        "Message": (
            f"Turned on {', '.join(changed)} for account {account}."
            if changed
            else f"Account {account} already had the requested Block Public Access flags; nothing changed."
        ),
    }
