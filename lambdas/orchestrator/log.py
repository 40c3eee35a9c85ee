"""Structured JSON logging on the standard library (no powertools in the Lambda runtime).

Every record is one JSON object on one line, with the correlation keys the handler
binds (``execution``, ``finding_id``, ``job``), so CloudWatch Logs Insights can
filter and join on them.

A line is one CloudWatch Logs event: it is kept within ``asr.limits.LOG_EVENT_BYTES``
(the largest fields cut visibly), is ASCII (``json.dumps`` escapes the rest; a lone
surrogate becomes U+FFFD first), and a record that cannot be serialized still gives a
line saying so.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from contextvars import ContextVar
from typing import Any

from asr import limits

_context: ContextVar[dict[str, Any] | None] = ContextVar("asr_log_context", default=None)
#: Bound of one bound correlation value (a finding id is at most 512 characters in ASFF).
BIND_CHARS = 1024
#: A field of a record longer than this (JSON bytes) is cut when the line is too long.
_FIELD_FLOOR = 1024


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **(_context.get() or {}),
        }
        extra = getattr(record, "data", None)
        if isinstance(extra, dict):
            entry.update(extra)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return bounded_line(entry)


def _dumps(value: Any) -> str:
    return json.dumps(value, default=limits.clean, sort_keys=True)


def _cleaned(value: Any) -> Any:
    """``value`` with every str made encodable (json.dumps would escape a lone surrogate as is)."""
    if isinstance(value, str):
        return limits.clean(value)
    if isinstance(value, dict):
        return {limits.clean(k): _cleaned(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cleaned(v) for v in value]
    return value


def bounded_line(entry: dict[str, Any], limit: int = limits.LOG_EVENT_BYTES) -> str:
    """``entry`` as one JSON line of at most ``limit`` bytes: the largest fields are replaced by
    their serialization cut to a share of the room left."""
    try:
        entry = _cleaned(entry)
        line = _dumps(entry)
        if len(line) <= limit:  # ASCII: characters are bytes
            return line
        sizes = {k: len(_dumps(v)) for k, v in entry.items()}
        large = [k for k, n in sizes.items() if n > _FIELD_FLOOR]
        room = limit - sum(n for k, n in sizes.items() if k not in large) - 64 * len(entry) - 256
        share = max(_FIELD_FLOOR, room // max(1, len(large)))
        for key in large:
            value = entry[key]
            entry[key] = limits.truncate_json_string(value if isinstance(value, str) else _dumps(value), share)
        line = _dumps(entry)
        if len(line) <= limit:
            return line
        problem = f"record of {len(line)} bytes"
    except Exception as err:  # an unserializable record must still leave a line
        problem = f"record not serializable: {type(err).__name__}"
    head = {k: limits.truncate_json_string(entry.get(k, ""), 4096) for k in ("level", "logger", "message")}
    return json.dumps({**head, "truncated": problem}, sort_keys=True)


def get_logger(name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))
    return logger


def bind(**values: Any) -> None:
    """Add correlation keys to every following record of this invocation."""
    bounded = {k: limits.truncate_chars(v, BIND_CHARS) if isinstance(v, str) else v for k, v in values.items()}
    _context.set({**(_context.get() or {}), **{k: v for k, v in bounded.items() if v is not None}})


def clear() -> None:
    _context.set({})
