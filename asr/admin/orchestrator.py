"""The orchestrator: state machine ``SO0111-ASR-Orchestrator``, its Lambda functions,
the scheduling queue and table, and the role ``SO0111-ASR-Orchestrator-Admin``.

Per finding (Map item) the happy path is six states:

    Resolve Target -> Ready to Remediate? -> Schedule and Run Remediation (SQS task
    token; the worker schedules, starts and polls) -> Ticket Requested? -> Remediation Complete

Status polls are SQS re-deliveries with a growing delay handled by the worker: they
cost no state transitions. See docs/orchestrator.md.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from asr import solution
from asr.cdk_common import LAMBDA_RUNTIME, SolutionStack, acknowledge, acknowledge_wildcards, nag_evidence

HANDLERS = "lambdas.orchestrator"
_VERSIONS = "Invocation of the function's versions and aliases (CDK's grant for a Lambda task)."
TASK_TIMEOUT = cdk.Duration.minutes(5)


def _arn(stack: cdk.Stack, service: str, resource: str, *, region: str | None = None, account: str | None = None):
    return cdk.Arn.format(
        cdk.ArnComponents(
            service=service,
            resource=resource,
            region=region,
            account=account,
            arn_format=cdk.ArnFormat.NO_RESOURCE_NAME,
        ),
        stack,
    )


class Orchestrator(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        topic: sns.ITopic,
        enhanced_metrics: str,
        ticket_function_name: str,
        ticketing_on: cdk.CfnCondition,
    ) -> None:
        super().__init__(scope, construct_id)
        stack: SolutionStack = cdk.Stack.of(self)  # type: ignore[assignment]
        self.dead_letters = sqs.Queue(
            self,
            "deadLetterSchedulingQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        acknowledge(self.dead_letters, SQS3="This is the dead-letter queue of the scheduling queue.")
        self.queue = sqs.Queue(
            self,
            "SchedulingQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            visibility_timeout=cdk.Duration.minutes(12),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letters, max_receive_count=10),
        )
        self.table = dynamodb.Table(
            self,
            "SchedulingTable",
            partition_key=dynamodb.Attribute(name="AccountID-Region", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute="TTL",
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            # deletion protection would make a DESTROY fail the stack deletion
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.role = self._admin_role(stack, key, topic)

        self._code = stack.lambda_code("orchestrator.zip")
        common_env = {"SNS_TOPIC_ARN": topic.topic_arn, "ENHANCED_METRICS": enhanced_metrics}
        self.resolve_fn = self._function(
            stack,
            "checkSSMDocumentState",
            solution.RESOLVE_FUNCTION,
            "resolve",
            "Resolves a finding to its control runbook, account, Region and role; notifies final outcomes.",
            {**common_env, "WORKFLOW_RUNBOOK": "", "WORKFLOW_RUNBOOK_ACCOUNT": "member", "WORKFLOW_RUNBOOK_ROLE": ""},
            timeout=cdk.Duration.seconds(60),
        )
        self.worker_fn = self._function(
            stack,
            "schedulingLambdaTrigger",
            solution.WORKER_FUNCTION,
            "worker",
            "Schedules (per account and Region), starts and monitors remediations; answers the task token.",
            {
                **common_env,
                "SCHEDULING_TABLE": self.table.table_name,
                "SCHEDULING_QUEUE_URL": self.queue.queue_url,
                "REMEDIATION_WAIT_SECONDS": str(solution.REMEDIATION_WAIT_SECONDS),
                "POLL_INITIAL_SECONDS": "15",
                "POLL_BACKOFF_RATE": "2",
                "POLL_MAX_SECONDS": "120",
                "START_LEASE_SECONDS": "120",
            },
            timeout=cdk.Duration.seconds(120),
        )
        self.worker_fn.add_event_source(sources.SqsEventSource(self.queue, batch_size=1))
        self.notify_fn = self._function(
            stack,
            "sendNotifications",
            solution.NOTIFY_FUNCTION,
            "notify",
            "Notifies orchestrator failures and ticketed remediations (SNS, log group, finding, metrics).",
            common_env,
            timeout=cdk.Duration.seconds(60),
        )
        ticket_name = cdk.Fn.condition_if(
            ticketing_on.logical_id, ticket_function_name, solution.NO_TICKET_FUNCTION
        ).to_string()
        self.ticket_function_arn = _arn(stack, "lambda", f"function:{ticket_name}")
        self.state_machine = self._state_machine(stack, key)

    # --- IAM ----------------------------------------------------------------------

    def _admin_role(self, stack: cdk.Stack, key: kms.IKey, topic: sns.ITopic) -> iam.Role:
        # CreateLogGroup is authorized on the group's ARN (log-group:<name>), stream writes on
        # log-group:<name>:log-stream:<stream>; both forms are granted for each group.
        # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html
        log_groups = [
            _arn(stack, "logs", f"log-group:{solution.SOLUTION_LOG_GROUP}"),
            _arn(stack, "logs", f"log-group:{solution.SOLUTION_LOG_GROUP}:*"),
            _arn(stack, "logs", f"log-group:/aws/lambda/{solution.SOLUTION_ID}-ASR-*"),
            _arn(stack, "logs", f"log-group:/aws/lambda/{solution.SOLUTION_ID}-ASR-*:*"),
        ]
        statements = [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": log_groups,
            },
            {
                "Effect": "Allow",
                "Action": "ssm:GetParameter",  # the Lambdas read one parameter at a time
                "Resource": _arn(stack, "ssm", f"parameter{solution.SSM_PREFIX}/*"),
            },
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": f"arn:{cdk.Aws.PARTITION}:iam::*:role/{solution.ORCHESTRATOR_MEMBER_ROLE}",
            },
            {"Effect": "Allow", "Action": "organizations:DescribeAccount", "Resource": "*"},
            {"Effect": "Allow", "Action": "securityhub:BatchUpdateFindings", "Resource": "*"},
            {"Effect": "Allow", "Action": "sns:Publish", "Resource": topic.topic_arn},
            {
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                "Resource": key.key_arn,
            },
            {
                "Effect": "Allow",
                "Action": "cloudwatch:PutMetricData",
                "Resource": "*",
                "Condition": {"StringEquals": {"cloudwatch:namespace": solution.METRICS_NAMESPACE}},
            },
            {
                "Effect": "Allow",
                "Action": [
                    "sqs:SendMessage",
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:ChangeMessageVisibility",
                ],
                "Resource": self.queue.queue_arn,
            },
            {
                "Effect": "Allow",
                "Action": [
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                ],
                "Resource": self.table.table_arn,
            },
            {
                # Task tokens are answered on no resource: the Service Authorization Reference lists no
                # resource type for states:SendTaskSuccess/SendTaskFailure, so only "*" grants them
                # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html).
                "Effect": "Allow",
                "Action": ["states:SendTaskSuccess", "states:SendTaskFailure"],
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": "*",
            },
        ]
        role = iam.Role(
            self,
            "orchestratorRole",
            role_name=solution.ORCHESTRATOR_ADMIN_ROLE,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Orchestrator Lambda functions: resolve, schedule, start, monitor, notify.",
            inline_policies={
                "SO0111-ASR_Orchestrator": iam.PolicyDocument.from_json(
                    {"Version": "2012-10-17", "Statement": statements}
                )
            },
        )
        acknowledge_wildcards(
            role,
            statements,
            "The member role exists in every member account (any account id); parameters and log streams of "
            "the solution's own prefixes; states:SendTaskSuccess/Failure (no resource type), "
            "organizations:DescribeAccount, securityhub:BatchUpdateFindings (findings "
            "of every member account), cloudwatch:PutMetricData (ASR namespace only) and X-Ray have no "
            "resource-level permissions.",
        )
        return role

    # --- Lambda ---------------------------------------------------------------------

    def _function(
        self,
        stack: SolutionStack,
        construct_id: str,
        name: str,
        module: str,
        description: str,
        environment: dict[str, str],
        *,
        timeout: cdk.Duration,
    ) -> lambda_.Function:
        return lambda_.Function(
            self,
            construct_id,
            function_name=name,
            description=description,
            runtime=LAMBDA_RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            code=self._code,
            handler=f"{HANDLERS}.{module}.lambda_handler",
            memory_size=256,
            timeout=timeout,
            role=self.role,
            tracing=lambda_.Tracing.ACTIVE,
            environment={**environment, "LOG_LEVEL": "INFO"},
        )

    # --- state machine --------------------------------------------------------------

    def _state_machine(self, stack: cdk.Stack, key: kms.IKey) -> sfn.StateMachine:
        notify_failure = tasks.LambdaInvoke(
            self,
            "Notify Orchestrator Failure",
            lambda_function=self.notify_fn,
            payload_response_only=True,
            result_path=sfn.JsonPath.DISCARD,
            task_timeout=sfn.Timeout.duration(TASK_TIMEOUT),
        )
        resolve = tasks.LambdaInvoke(
            self,
            "Resolve Target",
            comment="Finding -> control runbook, account, Region, role; or a final outcome (already notified).",
            lambda_function=self.resolve_fn,
            payload_response_only=True,
            task_timeout=sfn.Timeout.duration(TASK_TIMEOUT),
        )
        resolve.add_catch(notify_failure, errors=[sfn.Errors.ALL], result_path="$.Error")
        remediate = tasks.SqsSendMessage(
            self,
            "Schedule and Run Remediation",
            comment="The worker spaces remediations per account and Region, starts the runbook, polls it and "
            "answers this task token with the outcome (already notified unless a ticket is requested).",
            queue=self.queue,
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            message_body=sfn.TaskInput.from_object(
                {
                    "TaskToken": sfn.JsonPath.task_token,
                    "ExecutionArn": sfn.JsonPath.execution_id,
                    "Job": sfn.JsonPath.entire_payload,
                }
            ),
        )
        remediate.add_catch(notify_failure, errors=[sfn.Errors.ALL], result_path="$.Error")
        notify_ticket = tasks.LambdaInvoke(
            self,
            "Send Ticket Notification",
            lambda_function=self.notify_fn,
            payload_response_only=True,
            result_path=sfn.JsonPath.DISCARD,
            task_timeout=sfn.Timeout.duration(TASK_TIMEOUT),
        )
        ticket_fn = lambda_.Function.from_function_attributes(
            self, "TicketGenerator", function_arn=self.ticket_function_arn, same_environment=True
        )
        ticket = tasks.LambdaInvoke(
            self,
            "Generate Ticket",
            lambda_function=ticket_fn,
            payload=sfn.TaskInput.from_json_path_at("$.TicketRequest"),
            result_selector={"Payload.$": "$.Payload"},
            result_path="$.TicketAnswer",
            task_timeout=sfn.Timeout.duration(TASK_TIMEOUT),
        )
        ticket.add_catch(notify_ticket, errors=[sfn.Errors.ALL], result_path="$.TicketError")
        ticket.next(notify_ticket)

        item = resolve.next(
            sfn.Choice(self, "Ready to Remediate?")
            .when(
                sfn.Condition.string_equals("$.Outcome", "READY"),
                remediate.next(
                    sfn.Choice(self, "Ticket Requested?")
                    .when(sfn.Condition.boolean_equals("$.TicketRequested", True), ticket)
                    .otherwise(sfn.Succeed(self, "Remediation Complete"))
                ),
            )
            .otherwise(sfn.Succeed(self, "Outcome Notified"))
        )
        process = sfn.Map(
            self,
            "Process Findings",
            items_path="$.detail.findings",
            item_selector={
                "Finding": sfn.JsonPath.string_at("$$.Map.Item.Value"),
                "MapIndex": sfn.JsonPath.string_at("$$.Map.Item.Index"),
                "EventType": sfn.JsonPath.string_at("$.detail-type"),
                "CustomActionName": sfn.JsonPath.string_at("$.detail.actionName"),
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        process.item_processor(item)
        log_group = logs.LogGroup.from_log_group_arn(
            self,
            "OrchestratorLogGroup",
            _arn(stack, "logs", f"log-group:{solution.ORCHESTRATOR_LOG_GROUP}:*"),
        )
        machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=solution.ORCHESTRATOR_NAME,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(process),
            timeout=cdk.Duration.minutes(solution.ORCHESTRATOR_TIMEOUT_MINUTES),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            comment="Automated Security Response on AWS: remediates Security Hub findings (see docs/orchestrator.md).",
        )
        machine.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        key.grant_encrypt_decrypt(machine.role)
        self._acknowledge_state_machine_role(stack, machine)
        return machine

    def _acknowledge_state_machine_role(self, stack: cdk.Stack, machine: sfn.StateMachine) -> None:
        """The CDK-generated policy of the state machine role: one acknowledgment per wildcard."""
        fn_if = json.dumps(stack.resolve(self.ticket_function_arn)["Fn::Join"][1][-1], separators=(",", ":"))
        evidence = {
            "Resource::*": "CloudWatch Logs delivery and X-Ray APIs have no resource-level permissions.",
            "Action::kms:GenerateDataKey*": "Encrypts task-token messages with the solution key (that key only).",
            "Action::kms:ReEncrypt*": "Encrypts task-token messages with the solution key (that key only).",
            f"Resource::{nag_evidence(stack, cdk.Fn.join('', [self.resolve_fn.function_arn, ':*']))}": _VERSIONS,
            f"Resource::{nag_evidence(stack, cdk.Fn.join('', [self.notify_fn.function_arn, ':*']))}": _VERSIONS,
            "Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:" + fn_if + ":*": _VERSIONS,
        }
        for rule, reason in evidence.items():
            cdk.Validations.of(machine.role).acknowledge(
                cdk.Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[{rule}]", reason=reason)
            )
