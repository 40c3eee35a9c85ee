"""Small builders of purpose-written documents."""

from __future__ import annotations

import textwrap
from typing import Any


def doc(
    *steps: dict[str, Any],
    parameters: dict[str, Any] | None = None,
    outputs: list[str] | None = None,
    assume_role: str | None = None,
) -> dict[str, Any]:
    document: dict[str, Any] = {"schemaVersion": "0.3", "parameters": parameters or {}, "mainSteps": list(steps)}
    if outputs:
        document["outputs"] = outputs
    if assume_role:
        document["assumeRole"] = assume_role
    return document


def script(
    name: str,
    code: str,
    payload: dict[str, Any] | None = None,
    outputs: list[dict[str, str]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    step: dict[str, Any] = {
        "name": name,
        "action": "aws:executeScript",
        "inputs": {"Runtime": "python3.11", "Handler": "handler", "Script": textwrap.dedent(code)},
        **fields,
    }
    if payload is not None:
        step["inputs"]["InputPayload"] = payload
    if outputs:
        step["outputs"] = outputs
    return step


def returns(name: str, value: Any, **fields: Any) -> dict[str, Any]:
    """A script step whose handler returns ``value`` (a Python literal)."""
    return script(name, f"def handler(events, context):\n    return {value!r}\n", **fields)


def echo(name: str, payload: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A script step that returns its InputPayload; output ``Events`` is the whole payload."""
    return script(
        name,
        "def handler(events, context):\n    return events\n",
        payload=payload,
        outputs=[{"Name": "Events", "Selector": "$.Payload", "Type": "StringMap"}],
        **fields,
    )


def fails(name: str, message: str = "boom", **fields: Any) -> dict[str, Any]:
    return script(name, f"def handler(events, context):\n    raise ValueError({message!r})\n", **fields)


def api(
    name: str, service: str, api_name: str, outputs: list[dict[str, str]] | None = None, **inputs: Any
) -> dict[str, Any]:
    step: dict[str, Any] = {
        "name": name,
        "action": "aws:executeAwsApi",
        "inputs": {"Service": service, "Api": api_name, **inputs},
    }
    if outputs:
        step["outputs"] = outputs
    return step


def events_of(execution: Any, step: str) -> dict[str, Any]:
    """What an ``echo`` step received."""
    import json

    return json.loads(execution.step(step).to_dict()["Outputs"]["OutputPayload"][0])["Payload"]
