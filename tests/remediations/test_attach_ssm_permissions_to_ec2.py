"""ASR-AttachSSMPermissionsToEC2 (SSM.1): give one instance AmazonSSMManagedInstanceCore, change nothing else."""

from __future__ import annotations

import json

import boto3
import pytest

from asr import documents, solution
from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.attach_ssm_permissions_to_ec2 import RemediationError, attach_ssm_permissions_to_ec2
from tests.conftest import ACCOUNT, REGION
from tests.remediations.conftest import NAMESPACE

NAME = "AttachSSMPermissionsToEC2"
OUTPUT = f"{NAME}.Output"
SSM_POLICY = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
OTHER_POLICY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
AMI = "ami-12c6146b"
OUR_ROLE = solution.service_role("AttachSSMPermissionsToEC2-RemediationRole", NAMESPACE)
OUR_PROFILE = solution.service_role("AttachSSMPermissionsToEC2-InstanceProfile", NAMESPACE)
MISSING = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123456789abcdef0"
EC2_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


@pytest.fixture(autouse=True)
def _moto_settings(monkeypatch):
    """moto with the two AWS managed policies these tests attach (loading all ~1,300 is slow)."""
    from moto.iam import models as iam_models

    wanted = {arn.rsplit("/", 1)[1] for arn in (SSM_POLICY, OTHER_POLICY)}
    data = {k: v for k, v in json.loads(iam_models.aws_managed_policies_data).items() if k in wanted}
    monkeypatch.setattr(iam_models, "aws_managed_policies_data", json.dumps(data))
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


@pytest.fixture
def iam(aws):
    return boto3.client("iam", region_name=REGION)


def _arn(instance_id: str) -> str:
    return f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance_id}"


def _role_with_profile(iam, role: str | None, profile: str, policies: tuple[str, ...] = ()) -> None:
    iam.create_instance_profile(InstanceProfileName=profile)
    if role:
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=EC2_TRUST)
        for policy in policies:
            iam.attach_role_policy(RoleName=role, PolicyArn=policy)
        iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role)


@pytest.fixture
def solution_profile(iam):
    """What the member-roles stack creates from permissions/AttachSSMPermissionsToEC2.yaml."""
    [declared] = documents.permissions(NAME).service_roles
    assert solution.service_role(declared.instance_profile, NAMESPACE) == OUR_PROFILE
    assert solution.service_role(declared.name, NAMESPACE) == OUR_ROLE
    _role_with_profile(iam, OUR_ROLE, OUR_PROFILE, (SSM_POLICY,))


def _launch(ec2, profile: str | None = None) -> str:
    extra = {"IamInstanceProfile": {"Name": profile}} if profile else {}
    return ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, **extra)["Instances"][0]["InstanceId"]


def _profile_of(ec2, instance_id: str) -> str | None:
    associations = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [instance_id]}]
    )["IamInstanceProfileAssociations"]
    live = [a for a in associations if a["State"] == "associated"]
    return live[0]["IamInstanceProfile"]["Arn"].rsplit("/", 1)[1] if live else None


def _policies(iam, role: str) -> set[str]:
    return {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]}


def _profile_roles(iam, profile: str) -> list[str]:
    return [r["RoleName"] for r in iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Roles"]]


@pytest.fixture
def fleet(ec2, iam, solution_profile):
    _role_with_profile(iam, "app-role", "app-profile", (OTHER_POLICY,))
    _role_with_profile(iam, None, "empty-profile")
    return {
        "bare": _launch(ec2),
        "with_role": _launch(ec2, "app-profile"),
        "empty_profile": _launch(ec2, "empty-profile"),
        "bystander": _launch(ec2),
    }


def _event(instance_id: str) -> dict:
    return {"InstanceArn": _arn(instance_id), "RemediationRole": OUR_ROLE, "InstanceProfile": OUR_PROFILE}


def test_script_associates_the_solution_profile_with_a_bare_instance(ec2, iam, fleet):
    out = attach_ssm_permissions_to_ec2(_event(fleet["bare"]), None)
    assert _profile_of(ec2, fleet["bare"]) == OUR_PROFILE
    assert _profile_of(ec2, fleet["bystander"]) is None
    assert out["Role"] == OUR_ROLE and "associated instance profile" in out["Changes"]


def test_script_adds_the_policy_to_the_instances_own_role(ec2, iam, fleet):
    out = attach_ssm_permissions_to_ec2(_event(fleet["with_role"]), None)
    assert _profile_of(ec2, fleet["with_role"]) == "app-profile", "profile not replaced"
    assert _policies(iam, "app-role") == {OTHER_POLICY, SSM_POLICY}, "other policies kept"
    assert out["Changes"] == "attached AmazonSSMManagedInstanceCore to role app-role"


def test_script_puts_the_solution_role_in_an_empty_profile(ec2, iam, fleet):
    attach_ssm_permissions_to_ec2(_event(fleet["empty_profile"]), None)
    assert _profile_of(ec2, fleet["empty_profile"]) == "empty-profile"
    assert _profile_roles(iam, "empty-profile") == [OUR_ROLE]


def test_script_refuses_when_the_solution_profile_lacks_the_role(ec2, iam, fleet):
    iam.remove_role_from_instance_profile(InstanceProfileName=OUR_PROFILE, RoleName=OUR_ROLE)
    with pytest.raises(RemediationError, match=f"InstanceProfile {OUR_PROFILE} does not contain RemediationRole"):
        attach_ssm_permissions_to_ec2(_event(fleet["bare"]), None)
    assert _profile_of(ec2, fleet["bare"]) is None


# --- the document, through the local runner ---------------------------------------


def test_document_accepts_the_role_as_an_arn(ec2, iam, fleet, run_runbook):
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/{OUR_ROLE}"
    execution = run_runbook(NAME, InstanceArn=_arn(fleet["empty_profile"]), RemediationRole=role_arn)
    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert _profile_roles(iam, "empty-profile") == [OUR_ROLE]


def test_document_defaults_name_the_solution_role_and_profile(ec2, iam, fleet, run_runbook):
    """QUIRK fix: the defaults render to the names the roles stack creates (role and profile alike)."""
    execution = run_runbook(NAME, InstanceArn=_arn(fleet["bare"]))

    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert _profile_of(ec2, fleet["bare"]) == OUR_PROFILE
    assert _profile_of(ec2, fleet["bystander"]) is None
    assert _policies(iam, "app-role") == {OTHER_POLICY}
    output = str(execution["Outputs"][OUTPUT])
    assert OUR_PROFILE in output and OUR_ROLE in output


def test_document_adds_the_policy_to_an_existing_role_and_nothing_else(ec2, iam, fleet, run_runbook):
    execution = run_runbook(NAME, InstanceArn=_arn(fleet["with_role"]))
    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert _policies(iam, "app-role") == {OTHER_POLICY, SSM_POLICY}
    assert _profile_of(ec2, fleet["with_role"]) == "app-profile"
    assert _profile_roles(iam, "app-profile") == ["app-role"]
    assert _profile_roles(iam, OUR_PROFILE) == [OUR_ROLE]


@pytest.mark.parametrize("which", ["bare", "with_role", "empty_profile"])
def test_document_second_run_succeeds_and_changes_nothing(ec2, iam, fleet, run_runbook, which):
    run_runbook(NAME, InstanceArn=_arn(fleet[which]))
    profile = _profile_of(ec2, fleet[which])
    roles = _profile_roles(iam, profile)
    policies = _policies(iam, roles[0])

    execution = run_runbook(NAME, InstanceArn=_arn(fleet[which]))

    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert "nothing changed" in str(execution["Outputs"][OUTPUT])
    assert _profile_of(ec2, fleet[which]) == profile
    assert _profile_roles(iam, profile) == roles and _policies(iam, roles[0]) == policies


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("InstanceArn", "i-0123456789abcdef0"),
        ("InstanceArn", f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-0123456789abcdef0"),
        ("InstanceArn", f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123/../x"),
        ("RemediationRole", "role with spaces"),
        ("RemediationRole", "AdminRole"),  # the runbook's role may pass only the solution's EC2 role
        # the reference's AFSBP/PCI name order (inventory 5.3 QUIRK) is refused, not silently used:
        ("RemediationRole", f"SO0111-AttachSSMPermissionsToEC2-{NAMESPACE}-RemediationRole"),
        ("InstanceProfile", f"SO0111-AttachSSMPermissionsToEC2-{NAMESPACE}-InstanceProfile"),
        ("InstanceProfile", "app-profile"),
    ],
)
def test_document_rejects_malformed_input_naming_it(ec2, iam, fleet, run_runbook, param, value):
    params = {"InstanceArn": _arn(fleet["bare"]), param: value}
    with pytest.raises(ParameterValidationError, match=param):
        run_runbook(NAME, **params)
    assert _profile_of(ec2, fleet["bare"]) is None


def test_document_fails_on_a_missing_instance_naming_it(ec2, iam, fleet, run_runbook):
    execution = run_runbook(NAME, InstanceArn=MISSING)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"InstanceArn {MISSING}: no such instance" in execution["FailureMessage"]


def test_document_fails_when_the_solution_profile_is_missing_and_changes_nothing(ec2, iam, fleet, run_runbook):
    """Member-roles stack not deployed: the run names the profile and associates nothing."""
    iam.remove_role_from_instance_profile(InstanceProfileName=OUR_PROFILE, RoleName=OUR_ROLE)
    iam.delete_instance_profile(InstanceProfileName=OUR_PROFILE)
    execution = run_runbook(NAME, InstanceArn=_arn(fleet["bare"]))
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"InstanceProfile {OUR_PROFILE}: no such instance profile" in execution["FailureMessage"]
    assert _profile_of(ec2, fleet["bare"]) is None


@pytest.mark.parametrize("which", ["bare", "with_role", "empty_profile"])
def test_document_makes_the_instance_a_managed_node(ec2, iam, fleet, run_runbook, which):
    """With SSM Agent on the instance (an Amazon Linux 2 AMI), what the document changes is what the
    agent needs to register: DescribeInstanceInformation (asr/simulator/emulation/ssm.py) lists the
    instance afterwards, and only it."""
    image = ec2.register_image(Name="amzn2-ami-hvm-2.0.20240620.0-x86_64-gp2", RootDeviceName="/dev/xvda")["ImageId"]
    extra = {"with_role": "app-profile", "empty_profile": "empty-profile"}
    profile = {"IamInstanceProfile": {"Name": extra[which]}} if which in extra else {}
    target = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, **profile)["Instances"][0]["InstanceId"]
    bystander = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ssm = boto3.client("ssm", region_name=REGION)

    def managed() -> set[str]:
        return {n["InstanceId"] for n in ssm.describe_instance_information()["InstanceInformationList"]}

    assert managed() == set()
    execution = run_runbook(NAME, InstanceArn=_arn(target))
    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert managed() == {target}
    assert bystander not in managed()
