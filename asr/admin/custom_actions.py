"""Security Hub custom actions and the EventBridge rules that send their events to the
orchestrator: "Remediate with ASR" always, "ASR:Remediate&Ticket" when ticketing is on."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from asr import solution
from asr.cdk_common import LAMBDA_RUNTIME, SolutionStack, function_role


class CustomActions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        state_machine: sfn.IStateMachine,
        ticketing_on: cdk.CfnCondition,
    ) -> None:
        super().__init__(scope, construct_id)
        stack: SolutionStack = cdk.Stack.of(self)  # type: ignore[assignment]
        provider = self._provider(stack)
        events_role = iam.Role(
            self,
            "EventsRuleRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description="Lets the custom-action rules start the orchestrator.",
            inline_policies={
                "StartOrchestrator": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=["states:StartExecution"], resources=[state_machine.state_machine_arn]
                        )
                    ]
                )
            },
        )
        self.remediate = self._action(
            "RemediateWithSharr",
            provider,
            solution.CUSTOM_ACTION_NAME,
            solution.CUSTOM_ACTION_DESCRIPTION,
            solution.CUSTOM_ACTION_ID,
            solution.CUSTOM_ACTION_RULE,
            "Remediate with ASR",
            state_machine,
            events_role,
        )
        self.ticket = self._action(
            "ASRTicketing",
            provider,
            solution.TICKETING_ACTION_NAME,
            solution.TICKETING_ACTION_DESCRIPTION,
            solution.TICKETING_ACTION_ID,
            solution.TICKETING_ACTION_RULE,
            "Remediate with ASR and generate a ticket.",
            state_machine,
            events_role,
        )
        for resource in self.ticket:
            resource.cfn_options.condition = ticketing_on

    def _provider(self, stack: SolutionStack) -> lambda_.Function:
        statements = [
            {
                "Effect": "Allow",
                "Action": [
                    "securityhub:CreateActionTarget",
                    "securityhub:DeleteActionTarget",
                    "securityhub:DescribeActionTargets",
                    "securityhub:UpdateActionTarget",
                ],
                "Resource": "*",
            },
        ]
        role = function_role(
            self,
            "createCustomActionRole",
            function_name=solution.CUSTOM_ACTION_FUNCTION,
            policy_name="CustomAction",
            statements=statements,
            description="Custom resource provider of the Security Hub custom actions.",
            reason="Security Hub action-target APIs have no resource-level permissions",
        )
        return lambda_.Function(
            self,
            "CustomAction",
            function_name=solution.CUSTOM_ACTION_FUNCTION,
            description="Custom resource: creates, adopts and deletes the ASR Security Hub custom actions.",
            runtime=LAMBDA_RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            code=stack.lambda_code("custom_action.zip"),
            handler="lambdas.custom_action.handler.lambda_handler",
            memory_size=128,
            timeout=cdk.Duration.seconds(60),
            role=role,
        )

    def _action(
        self,
        construct_id: str,
        provider: lambda_.IFunction,
        name: str,
        description: str,
        action_id: str,
        rule_name: str,
        rule_description: str,
        state_machine: sfn.IStateMachine,
        events_role: iam.IRole,
    ) -> list[cdk.CfnResource]:
        target = cdk.CfnResource(
            self,
            construct_id,
            type="Custom::ActionTarget",
            properties={
                "ServiceToken": provider.function_arn,
                "Name": name,
                "Description": description,
                "Id": action_id,
            },
        )
        rule = events.CfnRule(
            self,
            f"{construct_id}Rule",
            name=rule_name,
            description=rule_description,
            state="ENABLED",
            event_pattern={
                "source": ["aws.securityhub"],
                "detail-type": [solution.EVENT_CUSTOM_ACTION],
                "resources": [target.get_att("Arn").to_string()],
                "detail": {"findings": {"Compliance": {"Status": ["FAILED", "WARNING"]}}},
            },
            targets=[
                events.CfnRule.TargetProperty(
                    arn=state_machine.state_machine_arn, id="Orchestrator", role_arn=events_role.role_arn
                )
            ],
        )
        return [target, rule]
