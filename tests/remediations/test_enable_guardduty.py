"""ASR-EnableGuardDuty: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import boto3
import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_guardduty import NEW_DETECTOR_FEATURES, enable_guardduty
from tests.conftest import ACCOUNT

NAME = "EnableGuardDuty"
EVENT = {"AccountId": ACCOUNT, "Region": "us-east-1", "Partition": "aws"}


@pytest.fixture
def guardduty(aws):
    return boto3.client("guardduty", region_name="us-east-1")


def _only_detector(guardduty):
    ids = guardduty.list_detectors()["DetectorIds"]
    assert len(ids) == 1
    detector = guardduty.get_detector(DetectorId=ids[0])
    detector.pop("ResponseMetadata")
    return ids[0], detector


# --- script ------------------------------------------------------------------------


def test_script_creates_an_enabled_detector(guardduty):
    out = enable_guardduty(EVENT, None)
    detector_id, detector = _only_detector(guardduty)
    assert detector["Status"] == "ENABLED"
    assert detector["Features"] == NEW_DETECTOR_FEATURES
    assert out["ResourceArn"] == f"arn:aws:guardduty:us-east-1:{ACCOUNT}:detector/{detector_id}"


def test_script_enables_a_disabled_detector_and_keeps_its_settings(guardduty):
    detector_id = guardduty.create_detector(
        Enable=False, FindingPublishingFrequency="ONE_HOUR", Tags={"owner": "secops"}
    )["DetectorId"]
    out = enable_guardduty(EVENT, None)
    detector = guardduty.get_detector(DetectorId=detector_id)
    assert detector["Status"] == "ENABLED"
    assert detector["FindingPublishingFrequency"] == "ONE_HOUR"
    assert detector["Tags"] == {"owner": "secops"}
    assert detector.get("Features", []) == []
    assert out["StatusBefore"] == "DISABLED"


# --- document ----------------------------------------------------------------------


def test_document_creates_the_detector_in_this_region_only(guardduty, run_runbook):
    result = run_runbook(NAME)
    assert result["AutomationExecutionStatus"] == "Success", result.get("FailureMessage")
    _, detector = _only_detector(guardduty)
    assert detector["Status"] == "ENABLED"
    assert boto3.client("guardduty", region_name="eu-west-1").list_detectors()["DetectorIds"] == []
    assert "Created detector" in str(result["Outputs"]["EnableGuardDuty.Output"])


def test_document_enables_a_disabled_detector(guardduty, run_runbook):
    detector_id = guardduty.create_detector(Enable=False, FindingPublishingFrequency="ONE_HOUR")["DetectorId"]
    result = run_runbook(NAME)
    assert result["AutomationExecutionStatus"] == "Success", result.get("FailureMessage")
    assert _only_detector(guardduty)[0] == detector_id
    detector = guardduty.get_detector(DetectorId=detector_id)
    assert (detector["Status"], detector["FindingPublishingFrequency"]) == ("ENABLED", "ONE_HOUR")


def test_document_second_run_changes_nothing(guardduty, run_runbook):
    assert run_runbook(NAME)["AutomationExecutionStatus"] == "Success"
    first = _only_detector(guardduty)
    result = run_runbook(NAME)
    assert result["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in str(result["Outputs"])
    assert _only_detector(guardduty) == first


def test_document_rejects_a_malformed_role(guardduty, run_runbook):
    with pytest.raises(ParameterValidationError, match="parameter 'AutomationAssumeRole'"):
        run_runbook(NAME, AutomationAssumeRole="SO0111-EnableGuardDuty-sim")
    assert guardduty.list_detectors()["DetectorIds"] == []
