"""Shared by the scripts that encrypt with the member's remediation key: inlined, not imported, in SSM.

A script takes these names with
``from remediation_runbooks.scripts._member_key import ... # %%INLINE%%``: Python imports them (tests),
and ``asr.documents`` replaces that line with everything below the imports when it renders the
document (SSM runs each script alone). Keep this file's imports at the top, its names unique to it.

enable_aws_config.py keeps its own shorter ``configured_key``: ASR-EnableAWSConfig embeds its script in
four steps and is within 200 bytes of the 64 KB SSM document limit, which this code would exceed.
"""

from __future__ import annotations

import re

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


# --- the member's remediation key (docs/encryption.md) ---------------------------------
#
# The member stack writes /Solutions/SO0111/CMK_REMEDIATION_ARN with RemediationKeyMode PerStack (its
# own key) or Existing (e.g. the organization key); with RemediationKeyMode None there is no such
# parameter and no customer managed key.
KEY_PARAMETER = "/Solutions/SO0111/CMK_REMEDIATION_ARN"
# ASCII only and used with fullmatch: a Unicode digit ("\u0661") or a trailing newline is refused.
_KEY_OR_ALIAS_ARN = re.compile(
    r"arn:(?:aws|aws-cn|aws-us-gov):kms:[a-z]{2}(?:-gov)?-[a-z]+-[0-9]:[0-9]{12}:(?:key|alias)/[\w/-]{1,250}",
    re.ASCII,
)


def configured_key(given: str, region: str | None = None) -> str:
    """The customer managed key to encrypt with: ``given`` (the document's key input) when set, else the
    member stack's key of ``region`` (CMK_REMEDIATION_ARN), else "" (RemediationKeyMode None)."""
    if given.strip():
        return given.strip()
    ssm = boto3.client("ssm", region_name=region, config=BOTO_CONFIG)
    try:
        value = str(ssm.get_parameter(Name=KEY_PARAMETER)["Parameter"]["Value"]).strip()
    except ssm.exceptions.ParameterNotFound:
        return ""
    if not _KEY_OR_ALIAS_ARN.fullmatch(value):
        raise RemediationError(
            f"{KEY_PARAMETER} {value!r}: not a KMS key or alias ARN (the member stack's RemediationKeyArn sets it)"
        )
    return value
