"""The orchestrator: state machine ``SO0111-ASR-Orchestrator``, its Lambda functions,
the scheduling queue and table, and the role ``SO0111-ASR-Orchestrator-Admin``.

The execution first checks the event (Event Has Findings?); per finding (Map item) the happy path
is then six states:

    Resolve Target -> Ready to Remediate? -> Schedule and Run Remediation (SQS task
    token; the worker schedules, starts and polls) -> Ticket Requested? -> Remediation Complete

Status polls are SQS re-deliveries with a growing delay handled by the worker: they
cost no state transitions. See docs/orchestrator.md.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from asr import solution
from asr.cdk_common import LAMBDA_RUNTIME, SolutionStack, acknowledge, acknowledge_wildcards, nag_evidence
from lambdas.orchestrator import payload

HANDLERS = "lambdas.orchestrator"
_VERSIONS = "Invocation of the function's versions and aliases (CDK's grant for a Lambda task)."
TASK_TIMEOUT = cdk.Duration.minutes(5)
#: The remediation task times out (and its Catch notifies) before the execution's own 90-minute
#: timeout could end the execution without a notification: the longest path also holds resolve,
#: the ticket, its notification and the fallback (5 minutes each), plus a margin.
REMEDIATION_TIMEOUT = cdk.Duration.minutes(solution.ORCHESTRATOR_TIMEOUT_MINUTES - 25)
#: What a policy retry leaves for its own run: it must be due at least this long before the
#: remediation task's timeout (the worker's RETRY_WINDOW_SECONDS, docs/policy.md).
RETRY_RUN_TIME = cdk.Duration.minutes(15)
#: Findings larger than payload.INLINE_FINDING_BYTES wait here for the worker; Standard executions
#: last at most 90 minutes (the scheduling job 7 days): a few days is enough, and nothing stays.
FINDINGS_EXPIRY = cdk.Duration.days(3)
#: Errors of a Lambda task worth retrying: Lambda's own transient failures
#: (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html).
LAMBDA_TRANSIENT = [
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
#: Errors of the SQS SendMessage integration worth retrying (the service's own failures, named
#: <service>.<exception> by Step Functions; the worker's answers ASR.* are never retried).
SQS_TRANSIENT = ["SQS.SdkClientException", "SQS.AmazonSQSException", "SQS.KmsThrottledException"]


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
        history_retention_days: str = str(solution.HISTORY_RETENTION_DEFAULT_DAYS),
        policy_bucket: str = "",
        policy_key: str = "",
        policy_on: cdk.CfnCondition | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack: SolutionStack = cdk.Stack.of(self)  # type: ignore[assignment]
        self.dead_letters = sqs.Queue(
            self,
            "deadLetterSchedulingQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            # One data key per 24 hours instead of per 5 minutes: fewer KMS requests (docs/encryption.md,
            # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html).
            data_key_reuse=cdk.Duration.hours(24),
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        acknowledge(self.dead_letters, SQS3="This is the dead-letter queue of the scheduling queue.")
        self.queue = sqs.Queue(
            self,
            "SchedulingQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            data_key_reuse=cdk.Duration.hours(24),  # KMS requests, as above
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
        self.history_table = self._history_table(key)
        self.findings_bucket = self._findings_bucket(key)
        self.role = self._admin_role(stack, key, topic)
        self._restrict_findings_bucket()

        self._code = stack.lambda_code("orchestrator.zip")
        common_env = {
            "SNS_TOPIC_ARN": topic.topic_arn,
            "ENHANCED_METRICS": enhanced_metrics,
            # every final notification records its attempt (lambdas/orchestrator/history.py)
            solution.HISTORY_TABLE_ENV: self.history_table.table_name,
            solution.HISTORY_RETENTION_ENV: history_retention_days,
        }
        self.resolve_fn = self._function(
            stack,
            "checkSSMDocumentState",
            solution.RESOLVE_FUNCTION,
            "resolve",
            "Resolves a finding to its control runbook, account, Region and role; notifies final outcomes.",
            {
                **common_env,
                payload.BUCKET_ENV: self.findings_bucket.bucket_name,
                "WORKFLOW_RUNBOOK": "",
                "WORKFLOW_RUNBOOK_ACCOUNT": "member",
                "WORKFLOW_RUNBOOK_ROLE": "",
                # the remediation policy (blank: none), lambdas/orchestrator/enforce.py
                solution.POLICY_BUCKET_ENV: policy_bucket,
                solution.POLICY_KEY_ENV: policy_key,
            },
            timeout=cdk.Duration.seconds(60),
        )
        if policy_on is not None:
            self._policy_read(stack, policy_bucket, policy_key, policy_on)
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
                payload.BUCKET_ENV: self.findings_bucket.bucket_name,
                "REMEDIATION_WAIT_SECONDS": str(solution.REMEDIATION_WAIT_SECONDS),
                "POLL_INITIAL_SECONDS": "15",
                "POLL_BACKOFF_RATE": "2",
                "POLL_MAX_SECONDS": "120",
                "START_LEASE_SECONDS": "120",
                # a policy retry must be due this long after the execution's start (worker.py)
                "RETRY_WINDOW_SECONDS": str(int(REMEDIATION_TIMEOUT.to_seconds() - RETRY_RUN_TIME.to_seconds())),
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
        # Exactly PutItem (a conditional put: a redelivery never writes twice). The three functions share
        # the role, and all three send final notifications; the role's inline policy already holds the
        # solution key's kms:Encrypt/Decrypt/GenerateDataKey the table's encryption needs.
        # (Table.grant would add <table>/index/*: PutItem never writes an index, so the table only.)
        iam.Grant.add_to_principal(
            grantee=self.notify_fn, actions=["dynamodb:PutItem"], resource_arns=[self.history_table.table_arn]
        )
        if policy_on is not None:  # the policy's deadline escalation (lambdas/orchestrator/deadline.py)
            self._deadlines(stack, key, common_env, policy_on)
        ticket_name = cdk.Fn.condition_if(
            ticketing_on.logical_id, ticket_function_name, solution.NO_TICKET_FUNCTION
        ).to_string()
        self.ticket_function_arn = _arn(stack, "lambda", f"function:{ticket_name}")
        self.state_machine = self._state_machine(stack, key, topic)

    def _policy_read(self, stack: cdk.Stack, bucket: str, key: str, policy_on: cdk.CfnCondition) -> None:
        """What enforcing a policy reads, only when a policy is configured.

        s3:GetObject on the one compiled policy object: authorized on the object's ARN
        arn:${Partition}:s3:::${BucketName}/${ObjectName}
        (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html); the
        orchestrator reads the latest version, so no s3:GetObjectVersion.

        organizations:ListParents, for OU scopes (lambdas/orchestrator/enforce.py): authorized on the
        child's ARN, arn:${Partition}:organizations::${Account}:account/o-${OrganizationId}/${AccountId}
        or .../ou/o-${OrganizationId}/ou-${OrganizationalUnitId}, where ${Account} is the management
        account (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsorganizations.html).
        The stack knows neither the management account nor the organization, and the walk reads every
        member account and OU: no narrower resource than "*" exists."""
        read = iam.Policy(
            self,
            "RemediationPolicyRead",
            statements=[
                iam.PolicyStatement(
                    actions=["s3:GetObject"],
                    resources=[f"arn:{cdk.Aws.PARTITION}:s3:::{bucket}/{key}{solution.POLICY_COMPILED_SUFFIX}"],
                )
            ],
            roles=[self.role],
        )
        read.node.default_child.cfn_options.condition = policy_on
        ous = [{"Effect": "Allow", "Action": "organizations:ListParents", "Resource": "*"}]
        ou_read = iam.Policy(
            self,
            "RemediationPolicyOuLookup",
            document=iam.PolicyDocument.from_json({"Version": "2012-10-17", "Statement": ous}),
            roles=[self.role],
        )
        ou_read.node.default_child.cfn_options.condition = policy_on
        acknowledge_wildcards(
            ou_read,
            ous,
            "organizations:ListParents walks every member account and OU of an organization whose id and "
            "management account the stack does not know (their ARNs carry both).",
        )

    # --- remediation history ---------------------------------------------------------

    def _history_table(self, key: kms.IKey) -> dynamodb.Table:
        """Every remediation attempt (docs/history.md): key RecordId (one attempt, written once), index
        ByControl (ControlId, FinishedAt) for the common query, ByDay (FinishedDay, FinishedAt) for a
        time range across controls; the solution key, point-in-time recovery, TTL ExpiresAt."""
        table = dynamodb.Table(
            self,
            "RemediationHistory",
            table_name=solution.HISTORY_TABLE,
            partition_key=dynamodb.Attribute(name=solution.HISTORY_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=solution.HISTORY_TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            removal_policy=cdk.RemovalPolicy.RETAIN,  # an audit record outlives the stack
        )
        for index, partition in (
            (solution.HISTORY_BY_CONTROL_INDEX, "ControlId"),
            (solution.HISTORY_BY_DAY_INDEX, "FinishedDay"),
        ):
            table.add_global_secondary_index(
                index_name=index,
                partition_key=dynamodb.Attribute(name=partition, type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name="FinishedAt", type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL,
            )
        return table

    # --- remediation deadlines (lambdas/orchestrator/deadline.py) ------------------------

    def _deadlines(
        self, stack: SolutionStack, key: kms.IKey, common_env: dict[str, str], policy_on: cdk.CfnCondition
    ) -> None:
        """The policy's deadline escalation (docs/policy.md, "Deadlines"), only when a policy is
        configured (condition ``policy_on``): table ``SO0111-ASR-RemediationDeadlines``, function
        ``SO0111-ASR-DeadlineSweep`` and the EventBridge rule that runs it every 15 minutes.

        The table holds operational state (the history keeps the audit record of each attempt, the
        topic the escalation): it is deleted with the condition (RemovalPolicy DESTROY, no deletion
        protection), since a retained table would make turning the policy on again fail on its name.
        The sweep runs as the orchestrator role, which has what ``notifications.send`` needs; the
        grants the deadlines add are one conditional policy on that role, exactly: PutItem (resolve
        starts the clock) and UpdateItem (the sweep closes or escalates) on the table, Query on the
        index ``Pending`` (a Query of an index is authorized on the index's ARN:
        https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/iam-policy-specific-table-indexes.html),
        and securityhub:GetFindings on the hub (resource type hub, arn:${Partition}:securityhub:
        ${Region}:${Account}:hub/default:
        https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecurityhub.html).
        """
        table = dynamodb.Table(
            self,
            "RemediationDeadlines",
            table_name=solution.DEADLINE_TABLE,
            partition_key=dynamodb.Attribute(name=solution.DEADLINE_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=solution.DEADLINE_TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        # Sparse: only pending items carry the partition attribute (lambdas/orchestrator/deadline.py).
        table.add_global_secondary_index(
            index_name=solution.DEADLINE_PENDING_INDEX,
            partition_key=dynamodb.Attribute(name="Pending", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="DueAt", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        table_env = cdk.Fn.condition_if(policy_on.logical_id, table.table_name, "").to_string()
        self.resolve_fn.add_environment(solution.DEADLINE_TABLE_ENV, table_env)
        sweep = self._function(
            stack,
            "deadlineSweep",
            solution.DEADLINE_SWEEP_FUNCTION,
            "deadline",
            "Escalates findings still open after the remediation policy's deadline (SNS); closes resolved ones.",
            {**common_env, solution.DEADLINE_TABLE_ENV: table.table_name},  # the function exists only with it
            timeout=cdk.Duration.minutes(5),
        )
        sweep.node.default_child.reserved_concurrent_executions = 1  # one sweep at a time
        # Every 15 minutes: a rate expression
        # (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html).
        rule = events.Rule(
            self,
            "DeadlineSweepSchedule",
            rule_name=solution.DEADLINE_SWEEP_RULE,
            description="Runs the remediation policy's deadline sweep (docs/policy.md, Deadlines).",
            schedule=events.Schedule.rate(cdk.Duration.minutes(solution.DEADLINE_SWEEP_MINUTES)),
            targets=[targets.LambdaFunction(sweep)],
        )
        table_arn = table.table_arn
        access = iam.Policy(
            self,
            "RemediationDeadlineAccess",
            statements=[
                iam.PolicyStatement(actions=["dynamodb:PutItem", "dynamodb:UpdateItem"], resources=[table_arn]),
                iam.PolicyStatement(
                    actions=["dynamodb:Query"], resources=[f"{table_arn}/index/{solution.DEADLINE_PENDING_INDEX}"]
                ),
                iam.PolicyStatement(
                    actions=["securityhub:GetFindings"],
                    resources=[_arn(stack, "securityhub", "hub/default")],
                ),
            ],
            roles=[self.role],
        )
        for construct in (table, sweep, rule, access):
            for child in construct.node.find_all():
                if isinstance(child, cdk.CfnResource):
                    child.cfn_options.condition = policy_on
        self.deadline_table, self.deadline_sweep_fn = table, sweep

    # --- findings too large for the state machine's payload ---------------------------

    def _findings_bucket(self, key: kms.IKey) -> s3.Bucket:
        """Findings above payload.INLINE_FINDING_BYTES, by reference (lambdas/orchestrator/payload.py)."""
        bucket = s3.Bucket(
            self,
            "FindingsBucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=FINDINGS_EXPIRY, abort_incomplete_multipart_upload_after=cdk.Duration.days(1)
                )
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            bucket,
            S1="Holds findings for a few days, only for the orchestrator's own role (the bucket policy denies "
            "everyone else); access logging would need a second bucket for a transient store.",
        )
        return bucket

    def _restrict_findings_bucket(self) -> None:
        """Only the orchestrator functions' role reads or writes objects (identity policies elsewhere
        cannot widen it): an explicit Deny for every other principal."""
        self.findings_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:GetObject", "s3:PutObject"],
                resources=[self.findings_bucket.arn_for_objects("*")],
                conditions={"ArnNotEquals": {"aws:PrincipalArn": self.role.role_arn}},
            )
        )

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
                # resolve writes a finding too large for the state machine's payload, the worker reads it back
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:GetObject"],
                "Resource": self.findings_bucket.arn_for_objects(f"{payload.KEY_PREFIX}*"),
            },
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

    def _state_machine(self, stack: cdk.Stack, key: kms.IKey, topic: sns.ITopic) -> sfn.StateMachine:
        """Every Task retries its transient errors and catches the rest; every Catch leads to a
        notification; a notification that still fails falls back to a fixed-size SNS message
        published by the state machine itself, and only when that fails too does the item end in
        ``Notification Failed`` (the execution FAILS: never a silent end). Proven by walking the
        synthesized definition (tests/orchestrator/test_state_machine.py)."""

        def fallback_chain(prefix: str = "") -> tasks.SnsPublish:
            """The fallback message and its Fail state; one per graph (a state belongs to one graph:
            the Map's items, or the event check before it)."""
            fallback = tasks.SnsPublish(
                self,
                f"{prefix}Notify Fallback",
                comment="The notifier failed: a minimal message of bounded size that cannot fail to encode.",
                topic=topic,
                message=sfn.TaskInput.from_object(
                    {
                        "Remediation_Status": "LAMBDA_ERROR",
                        "Severity": "ERROR",
                        "remediation_status": "LAMBDA_ERROR",
                        "severity": "ERROR",
                        "message": sfn.JsonPath.format(
                            "ASR could not send the notification of a finding in execution {}: "
                            "see the execution history and the logs of the orchestrator functions.",
                            sfn.JsonPath.execution_id,
                        ),
                        "execution": sfn.JsonPath.execution_id,
                    }
                ),
                message_attributes={
                    "remediation_status": tasks.MessageAttribute(value="LAMBDA_ERROR"),
                    "severity": tasks.MessageAttribute(value="ERROR"),
                },
                result_path=sfn.JsonPath.DISCARD,
                task_timeout=sfn.Timeout.duration(TASK_TIMEOUT),
            )
            fallback.add_retry(
                errors=[sfn.Errors.ALL], interval=cdk.Duration.seconds(2), max_attempts=3, backoff_rate=2
            )
            fallback.add_catch(
                sfn.Fail(
                    self,
                    f"{prefix}Notification Failed",
                    comment="Neither the notifier nor the fallback message could be sent: the execution fails.",
                    error="ASR.NotificationFailed",
                    cause="The notification and its fallback both failed: see the execution history.",
                ),
                errors=[sfn.Errors.ALL],
                result_path="$.NotifyError",
            )

            return fallback

        fallback = fallback_chain()

        def notifier(name: str, fallback: tasks.SnsPublish = fallback) -> tasks.LambdaInvoke:
            task = tasks.LambdaInvoke(
                self,
                name,
                lambda_function=self.notify_fn,
                # the state, and the execution the history record names (lambdas/orchestrator/notify.py)
                payload=sfn.TaskInput.from_object(
                    {
                        "State": sfn.JsonPath.entire_payload,
                        "ExecutionArn": sfn.JsonPath.execution_id,
                        "ExecutionStartTime": sfn.JsonPath.execution_start_time,
                    }
                ),
                payload_response_only=True,
                retry_on_service_exceptions=False,
                result_path=sfn.JsonPath.DISCARD,
                task_timeout=sfn.Timeout.duration(TASK_TIMEOUT),
            )
            # any failure, not only Lambda's own: a notification is worth a second try
            task.add_retry(errors=[sfn.Errors.ALL], interval=cdk.Duration.seconds(2), max_attempts=3, backoff_rate=2)
            task.add_catch(fallback, errors=[sfn.Errors.ALL], result_path="$.NotifyError")
            return task

        notify_failure = notifier("Notify Orchestrator Failure")
        resolve = tasks.LambdaInvoke(
            self,
            "Resolve Target",
            comment="Finding -> control runbook, account, Region, role; or a final outcome (already notified).",
            lambda_function=self.resolve_fn,
            # the item, and the execution a history record of an outcome decided here names (notify.py's)
            payload=sfn.TaskInput.from_object(
                {
                    "State": sfn.JsonPath.entire_payload,
                    "ExecutionArn": sfn.JsonPath.execution_id,
                    "ExecutionStartTime": sfn.JsonPath.execution_start_time,
                }
            ),
            payload_response_only=True,
            retry_on_service_exceptions=False,
            task_timeout=sfn.Timeout.duration(TASK_TIMEOUT),
        )
        resolve.add_retry(errors=LAMBDA_TRANSIENT, interval=cdk.Duration.seconds(2), max_attempts=3, backoff_rate=2)
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
                    "ExecutionStartTime": sfn.JsonPath.execution_start_time,
                    "Job": sfn.JsonPath.entire_payload,
                }
            ),
            task_timeout=sfn.Timeout.duration(REMEDIATION_TIMEOUT),
        )
        remediate.add_retry(errors=SQS_TRANSIENT, interval=cdk.Duration.seconds(2), max_attempts=3, backoff_rate=2)
        remediate.add_catch(notify_failure, errors=[sfn.Errors.ALL], result_path="$.Error")
        notify_ticket = notifier("Send Ticket Notification")
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
            retry_on_service_exceptions=False,
            task_timeout=sfn.Timeout.duration(TASK_TIMEOUT),
        )
        ticket.add_retry(errors=LAMBDA_TRANSIENT, interval=cdk.Duration.seconds(2), max_attempts=3, backoff_rate=2)
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
        start = self._event_contract(process, notifier("Notify Bad Event", fallback_chain("Bad Event ")))
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
            definition_body=sfn.DefinitionBody.from_chainable(start),
            timeout=cdk.Duration.minutes(solution.ORCHESTRATOR_TIMEOUT_MINUTES),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            comment="Automated Security Response on AWS: remediates Security Hub findings (see docs/orchestrator.md).",
        )
        machine.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        key.grant_encrypt_decrypt(machine.role)
        self._acknowledge_state_machine_role(stack, machine)
        return machine

    def _event_contract(self, process: sfn.Map, notify_bad_event: tasks.LambdaInvoke) -> sfn.Choice:
        """The fields the Map reads, checked before it reads them: a path that is missing is a
        States.Runtime error, which no Retry or Catch on States.ALL handles -- the execution would end
        FAILED with no notification
        (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
        A missing ``detail-type`` or ``detail.findings`` is notified as ASR.BadEvent naming the field; a
        missing ``detail.actionName`` (an Imported event from a rule without the AutoTrigger rules'
        input transformer) becomes "None", as those rules set it."""
        present = sfn.Condition.is_present
        errors = {
            "detail-type": "event field detail-type is missing: not an EventBridge event from Security Hub",
            "detail.findings": "event field detail.findings is missing: the event carries no findings",
        }
        check = sfn.Choice(self, "Event Has Findings?", comment="The fields Process Findings reads.")
        for path, cause in errors.items():
            bad = sfn.Pass(
                self,
                f"Missing {path}",
                result=sfn.Result.from_object({"Error": "ASR.BadEvent", "Cause": cause}),
                result_path="$.Error",
            )
            check.when(sfn.Condition.not_(present(f"$.{path}")), bad.next(notify_bad_event))
        defaults = sfn.Pass(
            self,
            "Default Action Name",
            comment='Imported events without actionName: "None", as the AutoTrigger rules set it.',
            parameters={
                "detail-type": sfn.JsonPath.string_at("$.detail-type"),
                "detail": sfn.JsonPath.json_merge(
                    sfn.JsonPath.object_at("$.detail"), sfn.JsonPath.string_to_json('{"actionName":"None"}')
                ),
            },
        )
        check.when(sfn.Condition.not_(present("$.detail.actionName")), defaults.next(process))
        return check.otherwise(process)

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
