"""ASR-EnableEbsEncryptionByDefault: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import boto3
import pytest

from remediation_runbooks.scripts.enable_ebs_encryption_by_default import enable_ebs_encryption_by_default
from tests.conftest import REGION

NAME = "EnableEbsEncryptionByDefault"
OTHER_REGION = "eu-west-1"


def _enabled(region: str) -> bool:
    return boto3.client("ec2", region_name=region).get_ebs_encryption_by_default()["EbsEncryptionByDefault"]


def test_script_enables_the_setting_in_its_region_only(ec2):
    out = enable_ebs_encryption_by_default({}, None)
    assert _enabled(REGION) is True
    assert _enabled(OTHER_REGION) is False
    assert out["EncryptionByDefaultBefore"] == "false" and out["EncryptionByDefaultAfter"] == "true"


def test_script_second_run_changes_nothing(ec2):
    enable_ebs_encryption_by_default({}, None)
    out = enable_ebs_encryption_by_default({}, None)
    assert out["EncryptionByDefaultBefore"] == "true"
    assert "nothing changed" in out["Message"]


# --- the document, through the local runner ---------------------------------------


def test_document_enables_encryption_by_default_and_leaves_volumes_and_regions(ec2, run_runbook):
    existing = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1)["VolumeId"]

    execution = run_runbook(NAME)

    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert _enabled(REGION) is True
    assert _enabled(OTHER_REGION) is False
    assert ec2.describe_volumes(VolumeIds=[existing])["Volumes"][0]["Encrypted"] is False
    output = execution["Outputs"]["ModifyAccount.Output"]
    assert "enabled" in str(output)


def test_document_second_run_succeeds_and_changes_nothing(ec2, run_runbook):
    run_runbook(NAME)
    execution = run_runbook(NAME)
    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert "nothing changed" in str(execution["Outputs"]["ModifyAccount.Output"])
    assert _enabled(REGION) is True


def test_document_refuses_an_assume_role_that_is_not_a_role_arn(ec2, run_runbook):
    from asr.simulator.errors import ParameterValidationError

    with pytest.raises(ParameterValidationError, match="AutomationAssumeRole"):
        run_runbook(NAME, AutomationAssumeRole="arn:aws:iam::111111111111:user/someone")
    assert _enabled(REGION) is False
