"""ASR-TagGuardDutyResource: the script with Stubber, then the YAML document through the runner.

moto 5.2.5 implements GetDetector and GetFilter but not GuardDuty ListTagsForResource and
TagResource. Script tests prove those calls with botocore's Stubber against the real API
shapes. Document tests run the YAML through the runner on moto, with those two operations
answered from a tag store after botocore has validated each request against the real API
model (the `tag_api` fixture).
"""

from __future__ import annotations

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.tag_guardduty_resource import RemediationError, tag_guardduty_resource
from tests.conftest import ACCOUNT, OTHER_ACCOUNT
from tests.remediations.helpers.stubs import stub_every_boto3_client

NAME = "TagGuardDutyResource"
DETECTOR_ID = "0123456789abcdef0123456789abcdef"
DETECTOR_ARN = f"arn:aws:guardduty:us-east-1:{ACCOUNT}:detector/{DETECTOR_ID}"
DEFAULT_KEY = "SO0111-ASR-GuardDutyResource"


def _event(arn=DETECTOR_ARN, keys=(DEFAULT_KEY,)):
    return {"ResourceArn": arn, "RequiredTagKeys": list(keys), "AccountId": ACCOUNT, "Region": "us-east-1"}


def _stub(monkeypatch):
    return stub_every_boto3_client(monkeypatch, "guardduty")


# --- script (Stubber) ----------------------------------------------------------------


def test_script_adds_missing_keys_and_keeps_existing_values(monkeypatch):
    stub = _stub(monkeypatch)
    stub.add_response("get_detector", {"ServiceRole": "r", "Status": "ENABLED"}, {"DetectorId": DETECTOR_ID})
    stub.add_response(
        "list_tags_for_resource", {"Tags": {"owner": "secops", "team": "blue"}}, {"ResourceArn": DETECTOR_ARN}
    )
    stub.add_response("tag_resource", {}, {"ResourceArn": DETECTOR_ARN, "Tags": {DEFAULT_KEY: ""}})
    stub.add_response("list_tags_for_resource", {"Tags": {"owner": "secops", "team": "blue", DEFAULT_KEY: ""}})
    out = tag_guardduty_resource(_event(keys=("team", DEFAULT_KEY)), None)
    stub.assert_no_pending_responses()
    assert out["AddedTagKeys"] == [DEFAULT_KEY]


def test_script_tags_a_filter(monkeypatch):
    arn = f"{DETECTOR_ARN}/filter/my-filter"
    stub = _stub(monkeypatch)
    stub.add_response("get_detector", {"ServiceRole": "r", "Status": "ENABLED"}, {"DetectorId": DETECTOR_ID})
    stub.add_response(
        "get_filter",
        {"Name": "my-filter", "Action": "NOOP", "FindingCriteria": {}},
        {"DetectorId": DETECTOR_ID, "FilterName": "my-filter"},
    )
    stub.add_response("list_tags_for_resource", {"Tags": {}}, {"ResourceArn": arn})
    stub.add_response("tag_resource", {}, {"ResourceArn": arn, "Tags": {"SO0111-ASR-GuardDutyFilter": ""}})
    stub.add_response("list_tags_for_resource", {"Tags": {"SO0111-ASR-GuardDutyFilter": ""}})
    tag_guardduty_resource(_event(arn, ("SO0111-ASR-GuardDutyFilter",)), None)
    stub.assert_no_pending_responses()


def test_script_all_keys_present_changes_nothing(monkeypatch):
    stub = _stub(monkeypatch)
    stub.add_response("get_detector", {"ServiceRole": "r", "Status": "ENABLED"})
    stub.add_response("list_tags_for_resource", {"Tags": {DEFAULT_KEY: "x"}})
    out = tag_guardduty_resource(_event(), None)
    stub.assert_no_pending_responses()  # no TagResource call
    assert "nothing changed" in out["Message"]


def test_script_missing_detector(monkeypatch):
    stub = _stub(monkeypatch)
    stub.add_client_error("get_detector", service_error_code="BadRequestException", http_status_code=400)
    with pytest.raises(RemediationError, match=f"ResourceArn {DETECTOR_ARN}: no such GuardDuty detector"):
        tag_guardduty_resource(_event(), None)


def test_script_refuses_another_account_before_any_call(monkeypatch):
    _stub(monkeypatch)  # no response queued: any call would fail the test
    with pytest.raises(RemediationError, match="it only tags resources of its own account and Region"):
        tag_guardduty_resource(_event(DETECTOR_ARN.replace(ACCOUNT, OTHER_ACCOUNT)), None)


# --- document (runner on moto + validated tag store) --------------------------------


class _TagStore:
    """Answers GuardDuty ListTagsForResource/TagResource for clients the scripts create."""

    def __init__(self) -> None:
        self.tags: dict[str, dict[str, str]] = {}

    def install(self, client) -> None:
        for op in ("ListTagsForResource", "TagResource"):
            client.meta.events.register(f"before-parameter-build.guardduty.{op}", self._remember)
            client.meta.events.register(f"before-call.guardduty.{op}", self._answer)

    @staticmethod
    def _remember(params, context, **_):
        context["tag_params"] = dict(params)

    def _answer(self, model, context, **_):
        params = context["tag_params"]
        tags = self.tags.setdefault(params["ResourceArn"], {})
        if model.name == "TagResource":
            tags.update(params["Tags"])
            body = {}
        else:
            body = {"Tags": dict(tags)}
        return AWSResponse("https://guardduty", 200, {}, None), body


@pytest.fixture
def tag_api(monkeypatch):
    store = _TagStore()
    real_client = boto3.session.Session.client

    def client(self, service_name, *args, **kwargs):
        made = real_client(self, service_name, *args, **kwargs)
        if service_name == "guardduty":
            store.install(made)
        return made

    monkeypatch.setattr(boto3.session.Session, "client", client)
    return store


@pytest.fixture
def detector(aws, tag_api):
    guardduty = boto3.client("guardduty", region_name="us-east-1")
    detector_id = guardduty.create_detector(Enable=True)["DetectorId"]
    guardduty.create_filter(
        DetectorId=detector_id,
        Name="my-filter",
        Action="ARCHIVE",
        FindingCriteria={"Criterion": {"severity": {"Eq": ["4"]}}},
    )
    arn = f"arn:aws:guardduty:us-east-1:{ACCOUNT}:detector/{detector_id}"
    tag_api.tags[arn] = {"owner": "secops"}
    tag_api.tags[f"{arn}/filter/my-filter"] = {"owner": "secops"}
    return arn


def test_document_tags_the_detector_and_touches_nothing_else(detector, tag_api, run_runbook):
    result = run_runbook(NAME, ResourceArn=detector, RequiredTagKeys=["owner", "cost-center"])
    assert result["AutomationExecutionStatus"] == "Success", result.get("FailureMessage")
    assert tag_api.tags[detector] == {"owner": "secops", "cost-center": ""}
    assert tag_api.tags[f"{detector}/filter/my-filter"] == {"owner": "secops"}
    assert "cost-center" in str(result["Outputs"]["TagGuardDutyResource.Output"])


def test_document_uses_the_default_key_for_a_filter(detector, tag_api, run_runbook):
    filter_arn = f"{detector}/filter/my-filter"
    result = run_runbook(NAME, ResourceArn=filter_arn)
    assert result["AutomationExecutionStatus"] == "Success", result.get("FailureMessage")
    assert tag_api.tags[filter_arn] == {"owner": "secops", DEFAULT_KEY: ""}
    assert tag_api.tags[detector] == {"owner": "secops"}


def test_document_second_run_changes_nothing(detector, tag_api, run_runbook):
    assert run_runbook(NAME, ResourceArn=detector)["AutomationExecutionStatus"] == "Success"
    tag_api.tags[detector][DEFAULT_KEY] = "set-by-owner"
    result = run_runbook(NAME, ResourceArn=detector)
    assert result["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in str(result["Outputs"])
    assert tag_api.tags[detector] == {"owner": "secops", DEFAULT_KEY: "set-by-owner"}


@pytest.mark.parametrize(
    ("param", "bad"),
    [
        ("ResourceArn", f"arn:aws:guardduty:us-east-1:{ACCOUNT}:detector/xyz"),
        ("ResourceArn", f"arn:aws:guardduty:us-east-1:{ACCOUNT}:detector/{DETECTOR_ID}/ipset/1"),
        ("ResourceArn", DETECTOR_ID),
        ("RequiredTagKeys", ["aws:reserved"]),
        ("RequiredTagKeys", []),
    ],
)
def test_document_rejects_malformed_input(detector, tag_api, run_runbook, param, bad):
    params = {"ResourceArn": detector, param: bad}
    with pytest.raises(ParameterValidationError, match=f"parameter '{param}'"):
        run_runbook(NAME, **params)
    assert tag_api.tags[detector] == {"owner": "secops"}


def test_document_missing_detector_fails_naming_it(detector, tag_api, run_runbook):
    result = run_runbook(NAME, ResourceArn=DETECTOR_ARN)
    assert result["AutomationExecutionStatus"] == "Failed"
    assert f"ResourceArn {DETECTOR_ARN}: no such GuardDuty detector" in result["FailureMessage"]
    assert DETECTOR_ARN not in tag_api.tags


def test_document_missing_filter_fails_naming_it(detector, tag_api, run_runbook):
    result = run_runbook(NAME, ResourceArn=f"{detector}/filter/nope-filter")
    assert result["AutomationExecutionStatus"] == "Failed"
    assert "no such GuardDuty filter" in result["FailureMessage"]


def test_document_refuses_a_resource_of_another_account(detector, tag_api, run_runbook):
    result = run_runbook(NAME, ResourceArn=detector.replace(ACCOUNT, OTHER_ACCOUNT))
    assert result["AutomationExecutionStatus"] == "Failed"
    assert "it only tags resources of its own account and Region" in result["FailureMessage"]
    assert tag_api.tags[detector] == {"owner": "secops"}
