"""Enforce IAM on every boto3 call, as AWS would, against the synthesized roles.

    enforcer = Enforcer(roles)          # roles: role ARN -> asr.iam.template.Role (or None)
    with enforcer.installed():
        ...                              # every botocore call is attributed and checked

Attribution. A call is made by the principal whose credentials the client holds:
credentials that came from an ``sts:AssumeRole`` of a role are that role's (the
enforcer watches every AssumeRole answer); any other credentials are the harness's
own (test setup, seeding, reading back) and are not checked -- unless the thread is
``acting_as`` a role (a Lambda handler run in-process acts as its execution role).
``as_service("ssm.amazonaws.com")`` marks AssumeRole calls that an AWS service makes
(SSM assuming an AutomationAssumeRole): only the role's trust policy is checked.

Decision. Each call becomes the authorization requests AWS makes (``asr.iam.requests``):
the action, the resource ARN, the condition keys and the dependent permissions. Each
is decided against the role's identity policies (explicit Deny, else an Allow, else
implicit deny); AssumeRole also against the target's trust policy, with the
same-account rule that a trust policy naming the caller's role ARN suffices
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html).
A denied request raises ``AccessDenied`` as AWS would and is recorded, so a test fails
even when the code under test swallows the error (see ``denials``).
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.client
from botocore.exceptions import ClientError

from asr.iam import catalog, requests
from asr.iam.policy import Decision, ModelError, Policy, Request, decide, trust_names_principal
from asr.iam.template import Role

_ASSUMED = re.compile(r"^arn:(aws[\w-]*):sts::(\d{12}):assumed-role/([^/]+)/")
_ROLE = re.compile(r"^arn:(aws[\w-]*):iam::(\d{12}):role/(?:.*/)?([^/]+)$")
_JSON_PROTOCOLS = {"json", "rest-json"}


@dataclass
class Record:
    """One checked request."""

    principal: str
    service: str
    operation: str
    action: str
    resource: str
    allowed: bool
    statement: str = ""  # the statement that decided (its source), or "" for an implicit deny
    reason: str = ""  # for dependent permissions


@dataclass
class Denial:
    principal: str
    role_source: str
    service: str
    operation: str
    action: str
    resource: str
    detail: str

    def __str__(self) -> str:
        return (
            f"{self.principal} ({self.role_source}) may not {self.action} on {self.resource} "
            f"[{self.service}.{self.operation}]: {self.detail}"
        )


@dataclass
class _Local(threading.local):
    acting: list[str] = field(default_factory=list)
    service: list[str] = field(default_factory=list)
    bypass: int = 0


RoleSource = Callable[[str], Role | None]


class Enforcer:
    def __init__(self, roles: RoleSource, *, harness_prefixes: tuple[str, ...] = ()) -> None:
        self.roles = roles
        self.records: list[Record] = []
        self.denials: list[Denial] = []
        self.model_errors: list[str] = []
        self.expected: list[tuple[Callable[[Denial], bool], list[Denial]]] = []
        self._keys: dict[str, tuple[str, bool]] = {}  # access key id -> (role ARN, assumed by one of our roles?)
        self._local = _Local()
        self._lock = threading.Lock()
        self._original: Callable[..., Any] | None = None

    # -- attribution ------------------------------------------------------------------

    @contextlib.contextmanager
    def acting_as(self, role_arn: str) -> Iterator[None]:
        """Calls made with the harness's credentials in this thread are ``role_arn``'s."""
        self._local.acting.append(role_arn)
        try:
            yield
        finally:
            self._local.acting.pop()

    @contextlib.contextmanager
    def as_service(self, principal: str) -> Iterator[None]:
        """AssumeRole calls in this block are made by AWS service ``principal``."""
        self._local.service.append(principal)
        try:
            yield
        finally:
            self._local.service.pop()

    @contextlib.contextmanager
    def bypass(self) -> Iterator[None]:
        """The enforcer's own look-ups (and the harness's) are not checked."""
        self._local.bypass += 1
        try:
            yield
        finally:
            self._local.bypass -= 1

    def principal_of(self, client: Any) -> str | None:
        """The role ARN a client acts as, or None for the harness."""
        creds = getattr(getattr(client, "_request_signer", None), "_credentials", None)
        key = creds.get_frozen_credentials().access_key if creds is not None else None
        entry = self._keys.get(key or "")
        if entry is not None:
            role, reached_by_ours = entry
            if self.roles(role) is not None:
                return role
            if reached_by_ours:
                return None  # a role outside our templates that one of ours assumed: not ours to check
        return self._local.acting[-1] if self._local.acting else None

    def map_credentials(self, access_key: str, role_arn: str) -> None:
        """Calls signed with ``access_key`` are ``role_arn``'s (e.g. the Step Functions interpreter's)."""
        with self._lock:
            self._keys[access_key] = (role_arn, True)

    # -- decisions --------------------------------------------------------------------

    def authorize(self, principal: str, call: requests.Call) -> None:
        """Raise AccessDenied unless every request of ``call`` is allowed for ``principal``."""
        role = self.roles(principal)
        if role is None:
            raise ModelError(f"{principal} is not a role of the synthesized templates")
        try:
            checks = requests.checks(call)
        except (ModelError, catalog.CatalogError) as err:
            self._model_error(f"{principal}: {call.service}.{call.operation}: {err}")
            raise
        for check in checks:
            request = Request(
                principal, check.action, check.resource, _principal_context(principal, check), check.modeled
            )
            try:
                decision = decide(role.policies, request, role.account)
            except ModelError as err:
                self._model_error(f"{principal}: {call.service}.{call.operation}: {err}")
                raise
            self._record(principal, call, check, decision)
            if not decision.allowed:
                detail = (
                    f"explicitly denied by {decision.deny.source}"
                    if decision.deny
                    else f"no statement of {[p.name for p in role.policies]} allows it"
                )
                if check.reason:
                    detail += f" (needed because {check.reason})"
                self._deny(
                    Denial(principal, role.source, call.service, call.operation, check.action, check.resource, detail)
                )

    def _assume(self, caller: str | None, service: str | None, call: requests.Call) -> None:
        """sts:AssumeRole: the target's trust policy, and the caller's identity policy where needed."""
        target_arn = str(call.params.get("RoleArn", ""))
        target = self.roles(target_arn)
        principal = f"service:{service}" if service else caller
        if principal is None:
            return  # the harness establishing a session
        if target is not None:
            org_id = _organization_of(_account_of(principal))
            trust_request = Request(
                principal,
                "sts:AssumeRole",
                target_arn,
                {"aws:principalorgid": org_id} if org_id else {},
                frozenset(
                    {"aws:sourceaccount", "aws:sourcearn", "sts:externalid", "aws:principalarn", "aws:principalorgid"}
                ),
            )
            decision = decide([target.trust], trust_request, _account_of(principal))
            check = requests.Check("sts:AssumeRole", target_arn, reason="trust policy of the role")
            self._record(principal, call, check, decision)
            if not decision.allowed:
                self._deny(
                    Denial(
                        principal,
                        target.source,
                        call.service,
                        call.operation,
                        "sts:AssumeRole",
                        target_arn,
                        f"the trust policy of {target.name} does not admit {principal}",
                    )
                )
            same_account = _account_of(principal) == target.account
            if service or (same_account and any(trust_names_principal(s, principal) for s in target.trust.statements)):
                return
        if service:
            return
        self.authorize(caller, call)  # type: ignore[arg-type]

    def _record(self, principal: str, call: requests.Call, check: requests.Check, decision: Decision) -> None:
        statement = decision.deny or decision.allow
        with self._lock:
            self.records.append(
                Record(
                    principal,
                    call.service,
                    call.operation,
                    check.action,
                    check.resource,
                    decision.allowed,
                    statement.source if statement else "",
                    check.reason,
                )
            )

    def _deny(self, denial: Denial) -> None:
        with self._lock:
            hits = [seen for match, seen in self.expected if match(denial)]
            for seen in hits:
                seen.append(denial)
            if not hits:
                self.denials.append(denial)
        raise _AccessDenied(denial)

    def _model_error(self, message: str) -> None:
        with self._lock:
            self.model_errors.append(message)

    @contextlib.contextmanager
    def expect_denial(self, match: Callable[[Denial], bool]) -> Iterator[list[Denial]]:
        """Denials that ``match`` are what the test proves: not failures; the block sees them in the list."""
        entry: tuple[Callable[[Denial], bool], list[Denial]] = (match, [])
        self.expected.append(entry)
        try:
            yield entry[1]
        finally:
            self.expected.remove(entry)

    def check_call(self, client: Any, operation: str, params: dict[str, Any]) -> None:
        """Authorize a call the emulation performs without botocore (an SSM child automation)."""
        principal = self.principal_of(client)
        if principal is None:
            return
        try:
            self.authorize(principal, self._call(client, operation, params, principal))
        except _AccessDenied as denied:
            raise denied.client_error(client.meta.service_model.metadata.get("protocol", ""), operation) from None

    # -- the botocore hook --------------------------------------------------------------

    def _make_api_call(self, client: Any, operation: str, params: dict[str, Any]) -> Any:
        assert self._original is not None
        if self._local.bypass:
            return self._original(client, operation, params)
        principal = self.principal_of(client)
        service_principal = self._local.service[-1] if self._local.service else None
        model = client.meta.service_model
        is_assume = model.service_name == "sts" and operation == "AssumeRole"
        if principal is not None or (is_assume and service_principal):
            call = self._call(client, operation, params, principal or service_principal or "")
            try:
                if is_assume:
                    self._assume(principal, service_principal, call)
                else:
                    self.authorize(principal, call)  # type: ignore[arg-type]
            except _AccessDenied as denied:
                raise denied.client_error(model.metadata.get("protocol", ""), operation) from None
        response = self._original(client, operation, params)
        if is_assume:
            key = response.get("Credentials", {}).get("AccessKeyId")
            if key:
                with self._lock:
                    self._keys[key] = (str(params["RoleArn"]), principal is not None or service_principal is not None)
        return response

    def _call(self, client: Any, operation: str, params: dict[str, Any], principal: str) -> requests.Call:
        model = client.meta.service_model
        region = client.meta.region_name or "us-east-1"
        prefix = catalog.iam_prefix(model.service_name, model.signing_name, model.endpoint_prefix)
        account = _account_of(principal) or ""
        return requests.Call(
            service=model.service_name,
            operation=operation,
            params=params,
            account=account,
            region=region,
            partition=client.meta.partition,
            prefix=prefix,
            lookup=self._lookup,
            http=_http(model.operation_model(operation), params),
        )

    def _lookup(self, what: str, value: Any) -> Any:
        """Facts a request needs that its parameters do not carry, read from the emulated AWS."""
        if what == "rotation-function":
            account, region, secret = value
            try:
                from moto.secretsmanager.models import secretsmanager_backends

                backend = secretsmanager_backends[account][region]
                return backend.secrets[secret].rotation_lambda_arn or None
            except Exception:
                return None
        if what == "access-key-user":
            account, key = value
            try:
                from moto.iam.models import iam_backends

                return iam_backends[account]["aws"].access_keys[key].user_name
            except Exception:
                return None
        if what == "iam-path":
            account, kind, name = value
            try:
                from moto.iam.models import iam_backends

                backend = iam_backends[account]["aws"]
                getter = {"Role": backend.get_role, "User": backend.get_user}.get(kind, backend.get_instance_profile)
                return getter(name).path
            except Exception:
                return None
        if what == "bucket-owner":
            try:
                from moto.s3.models import s3_backends

                for account, backends in list(s3_backends.items()):
                    for backend in backends.values():
                        if value in backend.buckets:
                            return account
            except ImportError:  # pragma: no cover - moto is the emulation this runs on
                return None
        return None

    @contextlib.contextmanager
    def installed(self) -> Iterator[Enforcer]:
        if self._original is not None:
            raise RuntimeError("enforcer already installed")
        original = botocore.client.BaseClient._make_api_call
        self._original = original
        enforcer = self

        def hooked(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            return enforcer._make_api_call(client, operation_name, api_params)

        botocore.client.BaseClient._make_api_call = hooked  # type: ignore[method-assign]
        _ACTIVE.append(self)
        try:
            yield self
        finally:
            _ACTIVE.remove(self)
            botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]
            self._original = None

    # -- results ------------------------------------------------------------------------

    def exercised(self) -> set[tuple[str, str]]:
        """(role source, action) pairs that some allowed request used."""
        return {(self.source_of(r.principal), r.action) for r in self.records if r.allowed}

    def source_of(self, principal: str) -> str:
        role = self.roles(principal) if not principal.startswith("service:") else None
        return role.source if role else principal


class _AccessDenied(Exception):
    def __init__(self, denial: Denial) -> None:
        super().__init__(str(denial))
        self.denial = denial

    def client_error(self, protocol: str, operation: str) -> ClientError:
        d = self.denial
        code = "AccessDeniedException" if protocol in _JSON_PROTOCOLS else "AccessDenied"
        message = f"User: {d.principal} is not authorized to perform: {d.action} on resource: {d.resource} ({d.detail})"
        return ClientError(
            {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 403}}, operation
        )


_ACTIVE: list[Enforcer] = []


def active() -> Enforcer | None:
    """The installed enforcer, if any (the simulator asks it about SSM's own checks)."""
    return _ACTIVE[-1] if _ACTIVE else None


def _http(operation: Any, params: dict[str, Any]) -> tuple[str, str] | None:
    """(method, path) of a REST operation, its URI parameters filled from ``params``."""
    http = operation.http or {}
    if "requestUri" not in http:
        return None
    path = http["requestUri"]
    shape = operation.input_shape
    for name, member in shape.members.items() if shape is not None else ():
        if member.serialization.get("location") == "uri" and name in params:
            location = member.serialization.get("name", name)
            path = path.replace("{" + location + "}", str(params[name])).replace(
                "{" + location + "+}", str(params[name])
            )
    return http.get("method", "GET"), path


def _account_of(principal: str) -> str:
    for pattern in (_ROLE, _ASSUMED):
        match = pattern.match(principal)
        if match:
            return match.group(2)
    return ""


def _organization_of(account: str) -> str | None:
    """aws:PrincipalOrgID of a principal of ``account``: the id of the emulated (moto) organization
    it belongs to, None when it is in none (the key is then absent, as in AWS).
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid"""
    if not account:
        return None
    try:
        from moto.organizations.models import organizations_backends
    except ImportError:  # pragma: no cover
        return None
    try:
        return organizations_backends[account]["aws"].describe_organization()["Organization"]["Id"]
    except Exception:  # AWSOrganizationsNotInUseException: in no organization
        return None


def _principal_context(principal: str, check: requests.Check) -> dict[str, Any]:
    ctx = dict(check.context)
    ctx.setdefault("aws:principalarn", principal)
    ctx.setdefault("aws:principalaccount", _account_of(principal))
    return ctx


__all__ = ["Denial", "Enforcer", "Policy", "Record", "active"]
