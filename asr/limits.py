"""Every AWS limit on what the solution sends, and the one way to stay within it.

Plain Python, standard library only: the Lambda packager bundles this file into every
function's zip (as ``asr/limits.py``, like ``asr/solution.py``), and every emitter --
SNS messages and attributes, finding Notes, metric dimensions, log streams and log
events, Step Functions payloads and task answers, CloudFormation responses -- passes
what it sends through here.

Rules, the same for every field:

* a value always encodes: lone surrogates (``"\\ud800"``, which ``json.loads`` happily
  produces from a finding) become U+FFFD, a surrogate *pair* becomes its character;
* a value that is too long is cut visibly: ``…[truncated N bytes]`` where AWS counts bytes,
  ``…[truncated N characters]`` where it counts characters, never inside a UTF-8 sequence
  or a surrogate pair, so the result is always within the limit *including* the marker;
* where AWS counts "characters" and does not say how, the count is UTF-16 code units,
  which is never less than the count of code points: a value within it is within both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# --- the limits ------------------------------------------------------------------------

#: SNS Publish: "messages must be UTF-8 encoded strings and at most 256 KB in size (262,144
#: bytes, not 262,144 characters)"; message attributes "including name, type, and value, are
#: included in the message size restriction".
#: https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
#: https://docs.aws.amazon.com/sns/latest/api/API_MessageAttributeValue.html
SNS_MESSAGE_BYTES = 262_144
#: Our own bound on one String attribute value (AWS has none but the message size): the
#: attributes exist for subscription filters, which match short values.
SNS_ATTRIBUTE_VALUE_CHARS = 256

#: BatchUpdateFindings Note: Text "Length Constraints: Minimum of 1. Maximum of 512",
#: pattern ``.*\S.*``; UpdatedBy 1..512 (the NoteUpdate of AWS::SecurityHub::AutomationRule).
#: https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_Note.html
#: https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_NoteUpdate.html
#: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-securityhub-automationrule-noteupdate.html
NOTE_TEXT_CHARS = 512
NOTE_UPDATED_BY_CHARS = 512

#: PutMetricData Dimension Value: "Minimum length of 1. Maximum length of 1024", "must contain
#: only ASCII characters and must include at least one non-whitespace character. ASCII control
#: characters are not supported". Name: 1..255, same character rules.
#: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Dimension.html
METRIC_DIMENSION_VALUE_CHARS = 1024
METRIC_DIMENSION_NAME_CHARS = 255

#: CreateLogStream: "Log stream names can be between 1 and 512 characters long. Don't use ':'
#: (colon) or '*' (asterisk) characters" (pattern ``[^:*]*``).
#: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogStream.html
LOG_STREAM_NAME_CHARS = 512

#: PutLogEvents: "The maximum batch size is 1,048,576 bytes. This size is calculated as the sum
#: of all event messages in UTF-8, plus 26 bytes for each log event"; at most 10,000 events.
#: One event: the current page says "no larger than 1 MB", earlier versions (and the China
#: Regions' copy) "no larger than 256 KB": one event's message is kept to 256 KiB including
#: the 26 bytes, within both.
#: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
#: https://docs.amazonaws.cn/en_us/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
LOG_BATCH_BYTES = 1_048_576
LOG_EVENT_OVERHEAD_BYTES = 26
LOG_BATCH_EVENTS = 10_000
LOG_EVENT_BYTES = 262_144 - LOG_EVENT_OVERHEAD_BYTES

#: Step Functions: state input/output and execution input "Length constraints apply to the
#: payload size, and are expressed as bytes in UTF-8 encoding ... Maximum length of 262144";
#: SendTaskSuccess output the same; SendTaskFailure error 0..256, cause 0..32768.
#: https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html
#: https://docs.aws.amazon.com/step-functions/latest/apireference/API_StateEnteredEventDetails.html
#: https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskFailure.html
SFN_PAYLOAD_BYTES = 262_144
SFN_ERROR_CHARS = 256
SFN_CAUSE_CHARS = 32_768

#: SSM PutParameter Name: "The maximum length for a parameter name that you create is 1011
#: characters. This includes the characters in the ARN that precede the name you specify".
#: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
SSM_PARAMETER_NAME_CHARS = 1011
#: The longest ARN prefix of a parameter (aws-us-gov partition, longest Region name, account).
SSM_PARAMETER_ARN_PREFIX_CHARS = len("arn:aws-us-gov:ssm:ap-southeast-10:123456789012:parameter")

#: CloudFormation custom resource response: "The total size of the response body can't exceed
#: 4096 bytes"; PhysicalResourceId "can be up to 1 KB in size".
#: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html
CFN_RESPONSE_BYTES = 4096
CFN_PHYSICAL_ID_BYTES = 1024

#: IAM role names (GetRole, CreateRole RoleName): "Minimum length of 1. Maximum length of 64",
#: pattern ``[\w+=,.@-]+``.
#: https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html
IAM_ROLE_NAME_CHARS = 64

#: StartAutomationExecution Parameters: the API reference (and botocore's model) give each
#: AutomationParameterValue "Length Constraints: Minimum length of 1. Maximum length of 512", up
#: to 50 values per parameter and 200 parameters. The orchestrator, as the reference solution
#: always has, passes the whole finding (typically several KB) as the one value of ``Finding``, so
#: the 512 is evidently not applied to it, and AWS documents no other bound: nothing here refuses
#: a finding by this figure (it is not verifiable offline). A value AWS refuses ends as LAMBDA_ERROR
#: naming StartAutomationExecution, the runbook and AWS's message (lambdas/orchestrator/worker.py;
#: tests/orchestrator/test_resolve_limits.py).
#: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_StartAutomationExecution.html
SSM_AUTOMATION_PARAMETER_VALUE_CHARS = 512

ELLIPSIS = "\u2026"

# --- always encodable --------------------------------------------------------------------


def clean(value: Any) -> str:
    """``value`` as a str that always encodes as UTF-8 (lone surrogates -> U+FFFD)."""
    text = value if isinstance(value, str) else _str(value)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        # UTF-16 round trip: a surrogate pair becomes its character, a lone surrogate U+FFFD.
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _str(value: Any) -> str:
    try:
        return str(value)
    except Exception as err:  # a __str__ that raises must not stop a notification
        return f"<{type(value).__name__}: str() failed: {type(err).__name__}>"


def utf8_len(value: Any) -> int:
    return _utf8(clean(value))


def utf16_len(value: Any) -> int:
    """Characters as AWS may count them: UTF-16 code units (an astral character counts 2)."""
    return _utf16(clean(value))


# --- truncation ----------------------------------------------------------------------------


def _marker(count: int, unit: str, ascii_only: bool) -> str:
    return f"{'...' if ascii_only else ELLIPSIS}[truncated {count} {unit}]"


def _cut(
    text: str,
    limit: int,
    measure: Callable[[str], int],
    count: Callable[[str], int],
    unit: str,
    *,
    ascii_only: bool = False,
    full: str | None = None,
) -> str:
    """Longest prefix of ``text`` plus the marker within ``limit`` as ``measure`` counts.

    ``full`` is the whole value when ``text`` is a prefix of it already cut for speed: the
    marker's N counts (with ``count``) what is dropped of the whole value."""
    whole = text if full is None else full
    if full is None and measure(text) <= limit:
        return text
    total = count(whole)
    low, high, best = 0, len(text), None
    while low <= high:  # measure is monotonic in the prefix length
        mid = (low + high) // 2
        prefix = text[:mid]
        candidate = prefix + _marker(total - count(prefix), unit, ascii_only)
        if measure(candidate) <= limit:
            best, low = candidate, mid + 1
        else:
            high = mid - 1
    if best is not None:
        return best
    low, high = 0, len(text)  # the marker alone does not fit: the longest plain prefix that does
    while low < high:
        mid = (low + high + 1) // 2
        if measure(text[:mid]) <= limit:
            low = mid
        else:
            high = mid - 1
    return text[:low]


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def truncate_bytes(value: Any, limit: int) -> str:
    """``value`` within ``limit`` UTF-8 bytes, marker included."""
    text = clean(value)
    if len(text) * 4 <= limit or _utf8(text) <= limit:
        return text
    # A prefix within ``limit`` bytes has at most ``limit`` code points: search only those.
    return _cut(text[:limit], limit, _utf8, _utf8, "bytes", full=text)


def truncate_chars(value: Any, limit: int, *, ascii_only: bool = False) -> str:
    """``value`` within ``limit`` characters counted as UTF-16 code units, marker included."""
    text = clean(value)
    if len(text) * 2 <= limit or _utf16(text) <= limit:
        return text
    return _cut(text[:limit], limit, _utf16, _utf16, "characters", ascii_only=ascii_only, full=text)


def json_len(value: Any, **dumps: Any) -> int:
    """Bytes of ``value`` serialized as ``json.dumps(value, **dumps)``, encoded as UTF-8."""
    return len(json.dumps(value, **dumps).encode("utf-8"))


def truncate_json_string(value: Any, limit: int) -> str:
    """``value`` cut so that ``json.dumps`` of it (ASCII escapes and quotes included) is at most
    ``limit`` bytes: escaping inflates one character up to 12 bytes, so a byte bound on the
    raw text is not enough inside a JSON message. N in the marker counts UTF-8 bytes dropped."""
    text = clean(value)
    if len(text) * 12 + 2 <= limit or json_len(text) <= limit:
        return text
    return _cut(text[:limit], limit, json_len, _utf8, "bytes", full=text)


# --- per field --------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOT_PRINTABLE_ASCII = re.compile(r"[^\x20-\x7e]")
_STREAM_FORBIDDEN = re.compile(r"[:*\x00-\x1f\x7f]")


def note_text(value: Any) -> str:
    """A finding Note's Text: 1..512 characters with a non-blank character."""
    text = truncate_chars(value, NOTE_TEXT_CHARS)
    return text if text.strip() else "(no text)"


def note_updated_by(value: Any) -> str:
    text = truncate_chars(value, NOTE_UPDATED_BY_CHARS)
    return text if text.strip() else "ASR"


def dimension_value(value: Any, *, default: str = "unknown") -> str:
    """A metric dimension value: printable ASCII (others -> ``?``), 1..1024 characters."""
    text = _NOT_PRINTABLE_ASCII.sub("?", clean(value))
    text = truncate_chars(text, METRIC_DIMENSION_VALUE_CHARS, ascii_only=True)
    return text if text.strip() else default


def log_stream_name(value: Any, *, default: str = "ASR") -> str:
    """A log stream name: no ``:`` / ``*`` / control characters (-> ``-``), 1..512 characters."""
    text = _STREAM_FORBIDDEN.sub("-", clean(value))
    text = truncate_chars(text, LOG_STREAM_NAME_CHARS)
    return text or default


def log_message(value: Any) -> str:
    """One log event's message: within LOG_EVENT_BYTES (the 26 bytes of overhead apart), not empty."""
    return truncate_bytes(value, LOG_EVENT_BYTES) or " "


def log_batches(messages: Iterable[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """PutLogEvents batches of ``{"timestamp", "message"}`` events (in the given order), each
    message bounded, each batch within LOG_BATCH_BYTES (26 bytes per event counted) and
    LOG_BATCH_EVENTS events."""
    batches: list[list[dict[str, Any]]] = [[]]
    size = 0
    for event in messages:
        bounded = {**event, "message": log_message(event.get("message", ""))}
        event_size = _utf8(bounded["message"]) + LOG_EVENT_OVERHEAD_BYTES
        if batches[-1] and (len(batches[-1]) >= LOG_BATCH_EVENTS or size + event_size > LOG_BATCH_BYTES):
            batches.append([])
            size = 0
        batches[-1].append(bounded)
        size += event_size
    return [b for b in batches if b]


def log_batch_size(events: Iterable[Mapping[str, Any]]) -> int:
    """PutLogEvents batch size as AWS computes it."""
    return sum(len(str(e["message"]).encode("utf-8")) + LOG_EVENT_OVERHEAD_BYTES for e in events)


def sns_attribute_value(value: Any) -> str:
    """A String message attribute value: printable ASCII, at most SNS_ATTRIBUTE_VALUE_CHARS."""
    text = _NOT_PRINTABLE_ASCII.sub("?", clean(value))
    return truncate_chars(text, SNS_ATTRIBUTE_VALUE_CHARS, ascii_only=True)


def sns_size(message: str, attributes: Mapping[str, Mapping[str, Any]] | None = None) -> int:
    """Bytes SNS counts against SNS_MESSAGE_BYTES: the message, and each attribute's name, data
    type and value (UTF-8)."""
    total = len(message.encode("utf-8"))
    for name, attribute in (attributes or {}).items():
        total += len(name.encode("utf-8")) + len(str(attribute.get("DataType", "")).encode("utf-8"))
        value = attribute.get("StringValue")
        if value is None:
            value = attribute.get("BinaryValue", b"")
        total += len(value) if isinstance(value, bytes) else len(str(value).encode("utf-8"))
    return total


def sfn_error(value: Any) -> str:
    return truncate_chars(value, SFN_ERROR_CHARS)


def sfn_cause(value: Any) -> str:
    return truncate_chars(value, SFN_CAUSE_CHARS)


def fits_sfn_payload(value: Any) -> bool:
    """True when ``value`` serialized as JSON is within the Step Functions payload limit."""
    try:
        return json_len(value, default=str) <= SFN_PAYLOAD_BYTES
    except (TypeError, ValueError, UnicodeEncodeError):
        return False


def shown(value: Any, limit: int = 120) -> str:
    """``repr(value)`` for an error message, bounded and always encodable."""
    try:
        text = repr(value)
    except Exception as err:
        text = f"<{type(value).__name__}: repr() failed: {type(err).__name__}>"
    text = clean(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."
