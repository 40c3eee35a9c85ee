"""BatchUpdateFindings for moto's Security Hub (moto 5.2 lacks it), for tests.

Findings live in moto's backend (stored by ``batch_import_findings``); an update
changes them as Security Hub does for the fields control runbooks and the
orchestrator set: ``Note`` (Text, UpdatedBy, UpdatedAt), ``Workflow.Status`` (and
the legacy ``WorkflowState``), ``VerificationState``, ``Confidence``,
``Criticality``, ``Severity.Label``, ``UserDefinedFields``. Unknown finding
identifiers are reported in ``UnprocessedFindings`` with ``FindingNotFound``.

``install(monkeypatch)`` must run before ``mock_aws`` starts (it adds the URL route);
the monkeypatch undoes it, so tests elsewhere see moto as it is.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from moto.securityhub import models, responses, urls

ROUTE = "{0}/findings/batchupdate$"
WORKFLOW = {"NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"}


def batch_update_findings(backend: models.SecurityHubBackend, body: dict[str, Any]) -> dict[str, Any]:
    processed, unprocessed = [], []
    for ident in body.get("FindingIdentifiers") or []:
        finding = next(
            (
                f
                for f in backend.findings
                if f.id == ident.get("Id") and f.data.get("ProductArn") == ident.get("ProductArn")
            ),
            None,
        )
        if finding is None:
            unprocessed.append(
                {"FindingIdentifier": ident, "ErrorCode": "FindingNotFound", "ErrorMessage": "Finding not found"}
            )
            continue
        status = (body.get("Workflow") or {}).get("Status")
        if status is not None and status not in WORKFLOW:
            unprocessed.append(
                {
                    "FindingIdentifier": ident,
                    "ErrorCode": "InvalidInput",
                    "ErrorMessage": f"Workflow.Status {status!r} is not one of {sorted(WORKFLOW)}",
                }
            )
            continue
        data = finding.data
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        if "Note" in body:
            note = body["Note"]
            if not note.get("Text") or not note.get("UpdatedBy"):
                unprocessed.append(
                    {
                        "FindingIdentifier": ident,
                        "ErrorCode": "InvalidInput",
                        "ErrorMessage": "Note needs Text and UpdatedBy",
                    }
                )
                continue
            data["Note"] = {"Text": note["Text"], "UpdatedBy": note["UpdatedBy"], "UpdatedAt": now}
        if status is not None:
            data["Workflow"] = {"Status": status}
            data["WorkflowState"] = {"RESOLVED": "RESOLVED", "SUPPRESSED": "RESOLVED"}.get(status, status)
        for key in ("VerificationState", "Confidence", "Criticality", "Types"):
            if key in body:
                data[key] = body[key]
        if "Severity" in body:
            data.setdefault("Severity", {}).update(body["Severity"])
        if "UserDefinedFields" in body:
            data.setdefault("UserDefinedFields", {}).update(body["UserDefinedFields"])
        data["UpdatedAt"] = now
        processed.append(ident)
    return {"ProcessedFindings": processed, "UnprocessedFindings": unprocessed}


def _response(self: responses.SecurityHubResponse) -> str:
    body = json.loads(self.body or "{}")
    return json.dumps(batch_update_findings(self.securityhub_backend, body))


def install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Call before ``mock_aws()`` starts; undone with ``monkeypatch``."""
    monkeypatch.setattr(responses.SecurityHubResponse, "batch_update_findings", _response, raising=False)
    monkeypatch.setitem(urls.url_paths, ROUTE, responses.SecurityHubResponse.dispatch)
