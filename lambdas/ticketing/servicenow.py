"""ServiceNow ticket generator (``SO0111-ASR-ServiceNow-TicketGenerator``, ServiceNowBlueprintStack).

Creates a record with the Table API, ``POST <instance>/api/now/table/<table>`` (default
table ``incident``), answered by ``201 {"result": {"sys_id", "number", ...}}``:
https://www.servicenow.com/docs/r/api-reference/rest-apis/c_TableAPI.html
Authentication: the secret's ``API_Key`` in the ``x-sn-apikey`` header (an API key
authentication profile, as the guide asks:
https://www.servicenow.com/docs/r/australia/platform-security/authentication/configure-api-key.html),
or, when the secret has no API_Key, HTTP Basic with its ``Username`` and ``Password``.

Environment (set by the stack): INSTANCE_URI, TABLE_NAME, SECRET_ARN.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from asr import solution
from lambdas.ticketing import core
from lambdas.ticketing.core import Client, Credentials, RemediationInfo, Ticket, TicketError

HOST = solution.validator(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.service-now\.com")
#: ServiceNow table names: lowercase letters, digits and "_" (u_custom, x_scope_table), at most 80.
TABLE = solution.validator(r"[a-z][a-z0-9_]{0,79}")
SYS_ID = solution.validator(r"[0-9a-f]{32}")
API_KEY_HEADER = "x-sn-apikey"
#: Security Hub severity label -> impact, urgency and severity (1 high, 2 medium, 3 low).
LEVELS = {"INFORMATIONAL": "3", "LOW": "3", "MEDIUM": "2", "HIGH": "1", "CRITICAL": "1"}
SHORT_DESCRIPTION_LIMIT = 160  # the incident table's short_description length


class ServiceNow(core.Product):
    name = "ServiceNow"
    host = HOST
    example = "https://my-servicenow-instance.service-now.com"

    def settings(self, env: Mapping[str, str]) -> str:
        table = core.setting(env, "TABLE_NAME")
        if not solution.is_full_match(TABLE, table):
            raise TicketError(f"TABLE_NAME {table[:100]!r}: not a ServiceNow table name (e.g. incident)")
        return table

    def credentials(self, secret: Mapping[str, Any], arn: str) -> Credentials:
        if "API_Key" in secret:
            key = core.header_value(core.secret_text(secret, "API_Key", arn), "API_Key", arn)
            return Credentials({API_KEY_HEADER: key}, (key,))
        if "Username" not in secret:
            raise TicketError(
                f"secret {arn}: needs the key 'API_Key', or 'Username' and 'Password' (keys present: {sorted(secret)})"
            )
        username = core.secret_text(secret, "Username", arn)
        password = core.secret_text(secret, "Password", arn)
        auth = core.basic_auth(username, password)
        return Credentials({"Authorization": auth}, (password, auth, auth.removeprefix("Basic ")))

    def describe(self, data: Any) -> str:
        """The Table API's error: ``{"error": {"message", "detail"}, "status": "failure"}``."""
        error = data.get("error") if isinstance(data, dict) else None
        if not isinstance(error, dict):
            return ""
        return " - ".join(str(error[k]) for k in ("message", "detail") if error.get(k))

    def create(self, info: RemediationInfo, settings: str, client: Client) -> Ticket:
        record: dict[str, str] = {
            "short_description": info.summary()[:SHORT_DESCRIPTION_LIMIT],
            "description": info.description(),
            "category": "software",
        }
        level = LEVELS.get(info.severity)
        if level:
            record.update(impact=level, urgency=level, severity=level)
        reply = client.post(f"/api/now/table/{settings}", record)
        if reply.status not in (200, 201):
            raise TicketError(client.failure(reply) + core.hint(reply.status), reply.status)
        data = reply.json()
        result = data.get("result") if isinstance(data, dict) else None
        sys_id = result.get("sys_id") if isinstance(result, dict) else None
        if not isinstance(sys_id, str) or not solution.is_full_match(SYS_ID, sys_id):
            raise TicketError(
                f"HTTP {reply.status}: the answer is not a created record (no sys_id): {client.detail(reply)}",
                reply.status,
            )
        target = urllib.parse.quote(f"{settings}.do?sys_id={sys_id}", safe="")
        return Ticket(f"{client.base}/nav_to.do?uri={target}", reply.status, reply.reason or "Created")


PRODUCT = ServiceNow()


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    return core.handle(event, context, PRODUCT)
