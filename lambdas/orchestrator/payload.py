"""What one finding costs in the state machine's payload, and the finding store.

Step Functions limits every state input and output, task answer and Catch result to
262,144 bytes of UTF-8 JSON ("Length constraints apply to the payload size, and are
expressed as bytes in UTF-8 encoding ... Maximum length of 262144",
https://docs.aws.amazon.com/step-functions/latest/apireference/API_StateEnteredEventDetails.html),
and an output above it is ``States.DataLimitExceeded``, which no Catch catches
(https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html). A
Security Hub finding may be up to 240 KB ("up to 240 KB per finding",
https://docs.aws.amazon.com/securityhub/latest/partnerguide/guidelines-batchimportfindings.html).

So the states carry the finding once, and only while it is small:

* up to ``INLINE_FINDING_BYTES`` the whole finding travels as ``Finding``;
* above it, the whole finding is written once (by resolve) to the orchestrator's
  findings bucket in the admin account (SSE-KMS with the solution key, TLS only, objects
  expire after a few days) and the states carry ``FindingRef`` (bucket, key, size,
  SHA-256) plus ``Finding`` = a *digest*: the fields the orchestrator itself reads
  (ids, account, Regions, control, product, the first resource), each bounded. The
  worker reads the object back when it starts the runbook, which gets the whole
  finding, as before.

With the inline bound at 64 KiB, the largest state (the worker's answer after a Catch
added a 32 KiB cause) stays far below the limit.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from asr import limits
from lambdas.orchestrator import aws

#: A finding whose JSON is larger than this leaves the payload (by reference).
INLINE_FINDING_BYTES = 64 * 1024
#: Environment variable naming the findings bucket (resolve writes, the worker reads).
BUCKET_ENV = "FINDINGS_BUCKET"
#: Object key prefix; the role policy grants s3:PutObject / s3:GetObject on it only.
KEY_PREFIX = "findings/"
#: Bound of every string kept in a digest: ASFF ids and ARNs are far shorter.
DIGEST_STRING_CHARS = 2048
DIGEST_TEXT_CHARS = 1024  # Title, Description: the ASFF limits

_TOP_LEVEL = (
    "SchemaVersion",
    "Id",
    "ProductArn",
    "ProductName",
    "CompanyName",
    "GeneratorId",
    "AwsAccountId",
    "Region",
    "CreatedAt",
    "UpdatedAt",
    "RecordState",
    "WorkflowState",
)
_PRODUCT_FIELDS = (
    "StandardsArn",
    "StandardsGuideArn",
    "StandardsSubscriptionArn",
    "StandardsControlArn",
    "ControlId",
    "RuleId",
    "aws/securityhub/ProductName",
    "aws/securityhub/CompanyName",
    "aws/securityhub/FindingId",
    "attributes/RULE_TYPE",
    "RelatedAWSResources:0/name",
    "RelatedAWSResources:0/type",
)


class FindingStoreError(RuntimeError):
    """The stored finding cannot be read back as it was written; the message says why."""


def finding_bytes(raw: Any) -> int:
    return limits.json_len(raw, default=str)


def _bounded(value: Any, chars: int = DIGEST_STRING_CHARS) -> Any:
    return limits.truncate_chars(value, chars) if isinstance(value, str) else value


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def digest(raw: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``raw`` the orchestrator reads, each bounded (never more than a few KB).

    ``Finding.parse`` of the digest gives the same identity, account, Regions, product,
    standard and control as of the whole finding (tests/orchestrator/test_payload.py)."""
    out: dict[str, Any] = {k: _bounded(raw[k]) for k in _TOP_LEVEL if k in raw and _scalar(raw[k])}
    for key, chars in (("Title", DIGEST_TEXT_CHARS), ("Description", DIGEST_TEXT_CHARS)):
        if key in raw and _scalar(raw[key]):
            out[key] = _bounded(raw[key], chars)
    types = raw.get("Types")
    if isinstance(types, list) and types and _scalar(types[0]):
        out["Types"] = [_bounded(types[0])]
    nested = (("Severity", ("Label",)), ("Workflow", ("Status",)), ("Compliance", ("Status", "SecurityControlId")))
    for key, fields in nested:
        value = raw.get(key)
        if isinstance(value, dict):
            out[key] = {f: _bounded(value[f]) for f in fields if f in value and _scalar(value[f])}
        elif key in raw:
            out[key] = _bounded(value) if _scalar(value) else None
    fields = raw.get("ProductFields")
    if isinstance(fields, dict):
        out["ProductFields"] = {k: _bounded(fields[k]) for k in _PRODUCT_FIELDS if k in fields and _scalar(fields[k])}
    elif "ProductFields" in raw:
        out["ProductFields"] = _bounded(fields) if _scalar(fields) else None
    resources = raw.get("Resources")
    if isinstance(resources, list) and resources and isinstance(resources[0], dict):
        first = resources[0]
        out["Resources"] = [
            {k: _bounded(first[k]) for k in ("Type", "Id", "Partition", "Region") if k in first and _scalar(first[k])}
        ]
    elif "Resources" in raw:
        out["Resources"] = _bounded(resources) if _scalar(resources) else []
    return out


def _key(text: bytes) -> tuple[str, str]:
    sha = hashlib.sha256(text).hexdigest()
    return f"{KEY_PREFIX}{sha}.json", sha


def carry(raw: Any) -> dict[str, Any]:
    """The finding's share of a state's payload: ``{"Finding": raw}`` when it is small,
    else ``{"Finding": digest(raw), "FindingRef": {...}}`` after storing ``raw``."""
    if not isinstance(raw, dict) or finding_bytes(raw) <= INLINE_FINDING_BYTES:
        return {"Finding": raw}
    bucket = os.environ.get(BUCKET_ENV, "")
    if not bucket:
        raise FindingStoreError(
            f"finding of {finding_bytes(raw)} bytes is larger than the {INLINE_FINDING_BYTES} bytes the state "
            f"machine carries, and {BUCKET_ENV} is not set"
        )
    text = limits.clean(json.dumps(raw, default=str)).encode("utf-8")
    key, sha = _key(text)
    # Content-addressed: a second put of the same finding writes the same object.
    aws.client("s3").put_object(Bucket=bucket, Key=key, Body=text, ContentType="application/json")
    return {
        "Finding": digest(raw),
        "FindingRef": {"Bucket": bucket, "Key": key, "Bytes": len(text), "Sha256": sha},
    }


def full_finding(state: dict[str, Any]) -> Any:
    """The whole finding of a state made by ``carry``: inline, or read back from the store."""
    ref = state.get("FindingRef")
    if not ref:
        return state.get("Finding")
    if not isinstance(ref, dict) or not all(isinstance(ref.get(k), str) for k in ("Bucket", "Key", "Sha256")):
        raise FindingStoreError(f"FindingRef {limits.shown(ref)} is not {{Bucket, Key, Bytes, Sha256}}")
    try:
        body = aws.client("s3").get_object(Bucket=ref["Bucket"], Key=ref["Key"])["Body"].read()
    except Exception as err:
        code = aws.error_code(err) if hasattr(err, "response") else type(err).__name__
        if code in ("NoSuchKey", "NoSuchBucket", "404"):
            raise FindingStoreError(
                f"stored finding s3://{ref['Bucket']}/{ref['Key']} is gone ({code}): it expires a few days after "
                "the finding was received; send the finding again"
            ) from None
        raise
    if hashlib.sha256(body).hexdigest() != ref["Sha256"]:
        raise FindingStoreError(f"stored finding s3://{ref['Bucket']}/{ref['Key']} does not match its SHA-256")
    return json.loads(body)
