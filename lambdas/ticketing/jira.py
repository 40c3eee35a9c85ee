"""Jira Cloud ticket generator (``SO0111-ASR-Jira-TicketGenerator``, JiraBlueprintStack).

Creates an issue with ``POST <instance>/rest/api/2/issue`` (v2 takes a plain-text
description; v3 would need Atlassian Document Format):
https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-post
answered by ``201 {"id", "key", "self"}``. Authentication is HTTP Basic with the Atlassian
account email (secret key ``Username``) and an API token (``Password``), as the guide asks:
https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/

Environment (set by the stack): INSTANCE_URI, PROJECT_NAME (the project *key*, under the
reference's variable name), SECRET_ARN.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asr import solution
from lambdas.ticketing import core
from lambdas.ticketing.core import Client, Credentials, RemediationInfo, Ticket, TicketError

HOST = solution.validator(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.atlassian\.net")
#: Jira project keys: an uppercase letter, then uppercase letters, digits or "_" (at least 2 characters).
PROJECT_KEY = solution.validator(r"[A-Z][A-Z0-9_]{1,254}")
ISSUE_KEY = solution.validator(r"[A-Z][A-Z0-9_]*-[0-9]+")
PATH = "/rest/api/2/issue"
ISSUE_TYPE = "Bug"
#: Security Hub severity label -> Jira's default priority scheme.
PRIORITIES = {"INFORMATIONAL": "Lowest", "LOW": "Low", "MEDIUM": "Medium", "HIGH": "High", "CRITICAL": "Highest"}
SUMMARY_LIMIT = 255  # Jira's limit on summary


class Jira(core.Product):
    name = "Jira"
    host = HOST
    example = "https://my-jira-instance.atlassian.net"

    def settings(self, env: Mapping[str, str]) -> str:
        key = core.setting(env, "PROJECT_NAME")
        if not solution.is_full_match(PROJECT_KEY, key):
            raise TicketError(f"PROJECT_NAME {key[:100]!r}: not a Jira project key (uppercase, e.g. SEC)")
        return key

    def credentials(self, secret: Mapping[str, Any], arn: str) -> Credentials:
        username = core.secret_text(secret, "Username", arn)
        token = core.secret_text(secret, "Password", arn)
        auth = core.basic_auth(username, token)
        return Credentials({"Authorization": auth}, (token, auth, auth.removeprefix("Basic ")))

    def describe(self, data: Any) -> str:
        """Jira's ErrorCollection: ``{"errorMessages": [...], "errors": {field: message}}``."""
        if not isinstance(data, dict):
            return ""
        messages = [str(m) for m in data.get("errorMessages") or [] if m]
        errors = data.get("errors") if isinstance(data.get("errors"), dict) else {}
        messages += [f"{field}: {message}" for field, message in errors.items()]
        return "; ".join(messages)

    def create(self, info: RemediationInfo, settings: str, client: Client) -> Ticket:
        fields: dict[str, Any] = {
            "project": {"key": settings},
            "issuetype": {"name": ISSUE_TYPE},
            "summary": info.summary()[:SUMMARY_LIMIT],
            "description": info.description(),
        }
        priority = PRIORITIES.get(info.severity)
        if priority:
            fields["priority"] = {"name": priority}
        reply = client.post(PATH, {"fields": fields})
        if reply.status == 400 and priority and _refuses_priority(reply.json()):
            # A project whose create screen has no priority refuses the field: the issue matters more.
            core.LOG.warning(
                "project %s takes no priority (%s): creating the issue without one", settings, client.detail(reply)
            )
            del fields["priority"]
            reply = client.post(PATH, {"fields": fields})
        if reply.status not in (200, 201):
            raise TicketError(client.failure(reply) + core.hint(reply.status), reply.status)
        data = reply.json()
        key = data.get("key") if isinstance(data, dict) else None
        if not isinstance(key, str) or not solution.is_full_match(ISSUE_KEY, key):
            raise TicketError(
                f"HTTP {reply.status}: the answer is not a created issue (no issue key): {client.detail(reply)}",
                reply.status,
            )
        return Ticket(f"{client.base}/browse/{key}", reply.status, reply.reason or "Created")


def _refuses_priority(data: Any) -> bool:
    errors = data.get("errors") if isinstance(data, dict) else None
    return isinstance(errors, dict) and "priority" in errors


PRODUCT = Jira()


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    return core.handle(event, context, PRODUCT)
