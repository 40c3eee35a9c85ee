"""ASR-EnableIMDSV2OnInstance (EC2.8): require IMDSv2 on one instance, keep its other metadata options."""

from __future__ import annotations

import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_imdsv2_on_instance import RemediationError, enable_imdsv2_on_instance
from tests.conftest import ACCOUNT, REGION
from tests.remediations.helpers.stubs import stub_every_boto3_client

NAME = "EnableIMDSV2OnInstance"
OUTPUT = f"{NAME}.Output"
AMI = "ami-12c6146b"
MISSING = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123456789abcdef0"


pytestmark = pytest.mark.usefixtures("no_default_amis")


def _arn(instance_id: str, region: str = REGION) -> str:
    return f"arn:aws:ec2:{region}:{ACCOUNT}:instance/{instance_id}"


def _instance(ec2, instance_id: str) -> dict:
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]


def _options(ec2, instance_id: str) -> dict:
    return _instance(ec2, instance_id)["MetadataOptions"]


@pytest.fixture
def instances(ec2):
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId=AMI, MinCount=2, MaxCount=2)["Instances"]]
    return {"target": ids[0], "bystander": ids[1]}


def test_script_requires_tokens(ec2, instances):
    out = enable_imdsv2_on_instance({"InstanceARN": _arn(instances["target"])}, None)
    assert _options(ec2, instances["target"])["HttpTokens"] == "required"
    assert out["HttpTokensBefore"] == "optional" and out["HttpTokensAfter"] == "required"


def test_script_refuses_a_terminated_instance(ec2, instances):
    ec2.terminate_instances(InstanceIds=[instances["target"]])
    with pytest.raises(RemediationError, match=r"InstanceARN .* is terminated"):
        enable_imdsv2_on_instance({"InstanceARN": _arn(instances["target"])}, None)


def test_script_refuses_an_arn_of_another_region(ec2, instances):
    with pytest.raises(RemediationError, match="is in Region us-west-2, but this runs in us-east-1"):
        enable_imdsv2_on_instance({"InstanceARN": _arn(instances["target"], "us-west-2")}, None)
    assert _options(ec2, instances["target"])["HttpTokens"] == "optional"


def test_script_sends_only_http_tokens_so_aws_keeps_the_other_options(monkeypatch):
    """AWS keeps every option not given in the request; the script gives only HttpTokens."""
    from remediation_runbooks.scripts import enable_imdsv2_on_instance as script

    stub = stub_every_boto3_client(monkeypatch, "ec2")
    instance = {
        "InstanceId": "i-0123456789abcdef0",
        "State": {"Name": "running", "Code": 16},
        "MetadataOptions": {"HttpTokens": "optional", "HttpPutResponseHopLimit": 2, "HttpEndpoint": "enabled"},
    }
    required = {**instance, "MetadataOptions": {**instance["MetadataOptions"], "HttpTokens": "required"}}
    stub.add_response("describe_instances", {"Reservations": [{"Instances": [instance]}]})
    stub.add_response(
        "modify_instance_metadata_options",
        {"InstanceId": instance["InstanceId"]},
        {"InstanceId": instance["InstanceId"], "HttpTokens": "required"},
    )
    stub.add_response("describe_instances", {"Reservations": [{"Instances": [required]}]})
    out = script.enable_imdsv2_on_instance({"InstanceARN": _arn(instance["InstanceId"])}, None)
    stub.assert_no_pending_responses()
    assert out["HttpTokensAfter"] == "required"


# --- the document, through the local runner ---------------------------------------


def test_document_requires_imdsv2_on_the_instance_only(ec2, instances, run_runbook):
    before = _instance(ec2, instances["target"])
    bystander = _options(ec2, instances["bystander"])

    execution = run_runbook(NAME, InstanceARN=_arn(instances["target"]))

    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    after = _instance(ec2, instances["target"])
    assert after["MetadataOptions"]["HttpTokens"] == "required"
    # moto rewrites every metadata option on ModifyInstanceMetadataOptions (AWS keeps the
    # ones not given), so "other options kept" is proven with Stubber below.
    assert after["State"] == before["State"], "not stopped or restarted"
    assert _options(ec2, instances["bystander"]) == bystander
    assert "IMDSv2 is now required" in str(execution["Outputs"][OUTPUT])


def test_document_second_run_succeeds_and_changes_nothing(ec2, instances, run_runbook):
    run_runbook(NAME, InstanceARN=_arn(instances["target"]))
    before = _options(ec2, instances["target"])
    execution = run_runbook(NAME, InstanceARN=_arn(instances["target"]))
    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert "nothing changed" in str(execution["Outputs"][OUTPUT])
    assert _options(ec2, instances["target"]) == before


@pytest.mark.parametrize(
    "bad",
    [
        "i-0123456789abcdef0",
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/vol-0123456789abcdef0",
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-NOTHEX",
        f"arn:aws:iam::{ACCOUNT}:instance/i-0123456789abcdef0",
    ],
)
def test_document_rejects_a_malformed_instance_arn(ec2, instances, run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="InstanceARN"):
        run_runbook(NAME, InstanceARN=bad)
    assert _options(ec2, instances["target"])["HttpTokens"] == "optional"


def test_document_fails_on_a_missing_instance_naming_it(ec2, instances, run_runbook):
    execution = run_runbook(NAME, InstanceARN=MISSING)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"InstanceARN {MISSING}: no such instance" in execution["FailureMessage"]
    assert _options(ec2, instances["target"])["HttpTokens"] == "optional"
