"""ASR-ConfigureAutoScalingLaunchConfigNoPublicIP through the runner on moto.

The shared clone-and-swap script is unit-tested in
test_configure_auto_scaling_launch_config_to_require_imdsv2.py.
"""

from __future__ import annotations

import boto3
import pytest

from asr.simulator.errors import ParameterValidationError
from tests.remediations.helpers import step_output
from tests.remediations.helpers.autoscaling import (
    group_lc,
    lc,
    make_group,
    make_lc,
    settings,
)

DOC = "ConfigureAutoScalingLaunchConfigNoPublicIP"


def test_document_swaps_then_changes_nothing(run_runbook):
    autoscaling = boto3.client("autoscaling")
    make_lc(autoscaling, "pub", AssociatePublicIpAddress=True, MetadataOptions={"HttpTokens": "optional"})
    make_lc(autoscaling, "bystander", AssociatePublicIpAddress=True)
    original = settings(lc(autoscaling, "pub"), "AssociatePublicIpAddress")
    make_group(autoscaling, "pub-a", "pub")
    make_group(autoscaling, "other", "bystander")
    bystander = lc(autoscaling, "bystander")

    first = run_runbook(DOC, LaunchConfigurationName="pub")
    assert first["AutomationExecutionStatus"] == "Success", first.get("FailureMessage")
    clone = lc(autoscaling, "pub-NoPublicIP")
    assert clone["AssociatePublicIpAddress"] is False
    assert settings(clone, "AssociatePublicIpAddress") == original
    assert group_lc(autoscaling, "pub-a") == "pub-NoPublicIP" and lc(autoscaling, "pub") is None
    assert lc(autoscaling, "bystander") == bystander and group_lc(autoscaling, "other") == "bystander"
    assert step_output(first, "MoveAutoScalingGroups.Output")["MovedGroups"] == ["pub-a"]

    everything = autoscaling.describe_launch_configurations()["LaunchConfigurations"]
    second = run_runbook(DOC, LaunchConfigurationName="pub")
    assert second["AutomationExecutionStatus"] == "Success", second.get("FailureMessage")
    assert step_output(second, "CloneLaunchConfiguration.Output")["Status"] == "already-swapped"
    assert autoscaling.describe_launch_configurations()["LaunchConfigurations"] == everything


def test_document_leaves_a_configuration_without_public_ip_alone(run_runbook):
    autoscaling = boto3.client("autoscaling")
    make_lc(autoscaling, "private")
    out = run_runbook(DOC, LaunchConfigurationName="private")
    assert out["AutomationExecutionStatus"] == "Success", out.get("FailureMessage")
    assert step_output(out, "CloneLaunchConfiguration.Output")["Status"] == "compliant"
    assert lc(autoscaling, "private-NoPublicIP") is None


@pytest.mark.parametrize("bad", ["lc:with:colons", "trailing ", "x" * 256])
def test_document_rejects_a_malformed_name(run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="LaunchConfigurationName"):
        run_runbook(DOC, LaunchConfigurationName=bad)


def test_document_fails_on_a_missing_configuration(run_runbook):
    autoscaling = boto3.client("autoscaling")
    make_lc(autoscaling, "bystander", AssociatePublicIpAddress=True)
    out = run_runbook(DOC, LaunchConfigurationName="missing")
    assert out["AutomationExecutionStatus"] == "Failed"
    assert "LaunchConfigurationName missing: no such launch configuration" in out["FailureMessage"]
    assert lc(autoscaling, "bystander")["AssociatePublicIpAddress"] is True
