"""GuardDuty.1, GuardDuty.2 and GuardDuty.4 evaluators on moto: the shapes the control documentation names."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate
from tests.conftest import ACCOUNT, REGION

SESSION = boto3.Session()  # shared: a new session loads each service model again
CRITERIA = {"Criterion": {"severity": {"Gte": 7}}}


class StubbedSession:
    """A boto3 session whose clients for some services are given (wrapped in a Stubber) and the rest real."""

    def __init__(self, **clients: Any) -> None:
        self._clients = clients

    def client(self, service: str, region_name: str | None = None) -> Any:
        return self._clients.get(service) or SESSION.client(service, region_name=region_name)


@pytest.fixture
def gd():
    with mock_aws():
        yield boto3.client("guardduty", region_name=REGION)


def _detector_arn(detector_id: str) -> str:
    return f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/{detector_id}"


def _detector(gd, **kwargs) -> tuple[str, Resource]:
    detector_id = gd.create_detector(Enable=kwargs.pop("Enable", True), **kwargs)["DetectorId"]
    return detector_id, Resource.of_arn(_detector_arn(detector_id), "AwsGuardDutyDetector")


# -- GuardDuty.1 -----------------------------------------------------------------------------------

ACCOUNT_RESOURCE = Resource.account_level(ACCOUNT, REGION)


def test_no_detector_fails_and_an_enabled_one_passes(gd):
    result = evaluate("GuardDuty.1", SESSION, ACCOUNT_RESOURCE)
    assert result.status is Status.FAILED
    assert "no GuardDuty detector" in result.reason
    detector_id, _ = _detector(gd)
    result = evaluate("GuardDuty.1", SESSION, ACCOUNT_RESOURCE)
    assert result.status is Status.PASSED, result.reason
    assert detector_id in result.reason


def test_disabled_detector_fails(gd):
    detector_id, _ = _detector(gd, Enable=False)
    result = evaluate("GuardDuty.1", SESSION, ACCOUNT_RESOURCE)
    assert result.status is Status.FAILED
    assert f"detector {detector_id} Status is 'DISABLED'" in result.reason


def test_detector_in_another_region_does_not_count(gd):
    boto3.client("guardduty", region_name="eu-west-1").create_detector(Enable=True)
    assert evaluate("GuardDuty.1", SESSION, ACCOUNT_RESOURCE).status is Status.FAILED


def test_guardduty_api_error_raises(gd):
    client = boto3.client("guardduty", region_name=REGION)
    with Stubber(client) as stub:
        stub.add_client_error("list_detectors", "AccessDeniedException", "not authorized")
        with pytest.raises(EvaluationError, match="GuardDuty.1.*not authorized"):
            evaluate("GuardDuty.1", StubbedSession(guardduty=client), ACCOUNT_RESOURCE)


# -- GuardDuty.4 (detectors: moto keeps the tags given to CreateDetector) --------------------------


@pytest.mark.parametrize(
    ("tags", "parameters", "status"),
    [
        ({}, None, Status.FAILED),
        ({"Owner": "security"}, None, Status.PASSED),
        ({"Owner": "security"}, {"requiredTagKeys": ["Owner"]}, Status.PASSED),
        ({"Owner": "security"}, {"requiredTagKeys": ["Owner", "Environment"]}, Status.FAILED),
        ({"Owner": "security", "Environment": "prod"}, {"requiredTagKeys": ["Owner", "Environment"]}, Status.PASSED),
        ({"owner": "security"}, {"requiredTagKeys": ["Owner"]}, Status.FAILED),  # tag keys are case sensitive
        ({"Owner": ""}, {"requiredTagKeys": ["Owner"]}, Status.PASSED),  # a key with an empty value is a key
    ],
)
def test_detector_tags(gd, tags, parameters, status):
    _, detector = _detector(gd, **({"Tags": tags} if tags else {}))
    result = evaluate("GuardDuty.4", SESSION, detector, parameters)
    assert result.status is status, result.reason


def test_detector_reasons_name_the_missing_keys(gd):
    _, detector = _detector(gd, Tags={"Owner": "security"})
    result = evaluate("GuardDuty.4", SESSION, detector, {"requiredTagKeys": ["Owner", "CostCenter"]})
    assert "['CostCenter']" in result.reason and "['Owner']" in result.reason


def test_system_tags_are_ignored(gd):
    # AWS refuses aws: keys from TagResource, but CloudFormation sets them: stub GetDetector.
    _, detector = _detector(gd)
    client = boto3.client("guardduty", region_name=REGION)
    response = {"ServiceRole": "role", "Status": "ENABLED", "Tags": {"aws:cloudformation:stack-name": "asr"}}
    with Stubber(client) as stub:
        stub.add_response("get_detector", response, {"DetectorId": detector.name})
        result = evaluate("GuardDuty.4", StubbedSession(guardduty=client), detector)
    assert result.status is Status.FAILED
    assert "no tag key other than system (aws:) tags" in result.reason


def test_missing_detector_raises(gd):
    missing = Resource.of_arn(_detector_arn("0" * 32), "AwsGuardDutyDetector")
    with pytest.raises(EvaluationError, match="0" * 32):
        evaluate("GuardDuty.4", SESSION, missing)


@pytest.mark.parametrize(
    "keys",
    [["a", "b", "c", "d", "e", "f", "g"], "Owner", [""], [1]],
)
def test_invalid_required_tag_keys_raise(gd, keys):
    _, detector = _detector(gd, Tags={"Owner": "security"})
    with pytest.raises(EvaluationError, match="requiredTagKeys"):
        evaluate("GuardDuty.4", SESSION, detector, {"requiredTagKeys": keys})


def test_detector_control_refuses_a_filter_arn(gd):
    detector_id, _ = _detector(gd)
    filter_arn = Resource.of_arn(_detector_arn(detector_id) + "/filter/high", "AwsGuardDutyFilter")
    with pytest.raises(EvaluationError, match="not a GuardDuty detector ARN"):
        evaluate("GuardDuty.4", SESSION, filter_arn)


# -- GuardDuty.2 (filters) -------------------------------------------------------------------------


def _filter(gd, name: str = "high-severity") -> tuple[str, Resource]:
    detector_id, _ = _detector(gd)
    gd.create_filter(DetectorId=detector_id, Name=name, FindingCriteria=CRITERIA)
    return detector_id, Resource.of_arn(f"{_detector_arn(detector_id)}/filter/{name}", "AwsGuardDutyFilter")


def test_untagged_filter_fails(gd):
    _, resource = _filter(gd)
    result = evaluate("GuardDuty.2", SESSION, resource)
    assert result.status is Status.FAILED
    assert "filter 'high-severity' has no tag key" in result.reason


@pytest.mark.parametrize(
    ("tags", "parameters", "status"),
    [
        ({"Team": "secops"}, None, Status.PASSED),
        ({"Team": "secops"}, {"requiredTagKeys": ["Team"]}, Status.PASSED),
        ({"Team": "secops"}, {"requiredTagKeys": ["Team", "Owner"]}, Status.FAILED),
        ({"aws:cloudformation:logical-id": "Filter"}, None, Status.FAILED),
        ({}, None, Status.FAILED),
    ],
)
def test_filter_tags(gd, tags, parameters, status):
    # moto drops the tags given to CreateFilter and GetFilter answers without them: stub GetFilter.
    detector_id, resource = _filter(gd)
    client = boto3.client("guardduty", region_name=REGION)
    response = {"Name": "high-severity", "Action": "NOOP", "Rank": 1, "FindingCriteria": CRITERIA, "Tags": tags}
    with Stubber(client) as stub:
        stub.add_response("get_filter", response, {"DetectorId": detector_id, "FilterName": "high-severity"})
        result = evaluate("GuardDuty.2", StubbedSession(guardduty=client), resource, parameters)
    assert result.status is status, result.reason


def test_missing_filter_raises(gd):
    detector_id, _ = _detector(gd)
    missing = Resource.of_arn(f"{_detector_arn(detector_id)}/filter/gone", "AwsGuardDutyFilter")
    with pytest.raises(EvaluationError, match="filter/gone"):
        evaluate("GuardDuty.2", SESSION, missing)


def test_filter_control_refuses_a_detector_arn(gd):
    _, detector = _detector(gd)
    with pytest.raises(EvaluationError, match="not a GuardDuty filter ARN"):
        evaluate("GuardDuty.2", SESSION, detector)
