"""asr/simulator/emulation/guardduty.py through boto3 under moto: GuardDuty tags on detectors and filters
(TagResource, UntagResource, ListTagsForResource; CreateFilter / GetFilter tags), as the API reference says."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from asr.simulator import emulation
from tests.conftest import ACCOUNT, REGION


@pytest.fixture
def guardduty():
    emulation.install()
    with mock_aws():
        yield boto3.client("guardduty", region_name=REGION)


def _detector(guardduty, **tags: str) -> tuple[str, str]:
    detector = (
        guardduty.create_detector(Enable=True, Tags=tags)["DetectorId"]
        if tags
        else (guardduty.create_detector(Enable=True)["DetectorId"])
    )
    return detector, f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/{detector}"


def _code(err: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_create_filter_keeps_its_tags_and_get_filter_returns_them(guardduty):
    detector, _ = _detector(guardduty)
    guardduty.create_filter(DetectorId=detector, Name="keep", FindingCriteria={"Criterion": {}}, Tags={"a": "1"})
    guardduty.create_filter(DetectorId=detector, Name="bare", FindingCriteria={"Criterion": {}})
    assert guardduty.get_filter(DetectorId=detector, FilterName="keep")["Tags"] == {"a": "1"}
    assert guardduty.get_filter(DetectorId=detector, FilterName="bare")["Tags"] == {}


def test_tag_resource_merges_into_a_filter_and_a_detector(guardduty):
    detector, arn = _detector(guardduty, team="secops")
    guardduty.create_filter(DetectorId=detector, Name="flt", FindingCriteria={"Criterion": {}}, Tags={"a": "1"})
    guardduty.tag_resource(ResourceArn=f"{arn}/filter/flt", Tags={"b": "", "a": "2"})
    guardduty.tag_resource(ResourceArn=arn, Tags={"cost-center": "42"})

    assert guardduty.list_tags_for_resource(ResourceArn=f"{arn}/filter/flt")["Tags"] == {"a": "2", "b": ""}
    assert guardduty.get_filter(DetectorId=detector, FilterName="flt")["Tags"] == {"a": "2", "b": ""}
    assert guardduty.get_detector(DetectorId=detector)["Tags"] == {"team": "secops", "cost-center": "42"}


def test_untag_resource_removes_only_the_named_keys(guardduty):
    _, arn = _detector(guardduty, a="1", b="2", c="3")
    guardduty.untag_resource(ResourceArn=arn, TagKeys=["a", "c", "absent"])
    assert guardduty.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"b": "2"}


@pytest.mark.parametrize(
    "suffix",
    ["/filter/missing", "-no-such-detector"],
    ids=["unknown-filter", "not-a-detector-arn"],
)
def test_a_resource_that_does_not_exist_is_a_bad_request(guardduty, suffix):
    _, arn = _detector(guardduty)
    with pytest.raises(ClientError) as err:
        guardduty.list_tags_for_resource(ResourceArn=arn + suffix)
    assert _code(err) == ("BadRequestException", 400)


def test_an_unknown_detector_and_another_accounts_arn_are_bad_requests(guardduty):
    for arn in (
        f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/{'0' * 32}",
        f"arn:aws:guardduty:{REGION}:999999999999:detector/{_detector(guardduty)[0]}",
    ):
        with pytest.raises(ClientError) as err:
            guardduty.tag_resource(ResourceArn=arn, Tags={"a": "1"})
        assert _code(err) == ("BadRequestException", 400)


@pytest.mark.parametrize(
    ("tags", "names"),
    [({"aws:owner": "x"}, "aws:owner"), ({"k" * 129: "x"}, "k" * 129), ({"k": "v" * 257}, "'k'")],
    ids=["system-prefix", "key-too-long", "value-too-long"],
)
def test_invalid_tags_are_refused_naming_them(guardduty, tags, names):
    _, arn = _detector(guardduty)
    with pytest.raises(ClientError) as err:
        guardduty.tag_resource(ResourceArn=arn, Tags=tags)
    assert _code(err) == ("BadRequestException", 400)
    assert names in err.value.response["Error"]["Message"]
    assert guardduty.list_tags_for_resource(ResourceArn=arn)["Tags"] == {}


def test_more_than_200_tags_are_refused(guardduty):
    _, arn = _detector(guardduty)
    guardduty.tag_resource(ResourceArn=arn, Tags={f"k{i}": "" for i in range(200)})
    with pytest.raises(ClientError) as err:
        guardduty.tag_resource(ResourceArn=arn, Tags={"one-more": ""})
    assert _code(err) == ("BadRequestException", 400)
    assert len(guardduty.list_tags_for_resource(ResourceArn=arn)["Tags"]) == 200
