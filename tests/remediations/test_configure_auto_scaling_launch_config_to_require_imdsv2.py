"""ASR-ConfigureAutoScalingLaunchConfigToRequireIMDSv2 and the shared clone-and-swap script.

The script-level tests here cover swap_launch_configuration.py for both launch
configuration remediations; the NoPublicIP document has its own document-level tests.
"""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts import swap_launch_configuration as swap
from tests.remediations.helpers import step_output
from tests.remediations.helpers.autoscaling import group_lc, lc, make_group, make_lc, settings

DOC = "ConfigureAutoScalingLaunchConfigToRequireIMDSv2"


@pytest.fixture
def autoscaling():
    with mock_aws():
        yield boto3.client("autoscaling", region_name="us-east-1")


def _run_script(name: str, change: str = "RequireIMDSv2") -> list[dict]:
    cloned = swap.clone_launch_configuration({"LaunchConfigurationName": name, "Change": change}, None)
    moved = swap.move_auto_scaling_groups(cloned, None)
    deleted = swap.delete_old_launch_configuration(cloned, None)
    return [cloned, moved, deleted]


def test_clone_keeps_every_other_setting_and_swaps_the_groups(autoscaling):
    make_lc(autoscaling, "web", MetadataOptions={"HttpTokens": "optional", "HttpPutResponseHopLimit": 2})
    original = settings(lc(autoscaling, "web"), "MetadataOptions")
    make_group(autoscaling, "web-a", "web")
    make_group(autoscaling, "web-b", "web")

    cloned, moved, deleted = _run_script("web")

    clone = lc(autoscaling, "web-IMDSv2")
    assert clone["MetadataOptions"]["HttpTokens"] == "required"
    assert clone["MetadataOptions"]["HttpPutResponseHopLimit"] == 2
    assert settings(clone, "MetadataOptions") == original
    assert sorted(moved["MovedGroups"]) == ["web-a", "web-b"]
    assert group_lc(autoscaling, "web-a") == group_lc(autoscaling, "web-b") == "web-IMDSv2"
    assert lc(autoscaling, "web") is None and deleted["Deleted"] == "web"
    assert cloned["Status"] == "created"


def test_no_public_ip_change_keeps_metadata_options(autoscaling):
    make_lc(autoscaling, "pub", AssociatePublicIpAddress=True, MetadataOptions={"HttpTokens": "optional"})
    _run_script("pub", "NoPublicIP")
    clone = lc(autoscaling, "pub-NoPublicIP")
    assert clone["AssociatePublicIpAddress"] is False
    assert clone["MetadataOptions"]["HttpTokens"] == "optional"


def test_old_configuration_is_never_deleted_while_a_group_uses_it(autoscaling):
    make_lc(autoscaling, "web")
    make_group(autoscaling, "web-a", "web")
    cloned = swap.clone_launch_configuration({"LaunchConfigurationName": "web", "Change": "RequireIMDSv2"}, None)
    with pytest.raises(swap.RemediationError, match=r"web: not deleted, groups \['web-a'\] still use it"):
        swap.delete_old_launch_configuration(cloned, None)
    assert lc(autoscaling, "web") is not None


def test_a_half_finished_run_is_completed_by_the_next_one(autoscaling):
    make_lc(autoscaling, "web")
    make_group(autoscaling, "web-a", "web")
    swap.clone_launch_configuration({"LaunchConfigurationName": "web", "Change": "RequireIMDSv2"}, None)
    cloned, moved, deleted = _run_script("web")
    assert cloned["Status"] == "reused" and moved["MovedGroups"] == ["web-a"] and deleted["Deleted"] == "web"


def test_long_names_are_truncated_to_fit_the_suffix():
    assert swap.clone_name("x" * 255, "RequireIMDSv2") == "x" * 248 + "-IMDSv2"


# --- the document, through the runner ------------------------------------------------


def test_document_swaps_then_changes_nothing(run_runbook):
    autoscaling = boto3.client("autoscaling")
    make_lc(autoscaling, "web")
    make_lc(autoscaling, "bystander")
    original = settings(lc(autoscaling, "web"), "MetadataOptions")
    make_group(autoscaling, "web-a", "web")
    make_group(autoscaling, "web-b", "web")
    make_group(autoscaling, "other", "bystander")
    bystander = lc(autoscaling, "bystander")

    first = run_runbook(DOC, LaunchConfigurationName="web")
    assert first["AutomationExecutionStatus"] == "Success", first.get("FailureMessage")
    clone = lc(autoscaling, "web-IMDSv2")
    assert clone["MetadataOptions"]["HttpTokens"] == "required"
    assert settings(clone, "MetadataOptions") == original
    assert group_lc(autoscaling, "web-a") == group_lc(autoscaling, "web-b") == "web-IMDSv2"
    assert lc(autoscaling, "web") is None
    assert lc(autoscaling, "bystander") == bystander and group_lc(autoscaling, "other") == "bystander"
    assert step_output(first, "DeleteOldLaunchConfiguration.Output")["Deleted"] == "web"

    everything = autoscaling.describe_launch_configurations()["LaunchConfigurations"]
    second = run_runbook(DOC, LaunchConfigurationName="web")
    assert second["AutomationExecutionStatus"] == "Success", second.get("FailureMessage")
    assert step_output(second, "CloneLaunchConfiguration.Output")["Status"] == "already-swapped"
    assert autoscaling.describe_launch_configurations()["LaunchConfigurations"] == everything


def test_document_leaves_a_compliant_configuration_alone(run_runbook):
    autoscaling = boto3.client("autoscaling")
    make_lc(autoscaling, "good", MetadataOptions={"HttpTokens": "required"})
    out = run_runbook(DOC, LaunchConfigurationName="good")
    assert out["AutomationExecutionStatus"] == "Success", out.get("FailureMessage")
    assert step_output(out, "CloneLaunchConfiguration.Output")["Status"] == "compliant"
    assert [
        c["LaunchConfigurationName"] for c in autoscaling.describe_launch_configurations()["LaunchConfigurations"]
    ] == ["good"]


@pytest.mark.parametrize(
    "bad",
    [
        "arn:aws:autoscaling:us-east-1:111111111111:launchConfiguration:uuid:launchConfigurationName/web",
        " web",
        "",
    ],
)
def test_document_rejects_a_malformed_name(run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="LaunchConfigurationName"):
        run_runbook(DOC, LaunchConfigurationName=bad)


def test_document_fails_on_a_missing_configuration(run_runbook):
    autoscaling = boto3.client("autoscaling")
    make_lc(autoscaling, "bystander")
    out = run_runbook(DOC, LaunchConfigurationName="missing")
    assert out["AutomationExecutionStatus"] == "Failed"
    assert "LaunchConfigurationName missing: no such launch configuration" in out["FailureMessage"]
    assert [
        c["LaunchConfigurationName"] for c in autoscaling.describe_launch_configurations()["LaunchConfigurations"]
    ] == ["bystander"]


def test_document_refuses_when_a_different_configuration_has_the_copy_name(run_runbook):
    autoscaling = boto3.client("autoscaling")
    make_lc(autoscaling, "web")
    autoscaling.create_launch_configuration(
        LaunchConfigurationName="web-IMDSv2", ImageId="ami-12c6146b", InstanceType="t3.large"
    )
    make_group(autoscaling, "web-a", "web")
    out = run_runbook(DOC, LaunchConfigurationName="web")
    assert out["AutomationExecutionStatus"] == "Failed"
    assert "a different launch configuration named web-IMDSv2 already exists" in out["FailureMessage"]
    assert lc(autoscaling, "web") is not None and group_lc(autoscaling, "web-a") == "web"


# --- accounts that cannot create launch configurations (created on or after 1 October 2024) -------


NEW_ACCOUNT_MESSAGE = (
    "The Launch Configuration creation operation is not available in your account. "
    "Use launch templates to create configuration templates for your Auto Scaling groups."
)


def _as_a_new_account(monkeypatch) -> None:
    """From now on CreateLaunchConfiguration answers as AWS does for accounts created on or after
    1 October 2024 (https://docs.aws.amazon.com/autoscaling/ec2/userguide/launch-configurations.html)."""
    from moto.autoscaling.exceptions import AutoscalingClientError
    from moto.autoscaling.models import AutoScalingBackend

    class UnsupportedOperation(AutoscalingClientError):
        code = "UnsupportedOperation"

    def refuse(self, *args, **kwargs):
        raise UnsupportedOperation(NEW_ACCOUNT_MESSAGE)

    monkeypatch.setattr(AutoScalingBackend, "create_launch_configuration", refuse)


@pytest.mark.filterwarnings("ignore:Exception\\(UnsupportedOperation\\):UserWarning")  # moto: not in its error shapes
@pytest.mark.parametrize(
    ("document", "setting"),
    [(DOC, {"MetadataOptions": {"HttpTokens": "optional"}}),
     ("ConfigureAutoScalingLaunchConfigNoPublicIP", {"AssociatePublicIpAddress": True})],
)  # fmt: skip
def test_document_refuses_clearly_where_launch_configurations_cannot_be_created(
    run_runbook, monkeypatch, document, setting
):
    autoscaling = boto3.client("autoscaling")
    make_lc(autoscaling, "web", **setting)
    make_group(autoscaling, "web-a", "web")
    before = autoscaling.describe_launch_configurations()["LaunchConfigurations"]
    _as_a_new_account(monkeypatch)

    out = run_runbook(document, LaunchConfigurationName="web")

    assert out["AutomationExecutionStatus"] == "Failed"
    message = out["FailureMessage"]
    assert "LaunchConfigurationName web: this account cannot create launch configurations" in message
    assert "launch template" in message and "web-a" in message
    assert "migrate-to-launch-templates" in message
    assert autoscaling.describe_launch_configurations()["LaunchConfigurations"] == before
    assert group_lc(autoscaling, "web-a") == "web"
