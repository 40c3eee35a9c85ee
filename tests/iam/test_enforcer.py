"""The layer catches what AWS would refuse: a statement removed from a synthesized policy fails the run."""

from __future__ import annotations

import copy

import boto3
import pytest
from moto import mock_aws

from asr import solution
from asr.iam.enforcer import Enforcer
from asr.iam.roles import SynthesizedRoles, TemplateSource, synthesized_templates
from asr.simulator import AutomationRunner, DocumentRegistry, FakeClock
from asr.upgrade import physical_name

ACCOUNT, REGION = "111111111111", "us-east-1"
MEMBER_ROLES = solution.TEMPLATE_FILES[solution.MEMBER_ROLES_STACK]
ROLE = f"arn:aws:iam::{ACCOUNT}:role/{solution.remediation_role('EnableKeyRotation', 'sim')}"


def _roles(without: str | None = None) -> SynthesizedRoles:
    """Our roles as synthesized; ``without``: that action dropped from the EnableKeyRotation role's policy."""
    template = copy.deepcopy(synthesized_templates()[MEMBER_ROLES])
    if without:
        # found by name: its logical id is the reference's (asr/upgrade, docs/upgrade.md)
        wanted = solution.remediation_role("EnableKeyRotation", "${Namespace}")
        role = next(r for r in template["Resources"].values() if physical_name(r) == wanted)["Properties"]
        for policy in role["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                statement["Action"] = [a for a in actions if a != without] or ["kms:ListAliases"]
    params = {"Namespace": "sim", "SecHubAdminAccount": "123456789012"}
    return SynthesizedRoles([TemplateSource(MEMBER_ROLES, template, [params])])


def _run(enforcer: Enforcer):
    with mock_aws(), enforcer.installed():
        key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["KeyId"]
        runner = AutomationRunner(DocumentRegistry.from_repo(namespace="sim"), clock=FakeClock())
        execution = runner.run(
            "ASR-EnableKeyRotation", {"KeyId": key, "AutomationAssumeRole": ROLE}, account_id=ACCOUNT, region=REGION
        )
        rotation = boto3.client("kms", region_name=REGION).get_key_rotation_status(KeyId=key)["KeyRotationEnabled"]
    return execution, rotation, key


@pytest.mark.no_iam  # installs its own enforcer, over altered templates
def test_the_synthesized_policy_allows_the_runbook():
    enforcer = Enforcer(_roles())
    execution, rotation, _ = _run(enforcer)
    assert execution.status.value == "Success", execution.failure_message
    assert rotation is True and enforcer.denials == []
    assert {r.action for r in enforcer.records if r.principal == ROLE} >= {"kms:DescribeKey", "kms:EnableKeyRotation"}


@pytest.mark.no_iam  # installs its own enforcer, over altered templates
def test_a_removed_statement_is_a_denial_naming_role_action_resource_and_policy():
    enforcer = Enforcer(_roles(without="kms:EnableKeyRotation"))
    execution, rotation, key = _run(enforcer)
    assert execution.status.value == "Failed"
    assert rotation is False  # AWS would have refused the change
    (denial,) = enforcer.denials
    assert denial.principal == ROLE and denial.action == "kms:EnableKeyRotation"
    assert denial.resource == f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key}"
    assert "ASR-Remediation-Policy-EnableKeyRotation" in denial.detail
    assert "AccessDenied" in execution.failure_message and "kms:EnableKeyRotation" in execution.failure_message


@pytest.mark.no_iam  # installs its own enforcer
def test_a_denial_the_code_swallows_still_fails_the_test():
    """The code under test may catch AccessDenied; the enforcer records it all the same."""
    enforcer = Enforcer(_roles(without="kms:GetKeyRotationStatus"))
    _run(enforcer)
    assert [d.action for d in enforcer.denials] == ["kms:GetKeyRotationStatus"]


@pytest.mark.no_iam  # installs its own enforcer
def test_the_harness_own_calls_are_not_checked_and_unknown_roles_are_loud():
    from asr.iam.policy import ModelError

    enforcer = Enforcer(_roles())
    with mock_aws(), enforcer.installed():
        boto3.client("s3", region_name=REGION).list_buckets()  # the test's own set-up: unchecked
        assert enforcer.records == []
        unknown = f"arn:aws:iam::{ACCOUNT}:role/SO0111-NotInTheTemplates"
        with enforcer.acting_as(unknown), pytest.raises(ModelError, match="not a role of the synthesized templates"):
            boto3.client("s3", region_name=REGION).list_buckets()
