"""The evaluator contract: Resource in, Verdict out; one registry of every control."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError


class Status(StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    NOT_APPLICABLE = "NOT_APPLICABLE"


@dataclass(frozen=True)
class Verdict:
    status: Status
    reason: str

    def __bool__(self) -> bool:  # a verdict is not a truth value: compare .status
        raise TypeError("compare Verdict.status, not the verdict itself")


def passed(reason: str) -> Verdict:
    return Verdict(Status.PASSED, reason)


def failed(reason: str) -> Verdict:
    return Verdict(Status.FAILED, reason)


def not_applicable(reason: str) -> Verdict:
    return Verdict(Status.NOT_APPLICABLE, reason)


class EvaluationError(RuntimeError):
    """The evaluator could not decide (unknown control, resource not found, API error)."""


def api_call(control_id: str, resource: Resource, operation: Callable[..., Any], **kwargs: Any) -> Any:
    """``operation(**kwargs)``; an API failure becomes an EvaluationError naming the control and resource."""
    try:
        return operation(**kwargs)
    except (ClientError, BotoCoreError) as err:
        name = getattr(operation, "__name__", "call")
        raise EvaluationError(f"{control_id}: {name} failed for {resource.id!r}: {err}") from None


@dataclass(frozen=True)
class Resource:
    """The resource of a finding, as ``Resources[0]`` of the ASFF finding names it.

    ``id`` is the finding's ``Resources[0].Id`` (an ARN for most types; an
    ``AWS::::Account:<id>`` string for account-level controls); ``type`` its ASFF
    type (``AwsS3Bucket`` ...); ``details`` its ``Details`` (may be empty).
    """

    id: str
    type: str
    account: str
    region: str
    partition: str = "aws"
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """Last segment of the id: bucket, function, role name ... (``/`` or ``:`` separated)."""
        tail = self.id.rsplit(":", 1)[-1]
        return tail.rsplit("/", 1)[-1]

    @classmethod
    def account_level(cls, account: str, region: str, partition: str = "aws") -> Resource:
        return cls(f"AWS::::Account:{account}", "AwsAccount", account, region, partition)

    @classmethod
    def of_bucket(cls, name: str, account: str, region: str, partition: str = "aws") -> Resource:
        """An S3 bucket (its ARN carries neither account nor Region, so both are given)."""
        return cls(f"arn:{partition}:s3:::{name}", "AwsS3Bucket", account, region, partition)

    @classmethod
    def of_arn(cls, arn: str, type_: str, details: Mapping[str, Any] | None = None) -> Resource:
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn":
            raise EvaluationError(f"resource id {arn!r} is not an ARN")
        return cls(arn, type_, parts[4], parts[3], parts[1], dict(details or {}))


@dataclass(frozen=True)
class Context:
    """What an evaluator may use: a session in the resource's account and the control parameters."""

    session: boto3.Session
    region: str
    account: str
    partition: str = "aws"
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def client(self, service: str, region: str | None = None) -> Any:
        return self.session.client(service, region_name=region or self.region or None)

    def parameter(self, name: str) -> Any:
        return self.parameters[name]


Evaluator = Callable[[Context, Resource], Verdict]


@dataclass(frozen=True)
class ControlSpec:
    control_id: str
    evaluator: Evaluator
    doc: str  # the documentation page the evaluation is written from
    resource_types: tuple[str, ...]
    defaults: Mapping[str, Any]  # Security Hub control parameters and their defaults
    scope: str  # "resource" or "account"


REGISTRY: dict[str, ControlSpec] = {}


def control(
    control_id: str,
    *,
    doc: str,
    resource_types: tuple[str, ...],
    defaults: Mapping[str, Any] | None = None,
    scope: str = "resource",
) -> Callable[[Evaluator], Evaluator]:
    """Register an evaluator for a consolidated control id."""
    if scope not in ("resource", "account"):
        raise ValueError(f"scope must be 'resource' or 'account', got {scope!r}")
    if not doc.startswith("https://docs.aws.amazon.com/"):
        raise ValueError(f"{control_id}: doc must be an AWS documentation URL, got {doc!r}")

    def register(fn: Evaluator) -> Evaluator:
        if control_id in REGISTRY:
            raise ValueError(f"control {control_id} registered twice")
        REGISTRY[control_id] = ControlSpec(control_id, fn, doc, resource_types, dict(defaults or {}), scope)
        return fn

    return register


_LOADED = False


def load_all() -> dict[str, ControlSpec]:
    """Import every evaluator module of this package (each registers its controls)."""
    global _LOADED
    if not _LOADED:
        import asr.controls as package

        for info in pkgutil.iter_modules(package.__path__):
            if info.name not in ("base", "mapping"):
                importlib.import_module(f"asr.controls.{info.name}")
        _LOADED = True
    return REGISTRY


def evaluate(
    control_id: str,
    session: boto3.Session,
    resource: Resource,
    parameters: Mapping[str, Any] | None = None,
) -> Verdict:
    """The verdict of ``control_id`` on ``resource``, read through ``session``."""
    specs = load_all()
    spec = specs.get(control_id)
    if spec is None:
        raise EvaluationError(f"control {control_id!r} has no evaluator (known: {len(specs)})")
    unknown = set(parameters or {}) - set(spec.defaults)
    if unknown:
        raise EvaluationError(f"control {control_id}: unknown parameter(s) {sorted(unknown)}")
    ctx = Context(
        session=session,
        region=resource.region,
        account=resource.account,
        partition=resource.partition,
        parameters={**spec.defaults, **(parameters or {})},
    )
    return spec.evaluator(ctx, resource)
