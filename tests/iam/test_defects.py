"""Issue 12's known IAM defects, each proven against the synthesized roles (each fails on the old templates).

1. The orchestrator member role could not start AWS-owned documents (account-less ARNs):
   the 13 control runbooks that ran one failed at their Remediation step in AWS. (Since then
   AWS-DisablePublicAccessForSecurityGroup and AWS-TerminateEC2Instance were replaced by ASR
   runbooks of ours: the 6 S3 access-logging entries still run AWS-ConfigureS3BucketLogging.)
2. The three AWS-document roles were granted ASR-<Name> instead of AWS-<Name>.
3. EnableAWSConfig: child document granted on automation-definition only; recorder kept a custom role.
4. Least privilege: PutParameter for every role, sts:AssumeRole on itself, unused PutMetricData,
   unused S3 actions, a log-group pattern DescribeLogGroups never takes, SNS on SO0111-* with any TopicName.
5. Customer runbooks (tests/lambdas/test_orchestrator_resolve.py: refused with what to grant, never a fall back).
6. states:SendTaskSuccess/Failure have no resource type: scoped to the state machine they were never allowed.
"""

from __future__ import annotations

import datetime

import pytest

from asr import solution
from asr.iam import catalog
from asr.iam.roles import synthesized_templates
from asr.iam.template import Location, Resolver, roles_of
from asr.playbooks import data
from asr.simulator.execution import Status
from tests.conftest import ACCOUNT, REGION
from tests.playbooks.harness import client, finding_for, import_finding, real_registry, run_control

MEMBER_ROLES = solution.TEMPLATE_FILES[solution.MEMBER_ROLES_STACK]
ADMIN = solution.TEMPLATE_FILES[solution.ADMIN_STACK]

AWS_OWNED_ENTRIES = {
    ("SC", "CloudTrail.7"), ("AFSBP", "S3.9"),
    ("CIS120", "2.6"), ("CIS140", "3.6"), ("CIS300", "3.4"),
    ("NIST80053", "S3.9"),
}  # fmt: skip
#: Remediations that ran an AWS-owned document and now run an ASR runbook of ours, under the same role name.
REPLACED_AWS_DOCUMENTS = ("DisablePublicAccessForSecurityGroup", "TerminateEC2Instance")


def _roles(template_name: str, **parameters: str) -> dict[str, object]:
    template = synthesized_templates()[template_name]
    params = {"Namespace": "sim", "SecHubAdminAccount": "123456789012", **parameters}
    params = {k: v for k, v in params.items() if k in template.get("Parameters", {})}
    return {r.name: r for r in roles_of(Resolver(template, Location(ACCOUNT, REGION), params), template_name).values()}


def _allowed(role, action: str) -> list[str]:
    return [
        r
        for p in role.policies
        for s in p.statements
        if s.effect == "Allow" and s.covers_action(action)
        for r in s.resources
    ]


def _aws_owned_cases() -> list[tuple[str, str]]:
    return sorted(
        (s.key, c.control_id)
        for s in data.standards()
        for c in s.own()
        if data.remediations()[c.remediation].document in solution.AWS_OWNED_DOCUMENTS
    )


def test_six_control_runbooks_run_aws_owned_documents():
    assert set(_aws_owned_cases()) == AWS_OWNED_ENTRIES


def _seed(document: str) -> tuple[str, str]:
    """A noncompliant resource for an AWS-owned remediation: (finding resource id, ASFF type)."""
    bucket = f"defect1-{int(datetime.datetime.now().timestamp() * 1e6)}"
    client("s3").create_bucket(Bucket=bucket)
    return f"arn:aws:s3:::{bucket}", "AwsS3Bucket"


@pytest.mark.parametrize(
    ("key", "control_id"), sorted(AWS_OWNED_ENTRIES), ids=[f"{k}-{c}" for k, c in sorted(AWS_OWNED_ENTRIES)]
)
def test_defect_1_control_runbook_starts_the_aws_owned_document_as_the_member_role(aws, iam_enforcer, key, control_id):
    std = data.load_standard(key)
    rem = data.remediations()[std.control(control_id).remediation]
    resource, rtype = _seed(rem.document)
    finding = finding_for(std, control_id, resource, resource_type=rtype)
    import_finding(finding)
    _, execution = run_control(real_registry(), std, control_id, finding)
    assert execution.status is Status.SUCCESS, execution.failure_message
    member = f"arn:aws:iam::{ACCOUNT}:role/{solution.ORCHESTRATOR_MEMBER_ROLE}"
    checked = {
        r.resource
        for r in iam_enforcer.records
        if r.principal == member and r.action == "ssm:StartAutomationExecution" and r.allowed
    }
    assert f"arn:aws:ssm:{REGION}::document/{rem.document}" in checked, checked


def test_defect_2_aws_document_roles_start_their_aws_document():
    """As TargetLocations execution roles (EC2.4, EC2.13 are regional) they start AWS-<Name>, never ASR-<Name>."""
    from asr.member_roles.stack import _target_location_remediations

    roles = _roles(MEMBER_ROLES)
    targeted = 0
    for document in solution.AWS_OWNED_DOCUMENTS:
        name = document.removeprefix("AWS-")
        allowed = _allowed(roles[solution.remediation_role(name, "sim")], "ssm:StartAutomationExecution")
        assert not any(f"document/ASR-{name}" in r for r in allowed), allowed
        if name in _target_location_remediations():
            targeted += 1
            assert f"arn:aws:ssm:*::document/{document}" in allowed, allowed
            assert f"arn:aws:ssm:*::automation-definition/{document}:*" in allowed, allowed
    assert targeted == 0  # the S3 access-logging entries are global: no TargetLocations
    for name in REPLACED_AWS_DOCUMENTS:  # EC2.4 (AFSBP) and EC2.13 (CIS 4.1) are regional
        assert name in _target_location_remediations()
        allowed = _allowed(roles[solution.remediation_role(name, "sim")], "ssm:StartAutomationExecution")
        assert f"arn:aws:ssm:*:{ACCOUNT}:document/ASR-{name}" in allowed, allowed
        assert not any(f"document/AWS-{name}" in r for r in allowed), allowed


def test_defect_3_enable_aws_config_may_start_its_child_document():
    role = _roles(MEMBER_ROLES)[solution.remediation_role("EnableAWSConfig", "sim")]
    allowed = _allowed(role, "ssm:StartAutomationExecution")
    assert f"arn:aws:ssm:*:{ACCOUNT}:document/ASR-CreateAccessLoggingBucket" in allowed
    assert f"arn:aws:ssm:*:{ACCOUNT}:automation-definition/ASR-CreateAccessLoggingBucket:*" in allowed


def test_defect_4_only_two_roles_write_a_solution_parameter_each_exactly_one():
    """Any role could rewrite CMK_REMEDIATION_ARN and the other defaults the runbooks trust."""
    writers = {}
    for name, role in _roles(MEMBER_ROLES).items():
        resources = [r for r in _allowed(role, "ssm:PutParameter") if "/Solutions/" in r or r.endswith("parameter/*")]
        if resources:
            writers[name] = resources
    assert writers == {
        solution.remediation_role("EnableAWSConfig", "sim"): [
            f"arn:aws:ssm:*:{ACCOUNT}:parameter/Solutions/SO0111/SNS_Topic_Config.1"
        ],
        solution.remediation_role("CreateLogMetricFilterAndAlarm", "sim"): [
            f"arn:aws:ssm:*:{ACCOUNT}:parameter/Solutions/SO0111/SNS_Topic_CIS3.x"
        ],
    }


def test_defect_4_no_role_assumes_itself_and_no_unused_grants():
    roles = _roles(MEMBER_ROLES)
    for name, role in roles.items():
        assert role.arn not in _allowed(role, "sts:AssumeRole"), name
    member = roles[solution.ORCHESTRATOR_MEMBER_ROLE]
    assert not _allowed(member, "cloudwatch:PutMetricData")
    logging = roles[solution.remediation_role("ConfigureS3BucketLogging", "sim")]
    for action in ("s3:CreateBucket", "s3:PutEncryptionConfiguration", "s3:PutBucketAcl"):
        assert not _allowed(logging, action), action


def test_defect_4_actions_without_resource_types_are_granted_on_star_only():
    """A grant on a pattern for an action that takes no resource (logs:DescribeLogGroups ...) never applies."""
    problems = []
    for template in (MEMBER_ROLES, ADMIN):
        for name, role in _roles(template).items():
            for policy in role.policies:
                for statement in policy.statements:
                    for action in statement.actions:
                        if "*" in action or not catalog.is_action(action):
                            continue
                        if not catalog.action(action).resource_types and statement.resources != ("*",):
                            problems.append((name, action, statement.resources))
    assert problems == []


def test_defect_6_task_tokens_are_answered_on_star():
    role = _roles(ADMIN)[solution.ORCHESTRATOR_ADMIN_ROLE]
    for action in ("states:SendTaskSuccess", "states:SendTaskFailure"):
        assert catalog.action(action).resource_types == ()
        assert _allowed(role, action) == ["*"]
