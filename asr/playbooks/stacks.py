"""Playbook nested stacks: one admin and one or more member templates per standard.

* Admin (``playbooks/<KEY>Stack.template``): the standard's SSM parameters (status,
  short name, remaps) and one ``<short>_<ver>_<control>_AutoTrigger`` EventBridge
  rule per control entry, disabled by default, all sharing one role that may start
  the orchestrator.
* Member (``playbooks/<KEY>MemberStack[N].template``): one control runbook per own
  control, each behind an ``Enable<Control>`` parameter, created in batches.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from constructs import Construct

from asr import solution
from asr.cdk_common import Distribution, SolutionStack
from asr.member.runbooks import create_conditional_documents, plan_pinned_parts, reference_parts
from asr.playbooks import generator
from asr.playbooks.data import Standard

AVAILABLE = "Available"
NOT_AVAILABLE = "NOT Available"
ENABLED, DISABLED = "ENABLED", "DISABLED"

#: Bytes of document content per member template part: half of CloudFormation's
#: 1,000,000-byte limit minus room for parameters, conditions and wrappers.
MEMBER_PART_BYTES = 400_000


def member_parts(std: Standard) -> list[list[str]]:
    """The own controls of ``std``, grouped into the member templates that hold them: a control
    runbook of the reference's ``<KEY>MemberStack[N].template`` stays in that part (an in-place
    update would otherwise collide, docs/upgrade.md); new ones go where there is room."""
    sizes = [
        (c.control_id, len(json.dumps(generator.control_runbook(std, c, "abcdefghi"), indent=1))) for c in std.own()
    ]
    pinned = reference_parts(
        lambda part: solution.playbook_member_template(std.key, part),
        std.control_runbook,
        (cid for cid, _ in sizes),
    )
    return plan_pinned_parts(sizes, pinned, budget=MEMBER_PART_BYTES)


def _logical(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


class PlaybookAdminStack(SolutionStack):
    def __init__(self, scope: Construct, *, dist: Distribution, standard: Standard) -> None:
        super().__init__(
            scope,
            f"{standard.key}Stack",
            dist=dist,
            description=solution.playbook_stack_description(standard.key, member=False, version=dist.version),
        )
        std = standard
        ids, strategy = self.target_account_parameters()
        orchestrator_arn = cdk.CfnParameter(
            self,
            solution.PLAYBOOK_ORCHESTRATOR_PARAMETER,
            type="AWS::SSM::Parameter::Value<String>",
            default=solution.SSM_ORCHESTRATOR_ARN,
            description=f"SSM parameter holding the ARN of the {solution.ORCHESTRATOR_NAME} state machine.",
        )
        self.ssm_parameter(
            "ShortName",
            solution.ssm_standard_shortname(std.long_name, std.version),
            std.short_name,
            "Provides a short (1-12) character abbreviation for the standard.",
        )
        self.ssm_parameter(
            "StandardStatus",
            solution.ssm_standard_status(std.long_name, std.version),
            solution.STANDARD_ENABLED,
            (
                f"Set to anything other than '{solution.STANDARD_ENABLED}' to stop the orchestrator "
                f"remediating {std.title} findings."
            ),
        )
        for control in std.remaps():
            self.ssm_parameter(
                f"Remap{_logical(control.control_id)}",
                solution.ssm_control_remap(std.short_name, std.version, control.control_id),
                control.remap,
                f"{std.short_name} {std.version} {control.control_id} is remediated by the runbook of {control.remap}.",
            )

        all_accounts = self.condition("TargetAllAccounts", cdk.Fn.condition_equals(ids.value_as_string, "ALL"))
        include = self.condition("TargetListedAccounts", cdk.Fn.condition_equals(strategy.value_as_string, "INCLUDE"))
        # "123, 456" -> ["123", "456"]: spaces removed before splitting on commas.
        listed = cdk.Fn.split(",", cdk.Fn.join("", cdk.Fn.split(" ", ids.value_as_string)))
        # ALL (either strategy): no account filter -- ALL + EXCLUDE excludes nothing.
        account_filter = cdk.Fn.condition_if(
            all_accounts.logical_id,
            cdk.Aws.NO_VALUE,
            cdk.Fn.condition_if(include.logical_id, listed, [{"anything-but": listed}]),
        )

        self.events_role = iam.CfnRole(
            self,
            "EventTriggerRole",
            assume_role_policy_document={
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            },
            description=f"Lets the {std.short_name} {std.version} AutoTrigger rules start the orchestrator.",
            policies=[
                iam.CfnRole.PolicyProperty(
                    policy_name="StartOrchestrator",
                    policy_document={
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "states:StartExecution",
                                "Resource": orchestrator_arn.value_as_string,
                            }
                        ],
                    },
                )
            ],
        )
        self.rules: dict[str, events.CfnRule] = {}
        for control in std.entries:
            self.rules[control.control_id] = self._auto_trigger(
                std, control.control_id, account_filter, orchestrator_arn.value_as_string
            )

    def _auto_trigger(self, std: Standard, control_id: str, account_filter: object, target_arn: str) -> events.CfnRule:
        param = self.parameter(
            solution.auto_trigger_parameter(std.short_name, std.version, control_id),
            default=DISABLED,
            allowed_values=[ENABLED, DISABLED],
            description=f"This will fully enable automated remediation for {std.short_name} {std.version} {control_id}",
        )
        pattern = auto_trigger_pattern(std, control_id)
        if "{partition}" in std.generator_id:  # CIS 1.2.0: the ruleset ARN names the partition
            gid = std.generator(control_id, "${AWS::Partition}")
            pattern["detail"]["findings"]["GeneratorId"] = [cdk.Fn.sub(gid)]
        pattern["detail"]["findings"]["AwsAccountId"] = account_filter
        rule = events.CfnRule(
            self,
            f"{_logical(control_id)}AutoTrigger",
            name=solution.auto_trigger_rule(std.short_name, std.version, control_id),
            description=(
                f"Remediate {std.short_name} {std.version} {control_id} automatic remediation trigger event rule."
            ),
            state=param.value_as_string,
            event_pattern=pattern,
            targets=[
                events.CfnRule.TargetProperty(
                    id="Orchestrator",
                    arn=target_arn,
                    role_arn=self.events_role.attr_arn,
                    input_transformer=events.CfnRule.InputTransformerProperty(
                        input_paths_map={"detail-type": "$.detail-type", "findings": "$.detail.findings"},
                        input_template=ORCHESTRATOR_INPUT_TEMPLATE,
                    ),
                )
            ],
        )
        return rule


#: What the orchestrator expects from an AutoTrigger rule (as from a custom action).
ORCHESTRATOR_INPUT_TEMPLATE = '{"detail-type": <detail-type>, "detail": {"findings": <findings>, "actionName": "None"}}'


def auto_trigger_pattern(std: Standard, control_id: str, partition: str = "aws") -> dict:
    """EventBridge pattern of a control's AutoTrigger rule (without the account filter).

    New FAILED or WARNING findings of the control, as Security Hub imports them. The
    CIS 1.2.0 GeneratorId names the partition; the stacks use ``${AWS::Partition}``
    there.
    """
    generator_id = std.generator(control_id, partition)
    return {
        "source": ["aws.securityhub"],
        "detail-type": [solution.EVENT_IMPORTED],
        "detail": {
            "findings": {
                "GeneratorId": [generator_id],
                "Workflow": {"Status": ["NEW"]},
                "Compliance": {"Status": ["FAILED", "WARNING"]},
                "RecordState": ["ACTIVE"],
            }
        },
    }


class PlaybookMemberStack(SolutionStack):
    def __init__(
        self,
        scope: Construct,
        *,
        dist: Distribution,
        standard: Standard,
        part: int = 0,
        controls: Sequence[str] | None = None,
    ) -> None:
        """``controls``: the own control ids this part holds (default: all of them)."""
        super().__init__(
            scope,
            f"{standard.key}MemberStack{part or ''}",
            dist=dist,
            description=solution.playbook_stack_description(standard.key, member=True, version=dist.version),
        )
        std = standard
        self.admin_account_parameter()
        namespace = self.namespace_parameter().value_as_string
        wanted = list(controls) if controls is not None else [c.control_id for c in std.own()]
        docs = []
        for control_id in wanted:
            name = std.control_runbook(control_id)
            param_name = solution.control_available_parameter(control_id)
            available = self.parameter(
                param_name,
                default=AVAILABLE,
                allowed_values=[AVAILABLE, NOT_AVAILABLE],
                description=(
                    f"Enable/disable availability of remediation for {std.short_name} version {std.version} "
                    f"Control {control_id} in Security Hub Console Custom Actions. If NOT Available the "
                    f"remediation cannot be triggered automatically or manually."
                ),
            )
            condition = self.equals(f"{param_name}Condition", available, AVAILABLE)
            content = generator.control_runbook(std, std.control(control_id), namespace)
            docs.append((f"Control{_logical(control_id)}", name, content, condition))
        self.documents = create_conditional_documents(self, docs)
