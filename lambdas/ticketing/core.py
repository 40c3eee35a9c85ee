"""What both ticket generators share: the contract, validation, the secret, one HTTP POST.

Contract (the orchestrator's "Generate Ticket" state, ``lambdas/orchestrator/worker.py``
``TicketRequest``; any custom ticketing Lambda must honour it too, see docs/ticketing.md)::

    in:  {"RemediationInfo": {"Message", "FindingDescription", "FindingSeverity",
                              "SecurityControlId", "FindingAccountId", "AffectedResource"}}
    out: {"TicketURL": str, "Ok": bool, "ResponseCode": int, "ResponseReason": str}

Every failure the function can foresee (bad input, bad configuration, an unreadable
secret, the ticketing service refusing or failing) is an answer with ``Ok`` false and a
reason naming what was wrong; ``ResponseCode`` is the HTTP status, or 0 when there was
no HTTP answer. Secrets never reach a log line or an answer: the code never formats
them, and any text a server sends back is cleaned of them before it is used.

HTTP (standard library ``urllib``): every attempt has a timeout; 429, 5xx, timeouts and
dropped connections are retried a bounded number of times with exponential backoff (a
server's ``Retry-After`` wins when it is short enough), always within the Lambda's
remaining time; 4xx is final. Redirects are never followed by ``urllib`` (it would resend
the Authorization header to wherever the server points); a 307/308 to the same origin
is followed by hand, anything else is an error naming the target host.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.message import Message
from email.utils import parsedate_to_datetime
from http.client import HTTPException
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from asr import solution

LOG = logging.getLogger("lambdas.ticketing")
LOG.setLevel(os.environ.get("LOG_LEVEL", "INFO"))
# botocore logs whole response bodies at DEBUG, GetSecretValue's SecretString included, as soon
# as the root logger is at DEBUG (the function's ApplicationLogLevel can set it): the SDK's own
# loggers stay at INFO or above, whatever the root level.
for _sdk in ("botocore", "boto3", "urllib3"):
    _logger = logging.getLogger(_sdk)
    if _logger.level == logging.NOTSET or _logger.level < logging.INFO:
        _logger.setLevel(logging.INFO)

#: Tests only: accept ``http://127.0.0.1:<port>`` as an instance URI. No environment
#: variable or template value sets it; only code importing this module can (the tests).
ALLOW_LOOPBACK_HTTP = False

#: How the function waits between attempts (tests replace it: they never sleep for real).
sleep: Callable[[float], None] = time.sleep
#: Wall clock, for a Retry-After given as an HTTP-date.
wall_clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class RetryPolicy:
    timeout: float = 10.0  # seconds per attempt, for the connection and for each read
    attempts: int = 3  # at most, the first one included
    backoff: float = 1.0  # first delay between attempts; doubles for each further one
    max_delay: float = 8.0  # a computed delay never exceeds this
    max_retry_after: float = 20.0  # a longer Retry-After ends the retries at once
    max_redirects: int = 3  # same-origin 307/308 hops
    max_body: int = 1_000_000  # bytes of an answer read at most


POLICY = RetryPolicy()
#: Seconds kept in hand before the Lambda timeout (to answer instead of being killed).
SAFETY_SECONDS = 2.0
#: Time budget when there is no Lambda context (a direct call).
DEFAULT_BUDGET_SECONDS = 50.0

SEVERITIES = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
SECRET_ARN = solution.validator(
    r"arn:(?:aws|aws-cn|aws-us-gov):secretsmanager:[a-z]{2}(?:-gov)?-[a-z]+-[0-9]:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+"
)
_CONTROL_ID = solution.validator(r"[A-Za-z0-9][A-Za-z0-9 ._/:-]{0,99}")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HEADER_SAFE = solution.validator(r"[\x21-\x7e]+")  # visible ASCII: an HTTP header value


class TicketError(Exception):
    """A foreseen failure: becomes ``{"Ok": false, "ResponseCode": code, "ResponseReason": reason}``."""

    def __init__(self, reason: str, code: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def answer(url: str, ok: bool, code: int, reason: str) -> dict[str, Any]:
    return {"TicketURL": url, "Ok": ok, "ResponseCode": code, "ResponseReason": reason}


# --- input ------------------------------------------------------------------------


@dataclass(frozen=True)
class RemediationInfo:
    message: str
    finding_description: str
    severity: str  # one of SEVERITIES, or "" when the finding has none
    control_id: str
    account_id: str
    affected_resource: str
    account_alias: str  # optional in the event; "" when absent

    @classmethod
    def parse(cls, event: Any) -> RemediationInfo:
        if not isinstance(event, Mapping) or not isinstance(event.get("RemediationInfo"), Mapping):
            raise TicketError(f"event: expected {{'RemediationInfo': {{...}}}}, got {_brief(event)}")
        info = event["RemediationInfo"]

        def text(name: str, *, required: bool = False, limit: int = 30_000) -> str:
            value = info.get(name, "")
            if value is None:
                value = ""
            if not isinstance(value, str):
                raise TicketError(f"RemediationInfo.{name}: expected a string, got {_brief(value)}")
            value = _CONTROL_CHARS.sub("", value).strip()
            if required and not value:
                raise TicketError(f"RemediationInfo.{name}: missing or empty")
            return value[:limit]

        severity = text("FindingSeverity").upper()
        if severity and severity not in SEVERITIES:
            raise TicketError(f"RemediationInfo.FindingSeverity: {severity!r} is not one of {', '.join(SEVERITIES)}")
        control = text("SecurityControlId", required=True)
        if not solution.is_full_match(_CONTROL_ID, control):
            raise TicketError(f"RemediationInfo.SecurityControlId: {control!r} is not a control id (e.g. S3.5)")
        account = text("FindingAccountId", required=True)
        if not solution.is_full_match(solution.ACCOUNT_ID, account):
            raise TicketError(f"RemediationInfo.FindingAccountId: {account!r} is not a 12-digit account id")
        return cls(
            message=text("Message", required=True),
            finding_description=text("FindingDescription"),
            severity=severity,
            control_id=control,
            account_id=account,
            affected_resource=text("AffectedResource", limit=2_000),
            account_alias=text("AccountAlias", limit=200),
        )

    def summary(self) -> str:
        return f"ASR: Remediation completed for {self.control_id} in account {self.account_id}"

    def description(self) -> str:
        account = f"{self.account_alias} ({self.account_id})" if self.account_alias else self.account_id
        return "\n\n".join(
            [
                f"Remediation result: {self.message}",
                f"Finding: {self.finding_description or '(no description)'}",
                f"Security control: {self.control_id}",
                f"Severity: {self.severity or '(none)'}",
                f"Affected resource: {self.affected_resource or '(unknown)'}",
                f"Account: {account}",
                f"Created by {solution.SOLUTION_NAME} ({solution.SOLUTION_ID}).",
            ]
        )


def _brief(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:80]}{'...' if len(text) > 80 else ''}"


# --- configuration -------------------------------------------------------------------


def setting(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise TicketError(f"environment variable {name} is not set")
    return value


def shown_uri(uri: str) -> str:
    """``uri`` fit for a log line or an answer: user information (a password?) masked."""
    try:
        parts = urllib.parse.urlsplit(uri)
    except ValueError:
        return repr(uri[:200])
    if "@" in parts.netloc:
        parts = parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1])
    return repr(urllib.parse.urlunsplit(parts)[:200])


def instance_base(uri: str, host: re.Pattern[str], product: str, example: str) -> str:
    """The instance's origin (``https://<host>``) from INSTANCE_URI, or TicketError.

    Only the bare origin of the product's own host shape is accepted: https, no user
    information, no path beyond "/", no query, no fragment, no port (the https default only).
    """
    shown = shown_uri(uri)

    def refuse(why: str) -> TicketError:
        return TicketError(f"INSTANCE_URI {shown}: {why} (expected the {product} instance, e.g. {example})")

    if not isinstance(uri, str) or uri != uri.strip() or not uri:
        raise refuse("empty or surrounded by spaces")
    try:
        parts = urllib.parse.urlsplit(uri)
        port = parts.port
    except ValueError as err:
        raise refuse(f"not a URL ({err})") from None
    hostname = (parts.hostname or "").lower()
    if ALLOW_LOOPBACK_HTTP and parts.scheme == "http" and hostname == "127.0.0.1" and port:
        return f"http://127.0.0.1:{port}"  # tests only (see ALLOW_LOOPBACK_HTTP)
    if parts.scheme != "https":
        raise refuse("must use https")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise refuse("must not contain user information (credentials belong in the secret)")
    if parts.query or parts.fragment or "?" in uri or "#" in uri:
        raise refuse("must not have a query or fragment")
    if parts.path not in ("", "/"):
        raise refuse("must be the instance root, without a path")
    if port is not None or parts.netloc.endswith(":"):
        raise refuse(f"port {port if port is not None else '(empty)'}: give no port (https uses 443)")
    if not solution.is_full_match(host, hostname) or parts.netloc.lower() != hostname:
        raise refuse(f"host {hostname!r} is not a {product} instance host")
    return f"https://{hostname}"


# --- the secret ------------------------------------------------------------------------


def secret_arn(env: Mapping[str, str]) -> str:
    arn = setting(env, "SECRET_ARN")
    if not solution.is_full_match(SECRET_ARN, arn):
        raise TicketError(f"SECRET_ARN {arn[:300]!r} is not a Secrets Manager secret ARN")
    return arn


def read_secret(arn: str) -> dict[str, str]:
    """The secret's JSON object. Errors name the secret and the problem, never a value."""
    try:
        value = boto3.client("secretsmanager").get_secret_value(SecretId=arn)
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "Error")
        raise TicketError(f"secret {arn}: {code} reading it (does it exist, and may this function read it?)") from None
    except BotoCoreError as err:
        raise TicketError(f"secret {arn}: {type(err).__name__} reading it") from None
    text = value.get("SecretString")
    if not isinstance(text, str):
        raise TicketError(f"secret {arn}: has no SecretString (store the credentials as a JSON key-value secret)")
    try:
        data = json.loads(text)
    except ValueError:
        raise TicketError(f"secret {arn}: its SecretString is not JSON (store a key-value secret)") from None
    if not isinstance(data, dict):
        raise TicketError(f"secret {arn}: its SecretString is not a JSON object (store a key-value secret)")
    return {str(k): v for k, v in data.items()}


def secret_text(secret: Mapping[str, Any], key: str, arn: str) -> str:
    value = secret.get(key)
    if not isinstance(value, str) or not value:
        raise TicketError(f"secret {arn}: key {key!r} is missing or empty (keys present: {sorted(secret)})")
    return value


def header_value(value: str, key: str, arn: str) -> str:
    if not solution.is_full_match(_HEADER_SAFE, value):
        raise TicketError(f"secret {arn}: value of {key!r} holds characters an HTTP header cannot carry")
    return value


def basic_auth(username: str, password: str) -> str:
    """RFC 7617 Basic credentials, UTF-8 (as Atlassian documents for email + API token)."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


class Redactor:
    """Removes secret values (and their Basic/base64 forms) from text a server sent back."""

    def __init__(self, values: Iterable[str]) -> None:
        self._values = sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, "***")
        return text


@dataclass(frozen=True)
class Credentials:
    headers: dict[str, str]
    #: every sensitive string (secret values, header values) for the Redactor
    sensitive: tuple[str, ...]


# --- HTTP ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    reason: str
    headers: Message
    body: bytes

    def json(self) -> Any:
        """The parsed JSON body, or None when the body is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError:
            return None

    def text(self, limit: int = 300) -> str:
        text = " ".join(self.body.decode("utf-8", errors="replace").split())
        return text[:limit] + ("..." if len(text) > limit else "")

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "none") if self.headers is not None else "none"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib would resend the Authorization header anywhere: Client decides


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """RFC 9110 Retry-After: delay-seconds or an HTTP-date; None if absent or unreadable.
    https://www.rfc-editor.org/rfc/rfc9110#field.retry-after"""
    if value is None:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]{1,9}", value, re.ASCII):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now)


class Client:
    """POSTs JSON to one instance with the credentials, under the retry policy and a deadline."""

    def __init__(
        self,
        base: str,
        credentials: Credentials,
        *,
        deadline: float,
        describe: Callable[[Any], str],
        policy: RetryPolicy | None = None,
    ) -> None:
        self.base = base
        self.credentials = credentials
        self.redact = Redactor(credentials.sensitive)
        self.deadline = deadline  # time.monotonic() value
        self.describe = describe  # product's reading of a JSON error body
        self.policy = policy or POLICY
        self.attempts = 0  # HTTP requests sent, for the log
        # built here, not at import: the proxy settings (HTTPS_PROXY, NO_PROXY) are read now
        self.opener = urllib.request.build_opener(_NoRedirect)

    def detail(self, reply: Reply) -> str:
        """What the answer says, cleaned of secrets: the product's error fields, else its text."""
        data = reply.json()
        said = self.describe(data) if data is not None else ""
        if not said:
            kind = "" if data is not None else f" (not JSON, Content-Type {reply.content_type})"
            said = f"{reply.text() or 'empty body'}{kind}"
        return self.redact(said)

    def failure(self, reply: Reply) -> str:
        status = " ".join(filter(None, [f"HTTP {reply.status}", self.redact(reply.reason or "")]))
        return f"{status}: {self.detail(reply)}"

    def post(self, path: str, payload: Mapping[str, Any]) -> Reply:
        """The final answer (2xx or 4xx) to POST ``payload`` to ``path``; TicketError otherwise."""
        policy = self.policy
        url = self.base + path
        data = json.dumps(payload).encode("utf-8")
        attempt = redirects = 0
        while True:
            attempt += 1
            timeout = min(policy.timeout, self.deadline - time.monotonic())
            if timeout < 0.1:
                raise TicketError(f"no time left for attempt {attempt} within the function timeout")
            reply = self._send(url, data, timeout)
            failure, code, retry_after = reply, 0, None  # a str: no HTTP answer (timeout, connection)
            if isinstance(reply, Reply):
                if 300 <= reply.status < 400:
                    url = self._redirect(url, reply, redirects)
                    redirects += 1
                    attempt -= 1  # a followed redirect is not a failed attempt
                    continue
                if reply.status != 429 and reply.status < 500:
                    return reply
                failure, code = self.failure(reply), reply.status
                retry_after = retry_after_seconds(reply.headers.get("Retry-After"), wall_clock())
            if attempt >= policy.attempts:
                raise TicketError(f"{failure} (gave up after {attempt} attempts)", code)
            if retry_after is not None and retry_after > policy.max_retry_after:
                raise TicketError(
                    f"{failure} (the server asks to retry after {retry_after:.0f} s, more than the "
                    f"{policy.max_retry_after:.0f} s this function waits)",
                    code,
                )
            delay = (
                retry_after if retry_after is not None else min(policy.backoff * 2 ** (attempt - 1), policy.max_delay)
            )
            if self.deadline - time.monotonic() - delay < 1.0:
                raise TicketError(f"{failure} (no time left to retry within the function timeout)", code)
            LOG.warning("attempt %d of %d: %s; retrying in %.1f s", attempt, policy.attempts, failure, delay)
            sleep(delay)

    def _send(self, url: str, data: bytes, timeout: float) -> Reply | str:
        """One request: its HTTP answer, or why there was none (a retryable failure)."""
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"AwsSolution/{solution.SOLUTION_ID}/{solution.VERSION}",
            **self.credentials.headers,
        }
        request = urllib.request.Request(url, data=data, method="POST", headers=headers)
        self.attempts += 1
        LOG.info("POST %s (attempt %d, timeout %.1f s)", url, self.attempts, timeout)
        try:
            with self.opener.open(request, timeout=timeout) as response:
                body = response.read(self.policy.max_body)
                reply = Reply(response.status, response.reason or "", response.headers, body)
        except urllib.error.HTTPError as err:
            try:
                body = err.read(self.policy.max_body) if err.fp is not None else b""
            except (TimeoutError, OSError, HTTPException):
                body = b""
            finally:
                err.close()
            reply = Reply(err.code, str(err.reason or ""), err.headers, body)
        except TimeoutError:
            return f"no answer within {timeout:.1f} s (timed out)"
        except urllib.error.URLError as err:
            reason = err.reason
            if isinstance(reason, TimeoutError):
                return f"no connection within {timeout:.1f} s (timed out)"
            if isinstance(reason, ssl.SSLCertVerificationError):
                raise TicketError(f"TLS certificate of {urllib.parse.urlsplit(url).hostname} not trusted") from None
            return f"connection failed: {self.redact(str(reason))}"
        except (HTTPException, ConnectionError, OSError) as err:
            return f"connection failed: {type(err).__name__}"
        except ValueError:
            raise TicketError("the HTTP client refused the request (invalid URL or header value)") from None
        LOG.info("HTTP %d %s (%d bytes)", reply.status, reply.reason, len(reply.body))
        return reply

    def _redirect(self, url: str, reply: Reply, redirects: int) -> str:
        location = reply.headers.get("Location") if reply.headers is not None else None
        if not location:
            raise TicketError(f"HTTP {reply.status} redirect without a Location", reply.status)
        target = urllib.parse.urljoin(url, location)
        _, host, port = _origin(target)
        where = f"{host}:{port}" if port not in (None, 443, 80) else host
        if _origin(target) != _origin(self.base):
            raise TicketError(
                f"HTTP {reply.status}: the instance redirects to another host ({where or 'unknown'}); not followed, "
                "the credentials are only ever sent to INSTANCE_URI (check INSTANCE_URI)",
                reply.status,
            )
        if reply.status not in (307, 308):
            raise TicketError(
                f"HTTP {reply.status}: redirect to {urllib.parse.urlsplit(target).path!r} not followed (only 307/308 "
                "keep the POST and its body; check INSTANCE_URI)",
                reply.status,
            )
        if redirects >= self.policy.max_redirects:
            raise TicketError(f"HTTP {reply.status}: more than {self.policy.max_redirects} redirects", reply.status)
        LOG.info("HTTP %d: following the redirect to %s", reply.status, urllib.parse.urlsplit(target).path)
        return target


# --- the handler --------------------------------------------------------------------------


@dataclass(frozen=True)
class Ticket:
    url: str
    code: int
    reason: str


class Product:
    """One ticketing service: its instance host, settings, credentials and request."""

    name = ""
    host: re.Pattern[str]
    example = ""

    def settings(self, env: Mapping[str, str]) -> Any:
        raise NotImplementedError

    def credentials(self, secret: Mapping[str, Any], arn: str) -> Credentials:
        raise NotImplementedError

    def describe(self, data: Any) -> str:
        """The error message of a JSON answer body ("" when it has none)."""
        raise NotImplementedError

    def create(self, info: RemediationInfo, settings: Any, client: Client) -> Ticket:
        raise NotImplementedError


def budget(context: Any) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        return max(0.0, remaining() / 1000 - SAFETY_SECONDS)
    return DEFAULT_BUDGET_SECONDS


def hint(status: int) -> str:
    return {
        401: " (check the credentials in the secret)",
        403: " (the secret's user may not create tickets there: check its permissions)",
        404: " (check INSTANCE_URI and the project or table name)",
    }.get(status, "")


def handle(event: Any, context: Any, product: Product, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if env is None else env
    start = time.monotonic()
    try:
        info = RemediationInfo.parse(event)
        base = instance_base(setting(env, "INSTANCE_URI"), product.host, product.name, product.example)
        settings = product.settings(env)
        arn = secret_arn(env)
        credentials = product.credentials(read_secret(arn), arn)
        client = Client(base, credentials, deadline=start + budget(context), describe=product.describe)
        ticket = product.create(info, settings, client)
    except TicketError as err:
        LOG.error("%s ticket not created: %s", product.name, err.reason)
        return answer("", False, err.code, err.reason)
    LOG.info("%s ticket created for %s in %s: %s", product.name, info.control_id, info.account_id, ticket.url)
    return answer(ticket.url, True, ticket.code, ticket.reason)
