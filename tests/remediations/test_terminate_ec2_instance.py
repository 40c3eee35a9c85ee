"""ASR-TerminateEC2Instance (EC2.4): terminate an instance stopped for more than AllowedDays, keeping an AMI.

It replaced AWS-TerminateEC2Instance, which terminated whatever it was given: no re-check that the
instance was still stopped for more than 30 days, no recoverable copy.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from asr import solution
from asr.playbooks import data
from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts import terminate_ec2_instance as script
from tests.conftest import ACCOUNT, REGION
from tests.playbooks.harness import client, finding_for, import_finding, real_registry, run_control
from tests.remediations.helpers import step_output

NAME = "TerminateEC2Instance"
AMI = "ami-12c6146b"
MISSING = "i-0123456789abcdef0"

pytestmark = pytest.mark.usefixtures("no_default_amis")


def _stopped_days_ago(instance_id: str, days: float, account: str = ACCOUNT) -> None:
    """moto stamps StateTransitionReason with the stop time; move it back (time does not pass in tests)."""
    from moto.ec2.models import ec2_backends

    instance = ec2_backends[account][REGION].get_instance(instance_id)
    when = datetime.now(UTC) - timedelta(days=days)
    instance._reason = f"User initiated ({when:%Y-%m-%d %H:%M:%S} GMT)"


def _state(ec2, instance_id: str) -> str:
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"]["Name"]


def _images(ec2) -> list[dict]:
    return ec2.describe_images(Owners=["self"])["Images"]


@pytest.fixture
def instances(ec2):
    """``old``: stopped 45 days; ``recent``: stopped 10 days; ``running``; ``old_bystander``: stopped 45 days."""
    made = ec2.run_instances(ImageId=AMI, MinCount=4, MaxCount=4)["Instances"]
    ids = dict(zip(("old", "recent", "running", "old_bystander"), (i["InstanceId"] for i in made), strict=True))
    ec2.stop_instances(InstanceIds=[ids["old"], ids["recent"], ids["old_bystander"]])
    _stopped_days_ago(ids["old"], 45)
    _stopped_days_ago(ids["recent"], 10)
    _stopped_days_ago(ids["old_bystander"], 45)
    return ids


def test_the_playbooks_run_our_runbook_with_the_controls_allowed_days():
    remediation = data.remediations()[NAME]
    assert remediation.document == f"ASR-{NAME}"
    assert f"AWS-{NAME}" not in solution.AWS_OWNED_DOCUMENTS
    assert remediation.params["AllowedDays"] == {"control_param": "allowedDays", "default": 30}


# --- the script ----------------------------------------------------------------------


def test_script_refuses_an_instance_started_since_the_check(ec2, instances):
    """The guard runs again right before TerminateInstances."""
    first = script.check_and_preserve({"InstanceId": instances["old"], "AllowedDays": "30"}, None)
    assert first["Status"] == "stopped" and first["ImageId"]
    ec2.start_instances(InstanceIds=[instances["old"]])
    with pytest.raises(script.RemediationError, match=f"InstanceId {instances['old']} is running, not stopped"):
        script.terminate({"InstanceId": instances["old"], "AllowedDays": "30", "ImageId": first["ImageId"]}, None)
    assert _state(ec2, instances["old"]) == "running"


def test_script_reuses_the_recovery_image_of_an_interrupted_run(ec2, instances):
    first = script.check_and_preserve({"InstanceId": instances["old"], "AllowedDays": 30}, None)
    again = script.check_and_preserve({"InstanceId": instances["old"], "AllowedDays": 30}, None)
    assert again["ImageId"] == first["ImageId"]
    assert len(_images(ec2)) == 1


@pytest.mark.parametrize("bad", ["thirty", "0", "-3", ""])
def test_script_names_a_bad_allowed_days(ec2, instances, bad):
    with pytest.raises(script.RemediationError, match=f"AllowedDays {bad!r}"):
        script.check_and_preserve({"InstanceId": instances["old"], "AllowedDays": bad}, None)
    assert _state(ec2, instances["old"]) == "stopped" and _images(ec2) == []


def test_script_refuses_an_instance_whose_stop_time_cannot_be_read(ec2, instances):
    from moto.ec2.models import ec2_backends

    ec2_backends[ACCOUNT][REGION].get_instance(instances["old"])._reason = "Server.ScheduledStop"
    with pytest.raises(script.RemediationError, match="cannot tell when it stopped"):
        script.check_and_preserve({"InstanceId": instances["old"], "AllowedDays": 30}, None)
    assert _state(ec2, instances["old"]) == "stopped" and _images(ec2) == []


# --- the document, through the local runner ---------------------------------------


def test_document_keeps_an_image_then_terminates_only_that_instance(ec2, instances, run_runbook):
    execution = run_runbook(NAME, InstanceId=instances["old"])

    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert _state(ec2, instances["old"]) == "terminated"
    assert {k: _state(ec2, v) for k, v in instances.items() if k != "old"} == {
        "recent": "stopped",
        "running": "running",
        "old_bystander": "stopped",
    }
    (image,) = _images(ec2)
    assert image["Name"].startswith(f"ASR-EC2.4-{instances['old']}-")
    assert step_output(execution, "CheckAndPreserve.Output")["ImageId"] == image["ImageId"]
    assert image["ImageId"] in step_output(execution, "Terminate.Output")["Message"]


def test_document_without_a_recovery_image_when_the_parameter_says_so(ec2, instances, run_runbook):
    execution = run_runbook(NAME, InstanceId=instances["old"], CreateRecoveryImage=False)
    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert _state(ec2, instances["old"]) == "terminated"
    assert _images(ec2) == []


def test_document_second_run_succeeds_and_changes_nothing(ec2, instances, run_runbook):
    run_runbook(NAME, InstanceId=instances["old"])
    images = _images(ec2)
    execution = run_runbook(NAME, InstanceId=instances["old"])
    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert "already terminated; nothing changed" in step_output(execution, "Terminate.Output")["Message"]
    assert _images(ec2) == images


def test_document_refuses_an_instance_stopped_for_fewer_than_allowed_days(ec2, instances, run_runbook):
    execution = run_runbook(NAME, InstanceId=instances["recent"])
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "stopped for 10.0 days, not more than AllowedDays 30" in execution["FailureMessage"]
    assert _state(ec2, instances["recent"]) == "stopped"
    assert _images(ec2) == []


def test_document_honours_a_smaller_allowed_days(ec2, instances, run_runbook):
    execution = run_runbook(NAME, InstanceId=instances["recent"], AllowedDays=7)
    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert _state(ec2, instances["recent"]) == "terminated"


def test_document_refuses_a_running_instance(ec2, instances, run_runbook):
    execution = run_runbook(NAME, InstanceId=instances["running"])
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"InstanceId {instances['running']} is running, not stopped" in execution["FailureMessage"]
    assert _state(ec2, instances["running"]) == "running"


def test_document_refuses_a_protected_instance_before_making_an_image(ec2, instances, run_runbook):
    ec2.modify_instance_attribute(InstanceId=instances["old"], DisableApiTermination={"Value": True})
    execution = run_runbook(NAME, InstanceId=instances["old"])
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "termination protection (DisableApiTermination) on" in execution["FailureMessage"]
    assert _state(ec2, instances["old"]) == "stopped" and _images(ec2) == []


def test_document_fails_on_a_missing_instance_naming_it(ec2, instances, run_runbook):
    execution = run_runbook(NAME, InstanceId=MISSING)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"InstanceId {MISSING}: no such instance" in execution["FailureMessage"]


@pytest.mark.parametrize(
    "params",
    [
        {"InstanceId": "i-XYZ"},
        {"InstanceId": "i-0123456789abcdef0; rm"},
        {"InstanceId": "i-0123456789abcdef0", "AllowedDays": 0},
    ],
)
def test_document_rejects_malformed_input(ec2, instances, run_runbook, params):
    with pytest.raises(ParameterValidationError, match=list(params)[-1]):
        run_runbook(NAME, **params)


# --- the control runbook, as the orchestrator runs it ------------------------------


@pytest.fixture
def control_world(monkeypatch):
    """moto as the playbook tests run it (Security Hub BatchUpdateFindings, the solution's parameters)."""
    from tests.conftest import multi_account_moto
    from tests.playbooks import securityhub
    from tests.playbooks.harness import CLIENTS, solution_parameters

    CLIENTS.clear()
    securityhub.install(monkeypatch)
    with multi_account_moto(monkeypatch):
        solution_parameters(ACCOUNT, REGION)
        yield
    CLIENTS.clear()


def test_control_runbook_refuses_an_instance_stopped_two_days_ago(control_world):
    """AWS-TerminateEC2Instance terminated it; the finding may be stale (the instance was started
    and stopped again since)."""
    ec2 = client("ec2")
    instance = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ec2.stop_instances(InstanceIds=[instance])
    _stopped_days_ago(instance, 2)
    std = data.load_standard("SC")
    finding = finding_for(std, "EC2.4", f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance}")
    import_finding(finding)
    _, execution = run_control(real_registry(), std, "EC2.4", finding)
    assert execution.status.value == "Failed"
    assert "not more than AllowedDays 30" in execution.failure_message
    assert _state(ec2, instance) == "stopped"
    assert boto3.client("ec2", region_name=REGION).describe_images(Owners=["self"])["Images"] == []
