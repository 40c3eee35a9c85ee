"""asr/simulator/emulation/securityhub.py through boto3 under moto: GetFindings answers only the findings
its ``Filters`` select, combined as the StringFilter reference says, pages them, and refuses what it does
not emulate (https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_StringFilter.html)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.securityhub.models import SecurityHubBackend

from asr.simulator import emulation
from asr.simulator.emulation import securityhub as emulated
from asr.simulator.findings import make_finding
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, REGION

PRODUCT = f"arn:aws:securityhub:{REGION}::product/aws/securityhub"
OTHER_PRODUCT = f"arn:aws:securityhub:{REGION}:{OTHER_ACCOUNT}:product/{OTHER_ACCOUNT}/default"


@pytest.fixture
def hub():
    emulation.install()
    with mock_aws():
        yield boto3.client("securityhub", region_name=REGION)


def _finding(ident: str, **fields: Any) -> dict[str, Any]:
    """A minimal ASFF finding; ``fields`` replace or add top-level attributes."""
    finding: dict[str, Any] = {
        "SchemaVersion": "2018-10-08",
        "Id": ident,
        "ProductArn": PRODUCT,
        "GeneratorId": f"security-control/{ident}",
        "AwsAccountId": ACCOUNT,
        "Region": REGION,
        "Types": ["Software and Configuration Checks"],
        "CreatedAt": "2024-01-01T00:00:00Z",
        "UpdatedAt": "2024-01-01T00:00:00Z",
        "Title": f"title {ident}",
        "Description": "d",
        "ProductName": "Security Hub",
        "CompanyName": "AWS",
        "Severity": {"Label": "HIGH"},
        "Compliance": {"Status": "FAILED", "SecurityControlId": "S3.1"},
        "Workflow": {"Status": "NEW"},
        "WorkflowState": "NEW",
        "RecordState": "ACTIVE",
        "Resources": [{"Type": "AwsS3Bucket", "Id": f"arn:aws:s3:::{ident}", "Partition": "aws", "Region": REGION}],
    }
    finding.update(fields)
    return finding


def _load(hub, *findings: dict[str, Any]) -> None:
    out = hub.batch_import_findings(Findings=list(findings))
    assert out["FailedCount"] == 0, out


def _ids(hub, **filters: list[dict[str, str]]) -> set[str]:
    return {f["Id"] for f in hub.get_findings(Filters=filters)["Findings"]}


def _f(comparison: str, value: str) -> dict[str, str]:
    return {"Comparison": comparison, "Value": value}


def _error(err: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def test_moto_get_findings_is_replaced_by_the_emulation():
    emulation.install()
    assert any(
        ext.target is SecurityHubBackend and ext.name == "get_findings" and ext.replaces
        for ext in emulation.installed()
    )
    assert SecurityHubBackend.get_findings.__module__ == emulated.__name__


def test_an_id_filter_selects_that_finding_whatever_the_import_order(hub):
    _load(hub, _finding("first"), _finding("second"), _finding("third"))
    for ident in ("first", "second", "third"):
        (found,) = hub.get_findings(Filters={"Id": [_f("EQUALS", ident)]})["Findings"]
        assert found["Id"] == ident
    assert hub.get_findings(Filters={"Id": [_f("EQUALS", "absent")]})["Findings"] == []


def test_no_filters_and_empty_filters_answer_every_finding(hub):
    _load(hub, _finding("a"), _finding("b"))
    assert {f["Id"] for f in hub.get_findings()["Findings"]} == {"a", "b"}
    assert _ids(hub) == {"a", "b"}
    assert _ids(hub, Id=[]) == {"a", "b"}  # an empty list of filters on a key constrains nothing


TITLES = {"cf": "CloudFront distribution", "cw": "CloudWatch alarm", "s3": "S3 bucket CloudFront origin"}


@pytest.mark.parametrize(
    ("comparison", "value", "expected"),
    [
        ("EQUALS", "CloudWatch alarm", {"cw"}),
        ("EQUALS", "CloudWatch", set()),  # exact match only
        ("EQUALS", "cloudwatch alarm", set()),  # "Filter values are case sensitive"
        ("PREFIX", "Cloud", {"cf", "cw"}),
        ("PREFIX", "cloud", set()),
        ("CONTAINS", "CloudFront", {"cf", "s3"}),
        ("CONTAINS", "front", set()),
        ("NOT_EQUALS", "CloudWatch alarm", {"cf", "s3"}),
        ("PREFIX_NOT_EQUALS", "Cloud", {"s3"}),
        ("NOT_CONTAINS", "CloudFront", {"cw"}),
    ],
)
def test_each_comparison_of_a_string_filter(hub, comparison, value, expected):
    _load(hub, *(_finding(ident, Title=title) for ident, title in TITLES.items()))
    assert _ids(hub, Title=[_f(comparison, value)]) == expected


def test_positive_filters_on_one_field_are_ored(hub):
    _load(hub, *(_finding(ident, Title=title) for ident, title in TITLES.items()))
    assert _ids(hub, Title=[_f("CONTAINS", "CloudFront"), _f("CONTAINS", "alarm")]) == {"cf", "cw", "s3"}
    assert _ids(hub, Title=[_f("EQUALS", "CloudWatch alarm"), _f("PREFIX", "S3 ")]) == {"cw", "s3"}


def test_negative_filters_on_one_field_are_anded(hub):
    _load(hub, *(_finding(ident, Title=title) for ident, title in TITLES.items()))
    assert _ids(hub, Title=[_f("NOT_CONTAINS", "CloudFront"), _f("NOT_CONTAINS", "CloudWatch")]) == set()
    assert _ids(hub, Title=[_f("NOT_EQUALS", "CloudWatch alarm"), _f("PREFIX_NOT_EQUALS", "S3")]) == {"cf"}


def test_prefix_filters_select_then_not_equals_filters_exclude(hub):
    # the reference's own example:
    # PREFIX AwsIam, PREFIX AwsEc2, NOT_EQUALS AwsIamPolicy, NOT_EQUALS AwsEc2NetworkInterface
    types = {
        "policy": "AwsIamPolicy",
        "role": "AwsIamRole",
        "eni": "AwsEc2NetworkInterface",
        "sg": "AwsEc2SecurityGroup",
        "bucket": "AwsS3Bucket",
    }
    _load(hub, *(_finding(i, Resources=[{"Type": t, "Id": i}]) for i, t in types.items()))
    chosen = _ids(
        hub,
        ResourceType=[
            _f("PREFIX", "AwsIam"),
            _f("PREFIX", "AwsEc2"),
            _f("NOT_EQUALS", "AwsIamPolicy"),
            _f("NOT_EQUALS", "AwsEc2NetworkInterface"),
        ],
    )
    assert chosen == {"role", "sg"}


def test_different_fields_are_anded(hub):
    _load(
        hub,
        _finding("x", ProductArn=PRODUCT),
        _finding("x-other-product", ProductArn=OTHER_PRODUCT),
        _finding("y", ProductArn=OTHER_PRODUCT),
    )
    # the deadline sweep's lookup: ProductArn + Id names exactly one finding
    both = {"Id": [_f("EQUALS", "x")], "ProductArn": [_f("EQUALS", OTHER_PRODUCT)]}
    assert hub.get_findings(Filters=both, MaxResults=1)["Findings"] == []
    both["ProductArn"] = [_f("EQUALS", PRODUCT)]
    assert [f["Id"] for f in hub.get_findings(Filters=both, MaxResults=1)["Findings"]] == ["x"]
    assert _ids(hub, Id=[_f("PREFIX", "x")], ProductArn=[_f("EQUALS", OTHER_PRODUCT)]) == {"x-other-product"}


B_ONLY: list[tuple[str, str, dict[str, Any]]] = [
    ("Id", "b", {}),
    ("ProductArn", OTHER_PRODUCT, {"ProductArn": OTHER_PRODUCT}),
    ("AwsAccountId", OTHER_ACCOUNT, {"AwsAccountId": OTHER_ACCOUNT}),
    ("Region", "eu-west-1", {"Region": "eu-west-1"}),
    ("GeneratorId", "security-control/b", {}),
    ("Type", "Effects/Data Exposure", {"Types": ["TTPs", "Effects/Data Exposure"]}),
    ("Title", "title b", {}),
    ("RecordState", "ARCHIVED", {"RecordState": "ARCHIVED"}),
    ("WorkflowStatus", "RESOLVED", {"Workflow": {"Status": "RESOLVED"}}),
    ("WorkflowState", "RESOLVED", {"WorkflowState": "RESOLVED"}),
    ("ComplianceStatus", "PASSED", {"Compliance": {"Status": "PASSED", "SecurityControlId": "S3.1"}}),
    ("ComplianceSecurityControlId", "EC2.2", {"Compliance": {"Status": "FAILED", "SecurityControlId": "EC2.2"}}),
    ("SeverityLabel", "LOW", {"Severity": {"Label": "LOW"}}),
    ("ResourceId", "sg-1", {"Resources": [{"Type": "AwsEc2SecurityGroup", "Id": "sg-1"}]}),
    ("ResourceType", "AwsEc2SecurityGroup", {"Resources": [{"Type": "AwsEc2SecurityGroup", "Id": "sg-1"}]}),
    ("ResourceRegion", "eu-west-1", {"Resources": [{"Type": "T", "Id": "r", "Region": "eu-west-1"}]}),
    ("ResourcePartition", "aws-cn", {"Resources": [{"Type": "T", "Id": "r", "Partition": "aws-cn"}]}),
    ("ProductName", "GuardDuty", {"ProductName": "GuardDuty"}),
    ("CompanyName", "Acme", {"CompanyName": "Acme"}),
]


def test_every_emulated_key_is_covered_here():
    assert {key for key, _, _ in B_ONLY} == set(emulated.FIELDS)


@pytest.mark.parametrize(("key", "value", "fields"), B_ONLY, ids=[key for key, _, _ in B_ONLY])
def test_each_key_tests_its_own_attribute(hub, key, value, fields):
    _load(hub, _finding("a"), _finding("b", **fields))
    assert _ids(hub, **{key: [_f("EQUALS", value)]}) == {"b"}
    assert _ids(hub, **{key: [_f("NOT_EQUALS", value)]}) == {"a"}


def test_a_finding_with_several_resources_matches_by_any_of_them(hub):
    two = [{"Type": "AwsEc2Instance", "Id": "i-1"}, {"Type": "AwsEc2SecurityGroup", "Id": "sg-1"}]
    _load(hub, _finding("two", Resources=two), _finding("one", Resources=[{"Type": "AwsEc2Instance", "Id": "i-2"}]))
    assert _ids(hub, ResourceId=[_f("EQUALS", "sg-1")]) == {"two"}
    assert _ids(hub, ResourceType=[_f("EQUALS", "AwsEc2Instance")]) == {"two", "one"}
    # a negative filter excludes the finding when any of its resources has the excluded value
    assert _ids(hub, ResourceId=[_f("NOT_EQUALS", "sg-1")]) == {"one"}
    assert _ids(hub, ResourceType=[_f("PREFIX_NOT_EQUALS", "AwsEc2Security")]) == {"one"}


def test_a_finding_without_the_attribute_matches_only_negative_filters(hub):
    bare = _finding("bare")
    del bare["Compliance"], bare["Workflow"]
    _load(hub, bare, _finding("full"))
    assert _ids(hub, ComplianceStatus=[_f("EQUALS", "FAILED")]) == {"full"}
    assert _ids(hub, ComplianceStatus=[_f("PREFIX", "F")]) == {"full"}
    assert _ids(hub, WorkflowStatus=[_f("NOT_EQUALS", "NEW")]) == {"bare"}


def test_a_finding_made_by_the_simulator_is_found_by_the_orchestrators_filters(hub):
    made = make_finding("S3.2", "arn:aws:s3:::b-1", resource_type="AwsS3Bucket", account_id=ACCOUNT)
    other = make_finding("S3.2", "arn:aws:s3:::b-2", resource_type="AwsS3Bucket", account_id=ACCOUNT)
    _load(hub, other, made)
    found = hub.get_findings(
        Filters={
            "Id": [_f("EQUALS", made["Id"])],
            "ProductArn": [_f("EQUALS", made["ProductArn"])],
            "RecordState": [_f("EQUALS", "ACTIVE")],
            "WorkflowStatus": [_f("EQUALS", "NEW")],
            "ComplianceStatus": [_f("EQUALS", "FAILED")],
            "ResourceId": [_f("EQUALS", "arn:aws:s3:::b-1")],
        }
    )["Findings"]
    assert [f["Id"] for f in found] == [made["Id"]]


@pytest.mark.parametrize(
    "filters",
    [
        {"CreatedAt": [{"DateRange": {"Value": 1, "Unit": "DAYS"}}]},  # a DateFilter
        {"SeverityNormalized": [{"Gte": 70}]},  # a NumberFilter
        {"ResourceTags": [{"Key": "k", "Value": "v", "Comparison": "EQUALS"}]},  # a MapFilter
        {"Description": [{"Value": "d", "Comparison": "EQUALS"}]},  # a StringFilter not emulated
    ],
    ids=["date", "number", "map", "string"],
)
def test_a_filter_key_not_emulated_is_refused_by_name(hub, filters):
    _load(hub, _finding("a"))
    with pytest.raises(ClientError) as err:
        hub.get_findings(Filters={"Id": [_f("EQUALS", "a")], **filters})
    code, message = _error(err)
    (key,) = filters
    assert code == "InvalidInputException"
    assert f"Filters.{key} is not emulated" in message


@pytest.mark.parametrize(
    ("filters", "words"),
    [
        ([_f("CONTAINS", "a"), _f("EQUALS", "b")], "CONTAINS can only be combined with other CONTAINS"),
        ([_f("CONTAINS", "a"), _f("NOT_CONTAINS", "b")], "CONTAINS can only be combined with other CONTAINS"),
        ([_f("NOT_CONTAINS", "a"), _f("NOT_EQUALS", "b")], "NOT_CONTAINS can only be combined"),
        ([_f("EQUALS", "a"), _f("NOT_EQUALS", "b")], "EQUALS cannot be combined"),
        ([_f("EQUALS", "a"), _f("PREFIX_NOT_EQUALS", "b")], "EQUALS cannot be combined"),
        ([_f("CONTAINS_WORD", "a")], "'CONTAINS_WORD' is only valid in GetFindingsV2"),
        ([_f("LIKE", "a")], "Filters.Title[0].Comparison must be one of"),
        ([{"Comparison": "EQUALS"}], "Filters.Title[0].Value must be a non-empty string, got None"),
        ([_f("EQUALS", str(n)) for n in range(21)], "Filters.Title has 21 filter values; at most 20"),
    ],
    ids=[
        "contains+equals",
        "contains+not",
        "not_contains+not_equals",
        "equals+not",
        "equals+prefix_not",
        "v2",
        "bad",
        "no-value",
        "21-values",
    ],
)
def test_combinations_the_reference_forbids_are_errors(hub, filters, words):
    with pytest.raises(ClientError) as err:
        hub.get_findings(Filters={"Title": filters})
    code, message = _error(err)
    assert code == "InvalidInputException"
    assert words in message


def test_more_than_ten_attributes_are_refused(hub):
    eleven = {key: [_f("PREFIX", "a")] for key in list(emulated.FIELDS)[:11]}
    with pytest.raises(ClientError) as err:
        hub.get_findings(Filters=eleven)
    assert _error(err) == (
        "InvalidInputException",
        "An error occurred (InvalidInputException) when calling the GetFindings operation: "
        "Filters has 11 finding attributes; at most 10 are allowed",
    )
    assert hub.get_findings(Filters=dict(list(eleven.items())[:10]))["Findings"] == []


def test_sort_criteria_is_refused_not_ignored(hub):
    _load(hub, _finding("a"))
    with pytest.raises(ClientError) as err:
        hub.get_findings(SortCriteria=[{"Field": "Title", "SortOrder": "asc"}])
    code, message = _error(err)
    assert code == "InvalidInputException" and "SortCriteria is not emulated" in message


def test_max_results_beyond_100_is_refused(hub):
    with pytest.raises(ClientError) as err:
        hub.get_findings(MaxResults=101)
    code, message = _error(err)
    assert code == "InvalidInputException" and "MaxResults must be a number between 1 and 100, got 101" in message


def test_paging_walks_the_filtered_findings_with_next_token(hub):
    _load(hub, *(_finding(f"keep-{n}") for n in range(5)), *(_finding(f"drop-{n}") for n in range(4)))
    filters = {"Id": [_f("PREFIX", "keep-")]}
    pages, token = [], None
    while True:
        page = hub.get_findings(Filters=filters, MaxResults=2, **({"NextToken": token} if token else {}))
        pages.append([f["Id"] for f in page["Findings"]])
        token = page.get("NextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sorted(i for p in pages for i in p) == [f"keep-{n}" for n in range(5)]

    paginated = hub.get_paginator("get_findings").paginate(Filters=filters, PaginationConfig={"PageSize": 3})
    assert sorted(f["Id"] for page in paginated for f in page["Findings"]) == [f"keep-{n}" for n in range(5)]


def test_a_next_token_is_refused_with_other_filters(hub):
    _load(hub, *(_finding(f"keep-{n}") for n in range(3)))
    token = hub.get_findings(Filters={"Id": [_f("PREFIX", "keep-")]}, MaxResults=1)["NextToken"]
    with pytest.raises(ClientError) as err:
        hub.get_findings(Filters={"Id": [_f("PREFIX", "kee")]}, MaxResults=1, NextToken=token)
    code, message = _error(err)  # moto's paginator: the token is bound to the filters it was issued for
    assert code == "InvalidToken" and "inconsistent with page token" in message
