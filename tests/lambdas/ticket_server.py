"""A ticketing service for the tests: a real HTTP server on 127.0.0.1 (``http.server`` in a
thread, on an ephemeral port) that records every request and answers from a script.

Shared by tests/lambdas/test_ticketing.py (the generators alone) and
tests/orchestrator/test_ticketing_end_to_end.py (the generators invoked by the state machine).
``loopback`` lets the generators talk to it: plain http to 127.0.0.1 (the test-only switch of
``lambdas.ticketing.core``), short timeouts, no proxy, and retries that record their delays
instead of sleeping.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from lambdas.ticketing import core

#: Seconds per attempt of the generators under test (a hung answer costs this, not 10 s).
TIMEOUT = 0.25
SYS_ID = "9d385017c611228701d22104cc95c371"


@dataclass
class Answer:
    status: int = 201
    body: Any = None  # dict/list -> JSON; str/bytes -> as is
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # never answer (the client must time out)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Service:
    """A real HTTP server on 127.0.0.1: records requests, answers from a script (the last answer repeats)."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.script: list[Answer] = [Answer(404, {"error": "no script"})]
        self.release = threading.Event()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self._serve()

            def do_GET(self) -> None:
                self._serve()

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                service.requests.append(Request(self.command, self.path, headers, body))
                answer = service.script.pop(0) if len(service.script) > 1 else service.script[0]
                if answer.hang:
                    service.release.wait(10)
                    return
                if isinstance(answer.body, dict | list):
                    data, kind = json.dumps(answer.body).encode(), "application/json"
                else:
                    text = answer.body or b""
                    data, kind = (text.encode() if isinstance(text, str) else text), "text/html"
                headers = dict(answer.headers)
                self.send_response(answer.status)
                self.send_header("Content-Type", headers.pop("Content-Type", kind))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answers(self, *answers: Answer) -> None:
        self.script = list(answers)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def loopback(monkeypatch: pytest.MonkeyPatch, timeout: float = TIMEOUT) -> list[float]:
    """Point the generators at a ``Service``: returns the list their retry delays go to."""
    delays: list[float] = []
    monkeypatch.setattr(core, "sleep", delays.append)
    monkeypatch.setattr(core, "POLICY", core.RetryPolicy(timeout=timeout))
    monkeypatch.setattr(core, "ALLOW_LOOPBACK_HTTP", True)
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    return delays


def basic(user: str, password: str) -> str:
    """The Authorization header value of HTTP Basic credentials (RFC 7617)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


#: What Jira Cloud answers to a created issue, and ServiceNow to a created record.
CREATED_ISSUE = Answer(201, {"id": "10042", "key": "SEC-42", "self": "https://x.atlassian.net/rest/api/2/issue/10042"})
CREATED_RECORD = Answer(201, {"result": {"sys_id": SYS_ID, "number": "INC0010042"}})
