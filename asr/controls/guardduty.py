"""Amazon GuardDuty controls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from asr.controls.base import Context, EvaluationError, Resource, Verdict, control, failed, passed

DOC = "https://docs.aws.amazon.com/securityhub/latest/userguide/guardduty-controls.html"
MAX_REQUIRED_TAG_KEYS = 6  # "StringList (maximum of 6 items)"


@control(
    "GuardDuty.1",
    doc=f"{DOC}#guardduty-1",
    resource_types=("AwsAccount",),
    scope="account",
)
def guardduty_enabled(ctx: Context, resource: Resource) -> Verdict:
    """GuardDuty.1 (Config rule guardduty-enabled-centralized): a GuardDuty detector exists in
    the account and Region and its Status is ENABLED."""
    gd = ctx.client("guardduty")
    try:
        detector_ids = [
            d for page in gd.get_paginator("list_detectors").paginate() for d in page.get("DetectorIds", [])
        ]
        statuses = {d: gd.get_detector(DetectorId=d).get("Status") for d in detector_ids}
    except ClientError as err:
        raise EvaluationError(f"GuardDuty.1: cannot read GuardDuty detectors of {resource.id!r}: {err}") from None
    if not statuses:
        return failed(f"no GuardDuty detector in {ctx.region} (list_detectors returned no DetectorIds)")
    enabled = [d for d, status in statuses.items() if status == "ENABLED"]
    if enabled:
        return passed(f"detector {enabled[0]} Status is 'ENABLED'")
    return failed("; ".join(f"detector {d} Status is {status!r}" for d, status in statuses.items()))


# -- tagging controls ------------------------------------------------------------------------


def required_tag_keys(ctx: Context, control_id: str) -> list[str]:
    keys = ctx.parameter("requiredTagKeys")
    if keys is None:
        return []
    if isinstance(keys, str) or not isinstance(keys, Sequence) or not all(isinstance(k, str) and k for k in keys):
        raise EvaluationError(f"{control_id}: requiredTagKeys must be a list of tag keys, got {keys!r}")
    if len(keys) > MAX_REQUIRED_TAG_KEYS:
        raise EvaluationError(f"{control_id}: requiredTagKeys has {len(keys)} keys, at most {MAX_REQUIRED_TAG_KEYS}")
    return list(keys)


def tags_verdict(tags: Mapping[str, Any] | None, required: list[str], what: str) -> Verdict:
    """The documented rule of the ``tagged-*`` checks: system tags (``aws:``) are ignored; with no
    requiredTagKeys any tag key passes, otherwise every required key (case sensitive) must be there."""
    keys = sorted(k for k in (tags or {}) if not k.startswith("aws:"))
    if not required:
        if keys:
            return passed(f"{what} has tag key(s) {keys} (no requiredTagKeys given)")
        return failed(f"{what} has no tag key other than system (aws:) tags")
    missing = [k for k in required if k not in keys]
    if missing:
        return failed(f"{what} lacks requiredTagKeys {missing} (tag keys: {keys})")
    return passed(f"{what} has every key of requiredTagKeys {required}")


def _guardduty_path(resource: Resource, control_id: str) -> list[str]:
    """The ``detector/<id>[/filter/<name>]`` segments of a GuardDuty ARN."""
    parts = resource.id.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "guardduty":
        raise EvaluationError(f"{control_id}: resource id {resource.id!r} is not a GuardDuty ARN")
    return parts[5].split("/")


@control(
    "GuardDuty.2",
    doc=f"{DOC}#guardduty-2",
    resource_types=("AwsGuardDutyFilter",),
    defaults={"requiredTagKeys": []},
)
def filter_tagged(ctx: Context, resource: Resource) -> Verdict:
    """GuardDuty.2 (custom rule tagged-guardduty-filter): the GuardDuty filter (ARN
    ``...:detector/<id>/filter/<name>``) has tags with every key of requiredTagKeys (no default);
    without the parameter it must have at least one non-system tag key."""
    required = required_tag_keys(ctx, "GuardDuty.2")
    path = _guardduty_path(resource, "GuardDuty.2")
    if len(path) != 4 or path[0] != "detector" or path[2] != "filter":
        raise EvaluationError(f"GuardDuty.2: resource id {resource.id!r} is not a GuardDuty filter ARN")
    detector_id, name = path[1], path[3]
    try:
        response = ctx.client("guardduty").get_filter(DetectorId=detector_id, FilterName=name)
    except ClientError as err:
        raise EvaluationError(f"GuardDuty.2: cannot get filter {resource.id!r}: {err}") from None
    return tags_verdict(response.get("Tags"), required, f"filter {name!r}")


@control(
    "GuardDuty.4",
    doc=f"{DOC}#guardduty-4",
    resource_types=("AwsGuardDutyDetector",),
    defaults={"requiredTagKeys": []},
)
def detector_tagged(ctx: Context, resource: Resource) -> Verdict:
    """GuardDuty.4 (custom rule tagged-guardduty-detector): the GuardDuty detector (ARN
    ``...:detector/<id>``) has tags with every key of requiredTagKeys (no default); without the
    parameter it must have at least one non-system tag key."""
    required = required_tag_keys(ctx, "GuardDuty.4")
    path = _guardduty_path(resource, "GuardDuty.4")
    if len(path) != 2 or path[0] != "detector":
        raise EvaluationError(f"GuardDuty.4: resource id {resource.id!r} is not a GuardDuty detector ARN")
    try:
        response = ctx.client("guardduty").get_detector(DetectorId=path[1])
    except ClientError as err:
        raise EvaluationError(f"GuardDuty.4: cannot get detector {resource.id!r}: {err}") from None
    return tags_verdict(response.get("Tags"), required, f"detector {path[1]}")
