"""Member roles stack (``automated-security-response-member-roles.template``).

Deployed once per account (IAM is global), typically as a service-managed StackSet.
Creates the role the admin account's orchestrator assumes, one role per
remediation from its declaration in ``remediation_runbooks/permissions/``, and the
service roles remediations hand to AWS services.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from asr import documents, solution
from asr.cdk_common import (
    Distribution,
    SolutionStack,
    acknowledge_managed_policies,
    acknowledge_wildcards,
)


def _arn(service: str, resource: str, *, region: str = "*", account: str = cdk.Aws.ACCOUNT_ID) -> str:
    return cdk.Fn.join("", ["arn:", cdk.Aws.PARTITION, f":{service}:{region}:", account, f":{resource}"])


def _aws_document_arns(documents: tuple[str, ...] | list[str]) -> list[str]:
    """``document/`` and ``automation-definition/`` ARNs of AWS-owned documents (no account in either)."""
    arns = []
    for document in documents:
        arns.append(_arn("ssm", f"document/{document}", account=""))
        arns.append(_arn("ssm", f"automation-definition/{document}:*", account=""))
    return arns


def _reads_solution_parameters(remediation: str) -> bool:
    """Does the runbook resolve ``{{ssm:/Solutions/SO0111/...}}`` (a parameter default)?"""
    if f"AWS-{remediation}" in solution.AWS_OWNED_DOCUMENTS:
        return False
    text = json.dumps(documents.runbook_source(remediation))
    return bool(re.search(r"\{\{\s*ssm:" + re.escape(solution.SSM_PREFIX), text))


@functools.cache
def _target_location_remediations() -> frozenset[str]:
    """Remediations a control runbook runs through TargetLocations (regional entries, and their
    pre-steps): their role is the execution role that starts the document in the target."""
    from asr.playbooks import data

    names: set[str] = set()
    for std in data.standards():
        for control in std.own():
            if control.scope == "regional":
                rem = data.remediations()[control.remediation]
                names.add(rem.name)
                names.update(pre.remediation for pre in rem.pre)
    return frozenset(names)


def _sub(value: str, namespace: str) -> str:
    """Resolve the substitutions a permission file may use (``${AWS::Partition}``,
    ``${AWS::AccountId}``, ``${Namespace}``) into a plain ``Fn::Join``."""
    if "${" not in value:
        return value
    known = {"AWS::Partition": cdk.Aws.PARTITION, "AWS::AccountId": cdk.Aws.ACCOUNT_ID, "Namespace": namespace}
    parts = re.split(r"\$\{([^}]+)\}", value)
    return cdk.Fn.join("", [known[p] if i % 2 else p for i, p in enumerate(parts) if p])


def _policy(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def _substitute(node: Any, namespace: str) -> Any:
    if isinstance(node, str):
        return _sub(node, namespace)
    if isinstance(node, list):
        return [_substitute(v, namespace) for v in node]
    if isinstance(node, dict):
        return {k: _substitute(v, namespace) for k, v in node.items()}
    return node


def _statements(declared: tuple[documents.Statement, ...], namespace: str) -> list[dict[str, Any]]:
    """Declared statements as policy JSON, substitutions resolved in resources and conditions."""
    return [_substitute(stmt.as_policy(), namespace) for stmt in declared]


class MemberRolesStack(SolutionStack):
    def __init__(self, scope: Construct, construct_id: str = solution.MEMBER_ROLES_STACK, *, dist: Distribution):
        super().__init__(
            scope,
            construct_id,
            dist=dist,
            description=solution.stack_description(solution.MEMBER_ROLES_STACK, dist.version),
        )
        namespace = self.namespace_parameter()
        admin_account = self.admin_account_parameter(
            "12-digit account id of the Security Hub admin account. Its orchestrator role may assume "
            f"{solution.ORCHESTRATOR_MEMBER_ROLE} in this account."
        )
        custom_runbooks = self.parameter(
            "CustomRunbookPrefix",
            default="",
            allowed_pattern=r"^$|^[A-Za-z0-9_.-]{3,64}$",
            constraint_description="Empty, or 3-64 letters, digits, '_', '.', '-'.",
            description=(
                "Optional. Name prefix of your own SSM Automation runbooks (the RunbookName of a "
                "/Solutions/SO0111/<key> parameter), e.g. 'Custom-'. The orchestrator member role may describe and "
                "start documents with this prefix. Empty: only the solution's ASR-* runbooks."
            ),
        )
        custom_roles = self.parameter(
            "CustomRunbookRolePrefix",
            default="",
            allowed_pattern=r"^$|^[\w+=,.@-]{3,64}$",
            constraint_description="Empty, or 3-64 characters valid in an IAM role name.",
            description=(
                "Optional. Name prefix of the roles your own runbooks run as (the RunbookRole of a "
                "/Solutions/SO0111/<key> parameter). The orchestrator member role may read them and pass them to "
                "SSM. Roles named SO0111-* (e.g. SO0111-Remediate-<std>-<ver>-<control>) need no prefix."
            ),
        )
        self.parameter_group("Configuration", [namespace, admin_account])
        self.parameter_group("Your own runbooks", [custom_runbooks, custom_roles])
        self.namespace = namespace.value_as_string
        self._custom = (
            (
                custom_runbooks,
                self.condition(
                    "CustomRunbooks", cdk.Fn.condition_not(cdk.Fn.condition_equals(custom_runbooks.value_as_string, ""))
                ),
            ),
            (
                custom_roles,
                self.condition(
                    "CustomRunbookRoles",
                    cdk.Fn.condition_not(cdk.Fn.condition_equals(custom_roles.value_as_string, "")),
                ),
            ),
        )

        self.orchestrator_member_role = self._orchestrator_member_role(admin_account.value_as_string)
        self.remediation_roles: dict[str, iam.CfnRole] = {}
        self.service_roles: dict[str, iam.CfnRole] = {}
        for name in documents.permission_names():
            perms = documents.permissions(name)
            self.remediation_roles[name] = self._remediation_role(perms)
            for service_role in perms.service_roles:
                self.service_roles[service_role.name] = self._service_role(service_role)

    # --- orchestrator member role --------------------------------------------------

    def _orchestrator_member_role(self, admin_account: str) -> iam.CfnRole:
        admin_role = cdk.Fn.join(
            "", ["arn:", cdk.Aws.PARTITION, ":iam::", admin_account, f":role/{solution.ORCHESTRATOR_ADMIN_ROLE}"]
        )
        prefix = f"{solution.SOLUTION_ID}-*"
        statements = [
            {
                "Effect": "Allow",
                "Action": ["iam:PassRole", "iam:GetRole"],
                "Resource": _arn("iam", f"role/{prefix}", region="", account=cdk.Aws.ACCOUNT_ID),
            },
            {
                "Effect": "Allow",
                "Action": "ssm:StartAutomationExecution",
                "Resource": [
                    _arn("ssm", f"document/{solution.DOCUMENT_PREFIX}*"),
                    _arn("ssm", f"automation-definition/{solution.DOCUMENT_PREFIX}*:*"),
                    _arn("ssm", "automation-execution/*"),
                    # AWS-owned documents the control runbooks run: SSM authorizes them on
                    # account-less ARNs (arn:<partition>:ssm:<region>::document/AWS-<Name>).
                    *_aws_document_arns(solution.AWS_OWNED_DOCUMENTS),
                ],
            },
            {
                "Effect": "Allow",
                "Action": ["ssm:DescribeAutomationExecutions", "ssm:GetAutomationExecution"],
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Action": "ssm:DescribeDocument",
                "Resource": _arn("ssm", f"document/{solution.DOCUMENT_PREFIX}*"),
            },
            {
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:GetParameters"],
                "Resource": _arn("ssm", f"parameter{solution.SSM_PREFIX}/*"),
            },
            {"Effect": "Allow", "Action": "config:DescribeConfigRules", "Resource": "*"},
            # The remediation policy's tag rules read the resource's current tags (lambdas/orchestrator/
            # enforce.py): GetResources supports no resource type, only "*"
            # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonresourcegrouptaggingapi.html).
            {"Effect": "Allow", "Action": "tag:GetResources", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": "securityhub:BatchUpdateFindings",
                "Resource": _arn("securityhub", "hub/default", region="*"),
            },
        ]
        # Customers' own runbooks and roles, only under the prefixes the stack parameters name.
        (runbooks, has_runbooks), (roles, has_roles) = self._custom
        custom = [
            (
                has_runbooks,
                {
                    "Effect": "Allow",
                    "Action": ["ssm:DescribeDocument", "ssm:StartAutomationExecution"],
                    "Resource": [
                        _arn("ssm", cdk.Fn.join("", ["document/", runbooks.value_as_string, "*"])),
                        _arn("ssm", cdk.Fn.join("", ["automation-definition/", runbooks.value_as_string, "*:*"])),
                    ],
                },
            ),
            (
                has_roles,
                {
                    "Effect": "Allow",
                    "Action": ["iam:GetRole", "iam:PassRole"],
                    "Resource": _arn("iam", cdk.Fn.join("", ["role/", roles.value_as_string, "*"]), region=""),
                },
            ),
        ]
        role = iam.CfnRole(
            self,
            "OrchestratorMemberRole",
            role_name=solution.ORCHESTRATOR_MEMBER_ROLE,
            assume_role_policy_document=_policy(
                [
                    {"Effect": "Allow", "Principal": {"AWS": admin_role}, "Action": "sts:AssumeRole"},
                    {"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"},
                ]
            ),
            policies=[
                iam.CfnRole.PolicyProperty(
                    policy_name="member_orchestrator",
                    policy_document=_policy(
                        [
                            *statements,
                            *(cdk.Fn.condition_if(c.logical_id, stmt, cdk.Aws.NO_VALUE) for c, stmt in custom),
                        ]
                    ),
                )
            ],
        )
        acknowledge_wildcards(
            role,
            [*statements, *(stmt for _, stmt in custom)],
            "Scoped to the solution's own roles (SO0111-*), documents (ASR-*) and parameters; automation "
            "executions have generated ids; Describe/Get of executions, config:DescribeConfigRules, "
            "tag:GetResources and cloudwatch:PutMetricData (limited to the ASR namespace) have no resource-level "
            "permissions.",
        )
        return role

    # --- remediation roles ---------------------------------------------------------

    def _base_statements(self, remediation: str, role_name: str) -> list[dict[str, Any]]:
        """What every remediation role needs to run its own document.

        Read the solution's parameters (``{{ssm:/Solutions/SO0111/...}}`` defaults); as a
        TargetLocations execution role, start its own document -- ``AWS-<Name>`` on the
        account-less ARNs for the AWS-owned ones -- and pass itself to SSM as the child's
        AutomationAssumeRole. Writing a parameter is not here: the two remediations that
        write one declare that single parameter in their permission file.
        """
        aws_owned = f"AWS-{remediation}"
        statements: list[dict[str, Any]] = []
        if _reads_solution_parameters(remediation):
            statements.append(
                {
                    "Effect": "Allow",
                    "Action": ["ssm:GetParameter", "ssm:GetParameters"],
                    "Resource": _arn("ssm", f"parameter{solution.SSM_PREFIX}/*"),
                }
            )
        if remediation not in _target_location_remediations():
            return statements
        if aws_owned in solution.AWS_OWNED_DOCUMENTS:
            documents = _aws_document_arns([aws_owned])
        else:
            document = solution.remediation_document(remediation)
            documents = [_arn("ssm", f"document/{document}"), _arn("ssm", f"automation-definition/{document}:*")]
        return [
            *statements,
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": _arn("iam", f"role/{role_name}", region=""),
                "Condition": {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
            },
            {
                "Effect": "Allow",
                "Action": [
                    "ssm:StartAutomationExecution",
                    "ssm:GetAutomationExecution",
                    "ssm:DescribeAutomationStepExecutions",
                ],
                "Resource": [*documents, _arn("ssm", "automation-execution/*")],
            },
        ]

    def _remediation_role(self, perms: documents.Permissions) -> iam.CfnRole:
        role_name = solution.remediation_role(perms.remediation, self.namespace)
        member_role = _arn("iam", f"role/{solution.ORCHESTRATOR_MEMBER_ROLE}", region="")
        root = _arn("iam", "root", region="")
        base = self._base_statements(perms.remediation, role_name)
        declared = _statements(perms.statements, self.namespace)
        policies = [
            iam.CfnRole.PolicyProperty(
                policy_name=f"ASR-Remediation-Policy-{perms.remediation}", policy_document=_policy(declared)
            )
        ]
        if base:
            policies.insert(
                0, iam.CfnRole.PolicyProperty(policy_name="ASR-Remediation-Base", policy_document=_policy(base))
            )
        role = iam.CfnRole(
            self,
            f"Remediation{perms.remediation}",
            role_name=role_name,
            description=f"Runs {solution.remediation_document(perms.remediation)} ({solution.SOLUTION_NAME}).",
            assume_role_policy_document=_policy(
                [
                    {"Effect": "Allow", "Principal": {"AWS": [member_role, root]}, "Action": "sts:AssumeRole"},
                    {"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"},
                ]
            ),
            policies=policies,
        )
        role.add_resource_dependency(self.orchestrator_member_role)
        justifications = "; ".join(s.justification for s in perms.statements if s.justification)
        acknowledge_wildcards(
            role,
            [*base, *declared],
            f"Declared and reviewed in remediation_runbooks/permissions/{perms.remediation}.yaml: account-scoped "
            "ARNs with * for the Region (IAM roles are global) and automation execution ids."
            + (f" {justifications}" if justifications else ""),
        )
        return role

    def _service_role(self, spec: documents.ServiceRole) -> iam.CfnRole:
        managed = [cdk.Fn.join("", ["arn:", cdk.Aws.PARTITION, f":iam::aws:policy/{p}"]) for p in spec.managed_policies]
        role = iam.CfnRole(
            self,
            f"Service{spec.name.replace('-', '')}",
            role_name=solution.service_role(spec.name, self.namespace),
            assume_role_policy_document=_policy(
                [{"Effect": "Allow", "Principal": {"Service": spec.principal}, "Action": "sts:AssumeRole"}]
            ),
            managed_policy_arns=managed or None,
            policies=[
                iam.CfnRole.PolicyProperty(
                    policy_name=spec.name, policy_document=_policy(_statements(spec.statements, self.namespace))
                )
            ]
            if spec.statements
            else None,
        )
        role.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        acknowledge_managed_policies(
            role, managed, f"The AWS managed policy is the one AWS documents for {spec.principal}."
        )
        acknowledge_wildcards(
            role,
            _statements(spec.statements, self.namespace),
            f"Service role {spec.name}: wildcards declared and reviewed in its remediation's permissions file.",
        )
        if spec.instance_profile:
            profile = iam.CfnInstanceProfile(
                self,
                f"Profile{spec.instance_profile.replace('-', '')}",
                instance_profile_name=solution.service_role(spec.instance_profile, self.namespace),
                roles=[role.ref],
            )
            profile.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        return role
