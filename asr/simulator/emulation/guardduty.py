"""Amazon GuardDuty tags, which moto 5.2 lacks: TagResource, UntagResource and ListTagsForResource on
detectors and filters, and the ``tags`` of CreateFilter / GetFilter (moto drops them).

Amazon GuardDuty API Reference:
* TagResource, POST /tags/{resourceArn} {"tags": {...}} -> HTTP 204:
  https://docs.aws.amazon.com/guardduty/latest/APIReference/API_TagResource.html
* UntagResource, DELETE /tags/{resourceArn}?tagKeys=... -> HTTP 204:
  https://docs.aws.amazon.com/guardduty/latest/APIReference/API_UntagResource.html
* ListTagsForResource, GET /tags/{resourceArn} -> {"tags": {...}}:
  https://docs.aws.amazon.com/guardduty/latest/APIReference/API_ListTagsForResource.html
* CreateFilter ``tags`` and GetFilter's ``tags`` in its response:
  https://docs.aws.amazon.com/guardduty/latest/APIReference/API_CreateFilter.html
  https://docs.aws.amazon.com/guardduty/latest/APIReference/API_GetFilter.html

The resource ARN must match ``^arn:[A-Za-z_.-]{1,20}:guardduty:[A-Za-z0-9_/.-]{0,63}:\\d+:detector/
[A-Za-z0-9_/.-]{32,264}$``; a tag map holds at most 200 entries, keys of 1-128 characters matching
``^(?!aws:)[a-zA-Z+-=._:/]+$``, values of at most 256 characters. Every error is a
BadRequestException (HTTP 400), the only client error those pages list.
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote

from moto.guardduty import urls as moto_urls
from moto.guardduty.exceptions import GuardDutyException
from moto.guardduty.models import Detector, Filter, GuardDutyBackend
from moto.guardduty.responses import GuardDutyResponse

from asr.simulator.emulation import extends

RESOURCE_ARN = re.compile(
    r"^arn:[A-Za-z_.-]{1,20}:guardduty:[A-Za-z0-9_/.-]{0,63}:\d+:detector/[A-Za-z0-9_/.-]{32,264}$"
)
TAG_KEY = re.compile(r"^(?!aws:)[a-zA-Z+-=._:/]+$")  # as documented (``+-=`` is a range: digits are in)
MAX_TAGS = 200
MAX_KEY, MAX_VALUE = 128, 256
TAGS_PATH = "{0}/tags/(?P<resource_arn>.+)$"


class BadRequest(GuardDutyException):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("BadRequestException", message)


def _validate_tags(tags: Any, field: str = "tags") -> dict[str, str]:
    if not isinstance(tags, dict):
        raise BadRequest(f"1 validation error detected: Value at '{field}' failed to satisfy constraint: must be a map")
    if len(tags) > MAX_TAGS:
        raise BadRequest(
            f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
            f"Map value must satisfy constraint: [Member must have length less than or equal to {MAX_TAGS}]"
        )
    for key, value in tags.items():
        if not 1 <= len(key) <= MAX_KEY or not TAG_KEY.match(key):
            raise BadRequest(f"The tag key {key!r} is invalid: 1-{MAX_KEY} characters, not starting with 'aws:'")
        if not isinstance(value, str) or len(value) > MAX_VALUE:
            raise BadRequest(f"The value of tag {key!r} is invalid: at most {MAX_VALUE} characters")
    return dict(tags)


def _taggable(backend: GuardDutyBackend, arn: str) -> Detector | Filter:
    """The detector or filter the ARN names, in this backend's account and Region."""
    if not RESOURCE_ARN.match(arn):
        raise BadRequest(f"The request is rejected because the resource ARN {arn!r} is not a valid GuardDuty ARN.")
    _, _partition, _, region, account, path = arn.split(":", 5)
    parts = path.split("/")
    if (region, account) != (backend.region_name, backend.account_id) or len(parts) not in (2, 4):
        raise BadRequest(f"The request is rejected because the resource {arn!r} is not owned by the current account.")
    detector = backend.detectors.get(parts[1])
    if detector is None:
        raise BadRequest("The request is rejected because the input detectorId is not owned by the current account.")
    if len(parts) == 2:
        return detector
    if parts[2] != "filter" or parts[3] not in detector.filters:
        raise BadRequest(f"The request is rejected since no such resource found: {arn!r}.")
    return detector.filters[parts[3]]


def _tags_of(resource: Detector | Filter) -> dict[str, str]:
    if not hasattr(resource, "tags") or resource.tags is None:
        resource.tags = {}
    return resource.tags


# --------------------------------------------------------------------------- routing


class _UrlModule(SimpleNamespace):
    """moto.guardduty.urls plus the /tags/{resourceArn} path of the three tagging operations."""


class _NamedProperty(property):
    """A property that ``extends`` can declare (it names the extension after ``__name__``)."""

    def __init__(self, fget: Any) -> None:
        super().__init__(fget)
        self.__name__ = fget.__name__


# moto routes a request with ``backend.urls``, built from the property ``backend._url_module``
# (moto.core.base_backend.BaseBackend): GuardDuty's gains the tagging path.
@extends(GuardDutyBackend)
@_NamedProperty
def _url_module(self: GuardDutyBackend) -> Any:
    paths = {**moto_urls.url_paths, TAGS_PATH: GuardDutyResponse.dispatch}
    return _UrlModule(url_bases=moto_urls.url_bases, url_paths=paths)


# --------------------------------------------------------------------------- backend


@extends(GuardDutyBackend)
def tag_resource(self: GuardDutyBackend, resource_arn: str, tags: dict[str, str]) -> None:
    resource = _taggable(self, resource_arn)
    new = _validate_tags(tags)
    merged = {**_tags_of(resource), **new}
    if len(merged) > MAX_TAGS:
        raise BadRequest(f"The resource {resource_arn!r} would have more than {MAX_TAGS} tags.")
    resource.tags = merged


@extends(GuardDutyBackend)
def untag_resource(self: GuardDutyBackend, resource_arn: str, tag_keys: list[str]) -> None:
    resource = _taggable(self, resource_arn)
    if not tag_keys:
        raise BadRequest(
            "1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: must not be empty"
        )
    resource.tags = {k: v for k, v in _tags_of(resource).items() if k not in set(tag_keys)}


@extends(GuardDutyBackend)
def list_tags_for_resource(self: GuardDutyBackend, resource_arn: str) -> dict[str, str]:
    return dict(_tags_of(_taggable(self, resource_arn)))


# --------------------------------------------------------------------------- responses


def _resource_arn(response: GuardDutyResponse) -> str:
    return unquote(response.path.split("/tags/", 1)[1])


@extends(GuardDutyResponse)
def tag_resource(self: GuardDutyResponse) -> Any:  # noqa: F811 -- the response method of the same name
    tags = self._get_param("tags")
    if tags is None:
        raise BadRequest("1 validation error detected: Value null at 'tags' failed to satisfy constraint: not null")
    self.guardduty_backend.tag_resource(_resource_arn(self), tags)
    return 204, {}, ""


@extends(GuardDutyResponse)
def untag_resource(self: GuardDutyResponse) -> Any:  # noqa: F811
    keys = self.querystring.get("tagKeys") or []
    self.guardduty_backend.untag_resource(_resource_arn(self), keys)
    return 204, {}, ""


@extends(GuardDutyResponse)
def list_tags_for_resource(self: GuardDutyResponse) -> str:  # noqa: F811
    return json.dumps({"tags": self.guardduty_backend.list_tags_for_resource(_resource_arn(self))})


@extends(GuardDutyResponse, replaces=True)
def create_filter(self: GuardDutyResponse) -> str:
    """moto's CreateFilter, keeping the request's ``tags`` (moto drops them)."""
    detector_id = self.path.split("/")[-2]
    name = self._get_param("name")
    tags = _validate_tags(self._get_param("tags") or {})
    self.guardduty_backend.create_filter(
        detector_id,
        name,
        self._get_param("action"),
        self._get_param("description"),
        self._get_param("findingCriteria"),
        self._get_param("rank"),
    )
    self.guardduty_backend.get_filter(detector_id, name).tags = tags
    return json.dumps({"name": name})


@extends(Filter, replaces=True)
def to_json(self: Filter) -> dict[str, Any]:
    """moto's GetFilter body plus ``tags`` (API_GetFilter: "tags: The tags of the filter resource")."""
    return {
        "name": self.name,
        "action": self.action,
        "description": self.description,
        "findingCriteria": self.finding_criteria,
        "rank": self.rank,
        "tags": dict(getattr(self, "tags", None) or {}),
    }
