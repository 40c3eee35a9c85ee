"""CloudFormation custom-resource responses, shared by the custom resources' functions
(lambdas/custom_action, lambdas/org_lookup; packed into their zips by asr/build.py).

The response is a PUT of a JSON document to the pre-signed ``ResponseURL``; it must stay within
4,096 bytes: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from asr import limits


def response_body(
    event: dict[str, Any], status: str, physical_id: str, reason: str = "", data: dict | None = None
) -> bytes:
    """The response document, within CloudFormation's 4,096 bytes (asr/limits.py): the Reason is
    cut to the room the other fields leave, the PhysicalResourceId to 1 KB."""
    document = {
        "Status": status,
        "Reason": "",
        "PhysicalResourceId": limits.truncate_bytes(physical_id, limits.CFN_PHYSICAL_ID_BYTES),
        "StackId": event.get("StackId"),
        "RequestId": event.get("RequestId"),
        "LogicalResourceId": event.get("LogicalResourceId"),
        "Data": data or {},
    }
    room = limits.CFN_RESPONSE_BYTES - len(json.dumps(document).encode())
    document["Reason"] = limits.truncate_json_string(reason or "See the function's CloudWatch log", room) or "-"
    return json.dumps(document).encode()


def respond(event: dict[str, Any], status: str, physical_id: str, reason: str = "", data: dict | None = None) -> None:
    body = response_body(event, status, physical_id, reason, data)
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
