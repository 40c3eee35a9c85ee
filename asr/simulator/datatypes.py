"""SSM Automation data types: the one place where values are converted.

Three directions:

* ``coerce_parameter`` -- a value given for a document parameter (SSM API style: a
  string or a list of strings; Python callers may also pass native values) to the
  parameter's declared type.
* ``convert_output`` -- a value picked by an output Selector to the output's Type,
  following the conversions AWS documents for step outputs.
* ``to_text`` / ``to_ssm_strings`` -- a typed value to the strings SSM shows
  (inside a longer string; in ``Outputs`` and ``Parameters`` of an execution).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from asr.simulator.errors import ConversionError, UnsupportedFeatureError

TYPES = ("String", "StringList", "StringMap", "Integer", "Boolean", "MapList")
_INTEGER = re.compile(r"^-?\d+$")


def to_text(value: Any) -> str:
    """The string SSM substitutes for a value inside a longer string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), default=str)


def to_ssm_strings(value: Any) -> list[str]:
    """The list of strings SSM reports for a value (execution Outputs/Parameters)."""
    if isinstance(value, list):
        return [to_text(item) for item in value]
    return [to_text(value)]


def to_jsonable(value: Any) -> Any:
    """An API response or script payload as plain JSON data (as SSM serialises it)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ConversionError(f"value of type {type(value).__name__} is not JSON serializable")


def _single(value: Any) -> Any:
    """A one-element list stands for its element (as in the SSM API)."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _to_string(value: Any) -> str:
    value = _single(value)
    if isinstance(value, str | int | float | bool):
        return to_text(value)
    raise ConversionError(f"expected a String, got {_show(value)}")


def _to_integer(value: Any) -> int:
    value = _single(value)
    if isinstance(value, bool):
        raise ConversionError(f"expected an Integer, got {_show(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value.strip())
    raise ConversionError(f"expected an Integer, got {_show(value)}")


def _to_boolean(value: Any) -> bool:
    value = _single(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConversionError(f"expected a Boolean (true or false), got {_show(value)}")


def _to_string_list(value: Any) -> list[str]:
    if isinstance(value, list):
        if not all(isinstance(v, str | int | float | bool) for v in value):
            raise ConversionError(f"expected a StringList, got {_show(value)}")
        return [to_text(v) for v in value]
    if isinstance(value, str | int | float | bool):
        return [to_text(value)]
    raise ConversionError(f"expected a StringList, got {_show(value)}")


def _parse_json(value: str, type_name: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise ConversionError(f"expected a {type_name} (JSON), got {_show(value)}") from None


def _to_string_map(value: Any) -> dict[str, Any]:
    value = _single(value)
    if isinstance(value, str):
        value = _parse_json(value, "StringMap")
    if isinstance(value, dict):
        return value
    raise ConversionError(f"expected a StringMap, got {_show(value)}")


def _to_map_list(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        value = _parse_json(value, "MapList")
    if isinstance(value, list):
        items = [_parse_json(v, "MapList") if isinstance(v, str) else v for v in value]
        if all(isinstance(item, dict) for item in items):
            return items
    raise ConversionError(f"expected a MapList, got {_show(value)}")


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "String": _to_string,
    "StringList": _to_string_list,
    "StringMap": _to_string_map,
    "Integer": _to_integer,
    "Boolean": _to_boolean,
    "MapList": _to_map_list,
}


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def check_type_name(type_name: str) -> None:
    if type_name not in _CONVERTERS:
        raise UnsupportedFeatureError(f"data type {type_name!r} (supported: {', '.join(TYPES)})")


def coerce_parameter(value: Any, type_name: str) -> Any:
    """A parameter value converted to its declared type; ConversionError if it cannot be."""
    check_type_name(type_name)
    return _CONVERTERS[type_name](value)


def convert_output(value: Any, type_name: str) -> Any:
    """A selected output value converted to the output's Type (SSM's documented rules).

    String converts to StringList, Integer and Boolean; Integer and Boolean convert to
    String and StringList; a one-element list converts to String, Integer or Boolean.
    """
    check_type_name(type_name)
    if type_name == "StringList" and isinstance(value, str | int | float | bool):
        return [to_text(value)]
    if type_name in ("String", "Integer", "Boolean") and isinstance(value, list) and len(value) != 1:
        raise ConversionError(f"expected a {type_name}, got a list of {len(value)} values")
    return _CONVERTERS[type_name](value)


def type_of(value: Any) -> str:
    """The SSM type name of a native value (for messages)."""
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, dict):
        return "StringMap"
    if isinstance(value, list):
        return "MapList" if value and all(isinstance(v, dict) for v in value) else "StringList"
    return "String"
