"""Member-roles stack: one role per declared remediation, trusted as the reference says."""

from __future__ import annotations

import json

import pytest

from asr import documents, solution
from tests.infrastructure.conftest import by_stack, resources_of


@pytest.fixture(scope="module")
def roles(templates):
    template = by_stack(templates, solution.MEMBER_ROLES_STACK)
    return template, resources_of(template, "AWS::IAM::Role")


def _role_named(roles_by_id, name_template):
    for rid, role in roles_by_id.items():
        name = role["Properties"].get("RoleName")
        if name == name_template or (isinstance(name, dict) and json.dumps(name).find(name_template) >= 0):
            return rid, role
    raise AssertionError(f"no role named like {name_template}")


def test_orchestrator_member_role(roles):
    _, by_id = roles
    _, role = _role_named(by_id, solution.ORCHESTRATOR_MEMBER_ROLE)
    trust = json.dumps(role["Properties"]["AssumeRolePolicyDocument"])
    assert f":role/{solution.ORCHESTRATOR_ADMIN_ROLE}" in trust and '"Ref": "SecHubAdminAccount"' in trust
    assert "ssm.amazonaws.com" in trust
    actions = json.dumps(role["Properties"]["Policies"])
    for action in (
        "ssm:StartAutomationExecution",
        "ssm:DescribeDocument",
        "iam:GetRole",
        "securityhub:BatchUpdateFindings",
    ):
        assert action in actions
    assert "DeletionPolicy" not in role


def test_one_role_per_declared_remediation(roles):
    _, by_id = roles
    names = documents.permission_names()
    assert len(names) >= 1
    for name in names:
        _rid, role = _role_named(by_id, f"{solution.SOLUTION_ID}-{name}-")
        props = role["Properties"]
        assert props["RoleName"] == {"Fn::Join": ["", [f"{solution.SOLUTION_ID}-{name}-", {"Ref": "Namespace"}]]}
        trust = json.dumps(props["AssumeRolePolicyDocument"])
        assert (
            f":role/{solution.ORCHESTRATOR_MEMBER_ROLE}" in trust and ":root" in trust and "ssm.amazonaws.com" in trust
        )
        policy_names = [p["PolicyName"] for p in props["Policies"]]
        # The base policy only where the runbook needs it (TargetLocations, {{ssm:...}} defaults).
        assert policy_names in (
            ["ASR-Remediation-Base", f"ASR-Remediation-Policy-{name}"],
            [f"ASR-Remediation-Policy-{name}"],
        )
        declared = props["Policies"][-1]["PolicyDocument"]["Statement"]
        assert len(declared) == len(documents.permissions(name).statements)


def test_every_asr_document_has_a_role(roles):
    _, by_id = roles
    role_names = json.dumps([r["Properties"]["RoleName"] for r in by_id.values()])
    for name in documents.remediation_names():
        assert f"{solution.SOLUTION_ID}-{name}-" in role_names, name
    for doc in solution.AWS_OWNED_DOCUMENTS:
        short = doc.removeprefix("AWS-")
        if short in documents.permission_names():
            assert f"{solution.SOLUTION_ID}-{short}-" in role_names


def test_service_roles_are_retained(roles):
    template, by_id = roles
    service = [r for name in documents.permission_names() for r in documents.permissions(name).service_roles]
    for spec in service:
        _, role = _role_named(by_id, f"{solution.SOLUTION_ID}-{spec.name}-")
        assert role["DeletionPolicy"] == "Retain"
        assert spec.principal in json.dumps(role["Properties"]["AssumeRolePolicyDocument"])
    profiles = resources_of(template, "AWS::IAM::InstanceProfile")
    assert len(profiles) == sum(1 for s in service if s.instance_profile)


def test_declared_substitutions_are_resolved(roles):
    _, by_id = roles
    text = json.dumps(by_id)
    assert "${AWS::" not in text and "${Namespace}" not in text
