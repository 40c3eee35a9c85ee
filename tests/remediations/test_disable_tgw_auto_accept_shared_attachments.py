"""ASR-DisableTGWAutoAcceptSharedAttachments (EC2.23): turn off auto-accept on one transit gateway."""

from __future__ import annotations

import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.disable_tgw_auto_accept_shared_attachments import (
    RemediationError,
    disable_tgw_auto_accept_shared_attachments,
)

NAME = "DisableTGWAutoAcceptSharedAttachments"
OUTPUT = f"{NAME}.Output"
MISSING = "tgw-0123456789abcdef0"


pytestmark = pytest.mark.usefixtures("no_default_amis")


def _tgw(ec2, tgw_id: str) -> dict:
    return ec2.describe_transit_gateways(TransitGatewayIds=[tgw_id])["TransitGateways"][0]


@pytest.fixture
def gateways(ec2):
    options = {"AutoAcceptSharedAttachments": "enable", "DnsSupport": "disable", "AmazonSideAsn": 64600}
    target = ec2.create_transit_gateway(Description="target", Options=options)["TransitGateway"]["TransitGatewayId"]
    bystander = ec2.create_transit_gateway(Description="b", Options=options)["TransitGateway"]["TransitGatewayId"]
    return {"target": target, "bystander": bystander}


def test_script_turns_auto_accept_off(ec2, gateways):
    out = disable_tgw_auto_accept_shared_attachments({"TransitGatewayId": gateways["target"]}, None)
    assert _tgw(ec2, gateways["target"])["Options"]["AutoAcceptSharedAttachments"] == "disable"
    assert out["AutoAcceptSharedAttachmentsBefore"] == "enable"


def test_script_missing_gateway_names_the_input(ec2):
    with pytest.raises(RemediationError, match=f"TransitGatewayId {MISSING}: no such transit gateway"):
        disable_tgw_auto_accept_shared_attachments({"TransitGatewayId": MISSING}, None)


# --- the document, through the local runner ---------------------------------------


def test_document_turns_off_auto_accept_and_keeps_everything_else(ec2, gateways, run_runbook):
    before = _tgw(ec2, gateways["target"])
    bystander = _tgw(ec2, gateways["bystander"])

    execution = run_runbook(NAME, TransitGatewayId=gateways["target"])

    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    after = _tgw(ec2, gateways["target"])
    assert after["Options"]["AutoAcceptSharedAttachments"] == "disable"
    expected = {**before["Options"], "AutoAcceptSharedAttachments": "disable"}
    assert after["Options"] == expected, "other options kept"
    assert after["Description"] == before["Description"]
    assert _tgw(ec2, gateways["bystander"]) == bystander
    assert "turned off" in str(execution["Outputs"][OUTPUT])


def test_document_second_run_succeeds_and_changes_nothing(ec2, gateways, run_runbook):
    run_runbook(NAME, TransitGatewayId=gateways["target"])
    before = _tgw(ec2, gateways["target"])
    execution = run_runbook(NAME, TransitGatewayId=gateways["target"])
    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert "nothing changed" in str(execution["Outputs"][OUTPUT])
    assert _tgw(ec2, gateways["target"]) == before


@pytest.mark.parametrize("bad", ["tgw-XYZ", "tgw-attach-0123456789abcdef0", "vpc-0123456789abcdef0"])
def test_document_rejects_a_malformed_gateway_id(ec2, gateways, run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="TransitGatewayId"):
        run_runbook(NAME, TransitGatewayId=bad)
    assert _tgw(ec2, gateways["target"])["Options"]["AutoAcceptSharedAttachments"] == "enable"


def test_document_fails_on_a_missing_gateway_naming_it(ec2, gateways, run_runbook):
    execution = run_runbook(NAME, TransitGatewayId=MISSING)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"TransitGatewayId {MISSING}: no such transit gateway" in execution["FailureMessage"]
    assert _tgw(ec2, gateways["target"])["Options"]["AutoAcceptSharedAttachments"] == "enable"


# --- read-back on an eventually consistent API --------------------------------------


def test_script_reads_back_again_while_the_gateway_is_modifying(ec2, gateways, monkeypatch):
    """ModifyTransitGateway leaves the gateway 'modifying' for a while; the read-back is retried (bounded),
    never with a real sleep."""
    from remediation_runbooks.scripts import disable_tgw_auto_accept_shared_attachments as script

    real = script._describe_tgw
    before = real(script.boto3.client("ec2"), gateways["target"])
    modifying = {**before, "State": "modifying"}
    reads = iter([before, modifying, modifying])  # the first read, then two stale read-backs
    monkeypatch.setattr(script, "_describe_tgw", lambda ec2_, tgw: next(reads, None) or real(ec2_, tgw))
    slept: list[float] = []
    out = disable_tgw_auto_accept_shared_attachments(
        {"TransitGatewayId": gateways["target"]}, None, sleep=slept.append
    )
    assert out["AutoAcceptSharedAttachmentsAfter"] == "disable"
    assert slept == [script.VERIFY_INTERVAL_SECONDS] * 2


def test_script_fails_when_the_setting_never_shows(ec2, gateways, monkeypatch):
    from remediation_runbooks.scripts import disable_tgw_auto_accept_shared_attachments as script

    before = script._describe_tgw(script.boto3.client("ec2"), gateways["target"])
    monkeypatch.setattr(script, "_describe_tgw", lambda *_: before)
    slept: list[float] = []
    with pytest.raises(RemediationError, match=f"TransitGatewayId {gateways['target']}: AutoAcceptSharedAttachments"):
        disable_tgw_auto_accept_shared_attachments({"TransitGatewayId": gateways["target"]}, None, sleep=slept.append)
    assert len(slept) == script.VERIFY_ATTEMPTS - 1
