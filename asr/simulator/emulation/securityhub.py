"""AWS Security Hub GetFindings with its ``Filters``: moto 5.2 ignores them and answers every finding
it holds, so a lookup by Id returns whichever finding was imported first.

AWS Security Hub API Reference:
* GetFindings (``Filters``: "You can filter by up to 10 finding attributes. For each attribute, you
  can provide up to 20 filter values."; ``MaxResults`` 1-100; ``NextToken``; ``SortCriteria``):
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_GetFindings.html
* AwsSecurityFindingFilters (the attribute each filter key tests):
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_AwsSecurityFindingFilters.html
* StringFilter (``Comparison`` and ``Value``; "Filter values are case sensitive"):
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_StringFilter.html

How string filters combine (StringFilter, Comparison):
* CONTAINS, EQUALS and PREFIX filters on the same field are joined by OR;
* NOT_CONTAINS, NOT_EQUALS and PREFIX_NOT_EQUALS filters on the same field are joined by AND;
* CONTAINS only with other CONTAINS, NOT_CONTAINS only with other NOT_CONTAINS, and EQUALS never with
  NOT_EQUALS or PREFIX_NOT_EQUALS on the same field: "Combining filters in this way returns an error";
* PREFIX may be combined with NOT_EQUALS / PREFIX_NOT_EQUALS: the PREFIX filters select first, the
  negative filters then exclude;
* CONTAINS_WORD "works only in the GetFindingsV2 ... APIs": an error here;
* different fields are joined by AND (a finding matches the request when it matches every field).

Where the reference is silent, this emulation decides, and says so:
* a field that lists several values (ResourceId, ResourceType, ResourceRegion, ResourcePartition over
  ``Resources[]``, Type over ``Types[]``) matches a positive filter when any value matches, and a
  negative filter when no value has what the filter excludes;
* a finding without the attribute matches no positive filter and every negative one;
* an empty list of filters for a key constrains nothing.

Only the string filters listed in ``FIELDS`` are emulated. Any other key of AwsSecurityFindingFilters
(a date, number, map, IP, keyword or boolean filter, or a string field not listed) is refused with
InvalidInputException naming the key, and so is ``SortCriteria``: neither is ever silently ignored.
Paging (``MaxResults``, ``NextToken``) is moto's own paginator, applied to the filtered findings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.securityhub.exceptions import InvalidInputException
from moto.securityhub.models import SecurityHubBackend
from moto.utilities.paginator import paginate

from asr.simulator.emulation import extends

OPERATION = "GetFindings"
MAX_FIELDS = 10  # "You can filter by up to 10 finding attributes"
MAX_VALUES = 20  # "For each attribute, you can provide up to 20 filter values"
MAX_RESULTS = (1, 100)  # GetFindings MaxResults: "Valid Range: Minimum value of 1. Maximum value of 100."

POSITIVE = frozenset({"EQUALS", "PREFIX", "CONTAINS"})
NEGATIVE = frozenset({"NOT_EQUALS", "PREFIX_NOT_EQUALS", "NOT_CONTAINS"})
V2_ONLY = frozenset({"CONTAINS_WORD"})


def _path(*keys: str) -> Callable[[dict[str, Any]], list[str]]:
    """The string at ``finding[keys[0]][keys[1]]...``, as a list of zero or one value."""

    def values(finding: dict[str, Any]) -> list[str]:
        node: Any = finding
        for key in keys:
            if not isinstance(node, dict):
                return []
            node = node.get(key)
        return [node] if isinstance(node, str) else []

    return values


def _resources(key: str) -> Callable[[dict[str, Any]], list[str]]:
    """``Resources[].<key>``: every resource of the finding."""

    def values(finding: dict[str, Any]) -> list[str]:
        return [r[key] for r in finding.get("Resources") or [] if isinstance(r, dict) and isinstance(r.get(key), str)]

    return values


def _types(finding: dict[str, Any]) -> list[str]:
    return [t for t in finding.get("Types") or [] if isinstance(t, str)]


# filter key of AwsSecurityFindingFilters -> the values of the finding (ASFF) that key tests
FIELDS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "Id": _path("Id"),
    "ProductArn": _path("ProductArn"),
    "AwsAccountId": _path("AwsAccountId"),
    "Region": _path("Region"),
    "GeneratorId": _path("GeneratorId"),
    "Type": _types,
    "Title": _path("Title"),
    "RecordState": _path("RecordState"),
    "WorkflowStatus": _path("Workflow", "Status"),
    "WorkflowState": _path("WorkflowState"),  # deprecated in favour of WorkflowStatus, still a filter key
    "ComplianceStatus": _path("Compliance", "Status"),
    "ComplianceSecurityControlId": _path("Compliance", "SecurityControlId"),
    "SeverityLabel": _path("Severity", "Label"),
    "ResourceId": _resources("Id"),
    "ResourceType": _resources("Type"),
    "ResourceRegion": _resources("Region"),
    "ResourcePartition": _resources("Partition"),
    "ProductName": _path("ProductName"),
    "CompanyName": _path("CompanyName"),
}


def _invalid(message: str) -> InvalidInputException:
    return InvalidInputException(op=OPERATION, msg=message)


def _holds(comparison: str, value: str, have: str) -> bool:
    """Whether ``have`` has what the filter looks for (the positive sense of the comparison)."""
    if comparison in ("EQUALS", "NOT_EQUALS"):
        return have == value
    if comparison in ("PREFIX", "PREFIX_NOT_EQUALS"):
        return have.startswith(value)
    return value in have  # CONTAINS, NOT_CONTAINS


def _conditions(key: str, filters: Any) -> list[tuple[str, str]]:
    """The (Comparison, Value) pairs of one filter key, validated as StringFilter defines them."""
    if not isinstance(filters, list):
        raise _invalid(f"Filters.{key} must be a list of StringFilter, got {filters!r}")
    if len(filters) > MAX_VALUES:
        raise _invalid(f"Filters.{key} has {len(filters)} filter values; at most {MAX_VALUES} are allowed")
    pairs = []
    for index, item in enumerate(filters):
        where = f"Filters.{key}[{index}]"
        if not isinstance(item, dict):
            raise _invalid(f"{where} must be a StringFilter, got {item!r}")
        comparison, value = item.get("Comparison"), item.get("Value")
        if comparison in V2_ONLY:
            raise _invalid(f"{where}.Comparison {comparison!r} is only valid in GetFindingsV2")
        if comparison not in POSITIVE | NEGATIVE:
            raise _invalid(f"{where}.Comparison must be one of {sorted(POSITIVE | NEGATIVE)}, got {comparison!r}")
        if not isinstance(value, str) or not value:
            raise _invalid(f"{where}.Value must be a non-empty string, got {value!r}")
        pairs.append((comparison, value))
    used = {comparison for comparison, _ in pairs}
    if "CONTAINS" in used and used != {"CONTAINS"}:
        raise _invalid(f"Filters.{key}: CONTAINS can only be combined with other CONTAINS filters, got {sorted(used)}")
    if "NOT_CONTAINS" in used and used != {"NOT_CONTAINS"}:
        raise _invalid(
            f"Filters.{key}: NOT_CONTAINS can only be combined with other NOT_CONTAINS filters, got {sorted(used)}"
        )
    if "EQUALS" in used and used & {"NOT_EQUALS", "PREFIX_NOT_EQUALS"}:
        raise _invalid(
            f"Filters.{key}: EQUALS cannot be combined with NOT_EQUALS or PREFIX_NOT_EQUALS, got {sorted(used)}"
        )
    return pairs


def _compile(filters: Any) -> list[tuple[Callable[[dict[str, Any]], list[str]], list[tuple[str, str]]]]:
    if filters is None:
        return []
    if not isinstance(filters, dict):
        raise _invalid(f"Filters must be an AwsSecurityFindingFilters structure, got {filters!r}")
    if len(filters) > MAX_FIELDS:
        raise _invalid(f"Filters has {len(filters)} finding attributes; at most {MAX_FIELDS} are allowed")
    compiled = []
    for key, value in filters.items():
        if key not in FIELDS:
            raise _invalid(
                f"Filters.{key} is not emulated by the simulator (supported string filters: {', '.join(FIELDS)})"
            )
        compiled.append((FIELDS[key], _conditions(key, value)))
    return compiled


def _field_matches(values: list[str], pairs: list[tuple[str, str]]) -> bool:
    positives = [(c, v) for c, v in pairs if c in POSITIVE]
    negatives = [(c, v) for c, v in pairs if c in NEGATIVE]
    if positives and not any(_holds(c, v, have) for c, v in positives for have in values):
        return False
    return not any(_holds(c, v, have) for c, v in negatives for have in values)


def _max_results(max_results: Any) -> None:
    if max_results is None:
        return
    low, high = MAX_RESULTS
    if isinstance(max_results, bool) or not isinstance(max_results, int) or not low <= max_results <= high:
        raise _invalid(f"MaxResults must be a number between {low} and {high}, got {max_results!r}")


@extends(SecurityHubBackend, replaces=True)
@paginate(pagination_model=SecurityHubBackend.PAGINATION_MODEL)
def get_findings(
    self: SecurityHubBackend,
    filters: dict[str, Any] | None = None,
    sort_criteria: list[dict[str, str]] | None = None,
    max_results: int | None = None,
) -> list[dict[str, Any]]:
    """GetFindings: the findings matching ``Filters``, paged by moto's paginator (MaxResults, NextToken)."""
    _max_results(max_results)
    if sort_criteria:
        raise _invalid(f"SortCriteria is not emulated by the simulator, got {sort_criteria!r}")
    compiled = _compile(filters)
    return [
        f.as_dict()
        for f in self.findings
        if all(_field_matches(values(f.as_dict()), pairs) for values, pairs in compiled)
    ]
