"""Capture the boto3 calls code under test makes, and check each against its AWS limit.

``with captured() as calls:`` records every API call (service, operation, parameters,
Region) as botocore is about to send it -- before serialization, so a value that could not
even be encoded is seen too. ``violations(calls)`` lists every call that breaks a limit of
``asr.limits`` (measured here independently, as AWS counts), or that holds a string that
does not encode as UTF-8.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import botocore.client

from asr import limits


@dataclass
class Call:
    service: str
    operation: str
    params: dict[str, Any]
    region: str


@contextlib.contextmanager
def captured() -> Iterator[list[Call]]:
    """Record calls; restores exactly what it replaced (the IAM enforcer's hook stays)."""
    calls: list[Call] = []
    inner = botocore.client.BaseClient._make_api_call

    def hooked(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        calls.append(
            Call(client.meta.service_model.service_name, operation_name, dict(api_params), client.meta.region_name)
        )
        return inner(client, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = hooked  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        botocore.client.BaseClient._make_api_call = inner  # type: ignore[method-assign]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+")


def violations(calls: list[Call]) -> list[str]:
    """Every limit broken by ``calls`` (empty when all are within AWS's limits)."""
    found: list[str] = []
    for call in calls:
        where = f"{call.service}.{call.operation}"
        if not all(_encodes(text) for text in _strings(call.params)):
            found.append(f"{where}: a string does not encode as UTF-8")
            continue
        p = call.params
        if (call.service, call.operation) == ("sns", "Publish"):
            size = len(p["Message"].encode()) + sum(
                len(name.encode()) + len(a["DataType"].encode()) + len(a["StringValue"].encode())
                for name, a in p.get("MessageAttributes", {}).items()
            )
            if size > 262_144:
                found.append(f"{where}: message + attributes {size} bytes > 262,144")
            for name, a in p.get("MessageAttributes", {}).items():
                if not a.get("StringValue"):
                    found.append(f"{where}: attribute {name} is empty")
        elif (call.service, call.operation) == ("cloudwatch", "PutMetricData"):
            for datum in p["MetricData"]:
                for dim in datum.get("Dimensions", []):
                    value = dim["Value"]
                    if not (1 <= len(value) <= 1024) or not _PRINTABLE_ASCII.fullmatch(value) or not value.strip():
                        found.append(f"{where}: dimension {dim['Name']} value of {len(value)} characters")
        elif (call.service, call.operation) == ("securityhub", "BatchUpdateFindings"):
            note = p.get("Note")
            if note is not None:
                for key in ("Text", "UpdatedBy"):
                    if not (1 <= _utf16(note[key]) <= 512) or not note[key].strip():
                        found.append(f"{where}: Note.{key} of {_utf16(note[key])} UTF-16 units")
        elif call.service == "logs" and call.operation in ("CreateLogStream", "PutLogEvents"):
            name = p["logStreamName"]
            if not (1 <= _utf16(name) <= 512) or ":" in name or "*" in name:
                found.append(f"{where}: log stream name {name[:40]!r}... of {_utf16(name)} characters")
            if call.operation == "PutLogEvents":
                events = p["logEvents"]
                batch = sum(len(e["message"].encode()) + 26 for e in events)
                if batch > 1_048_576 or len(events) > 10_000 or not events:
                    found.append(f"{where}: batch of {len(events)} events, {batch} bytes")
                for e in events:
                    if not e["message"] or len(e["message"].encode()) + 26 > 262_144:
                        found.append(f"{where}: event of {len(e['message'].encode())} bytes")
        elif (call.service, call.operation) == ("stepfunctions", "SendTaskSuccess") and (
            len(p["output"].encode()) > 262_144
        ):
            found.append(f"{where}: output of {len(p['output'].encode())} bytes")
        elif (call.service, call.operation) == ("stepfunctions", "SendTaskFailure") and (
            _utf16(p.get("error", "")) > 256 or _utf16(p.get("cause", "")) > 32_768
        ):
            found.append(f"{where}: error/cause too long")
    assert limits.SNS_MESSAGE_BYTES == 262_144 and limits.LOG_BATCH_BYTES == 1_048_576  # the same numbers
    return found
