"""Admin stack (``automated-security-response-admin.template``).

Deployed once, in the Security Hub delegated-admin account and the finding
aggregation Region. Composes the solution key and topic, the parameters the
orchestrator reads, the orchestrator log nested stack, the orchestrator
(``asr/admin/orchestrator.py``), the Security Hub custom actions and their rules
(``asr/admin/custom_actions.py``) and one playbook admin nested stack per standard.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from asr import solution
from asr.admin.action_log import ActionLog
from asr.admin.custom_actions import CustomActions
from asr.admin.dashboard import MetricsDashboard
from asr.admin.orchestrator import Orchestrator
from asr.cdk_common import Distribution, SolutionStack
from asr.playbooks.data import Standard

_SC_WARNING = (
    " If the consolidated control findings feature is turned on in Security Hub, "
    "enable only the SC playbook: findings then carry security-control ids and the "
    "standard-specific playbooks would never match them."
)
_METRICS_COST = "Enhanced metrics add one CloudWatch metric and one alarm per control (up to $67.20/month)."


class AdminStack(SolutionStack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str = solution.ADMIN_STACK,
        *,
        dist: Distribution,
        standards: list[Standard],
    ) -> None:
        super().__init__(
            scope, construct_id, dist=dist, description=solution.stack_description(solution.ADMIN_STACK, dist.version)
        )
        self.load_params = {
            std.key: self.yes_no(
                solution.load_admin_parameter(std.key),
                default="yes" if std.key == "SC" else "no",
                description=(
                    f"Specify whether to install the admin components for automated remediation of {std.key} controls."
                    + (_SC_WARNING if std.key == "SC" else "")
                ),
            )
            for std in standards
        }
        reuse_log = self.yes_no(
            "ReuseOrchestratorLogGroup",
            default="no",
            description=(
                f"Reuse an existing {solution.ORCHESTRATOR_LOG_GROUP} CloudWatch Logs log group: choose yes if it "
                "still exists from an earlier deployment in this account and Region, otherwise no. If you are updating "
                "from a version earlier than v2.3.0, choose no."
            ),
        )
        use_metrics = self.yes_no(
            "UseCloudWatchMetrics",
            default="yes",
            description="Enable CloudWatch metrics for the solution, with a CloudWatch dashboard to view them.",
        )
        use_alarms = self.yes_no(
            "UseCloudWatchMetricsAlarms",
            default="yes",
            description="Create CloudWatch alarms on the solution's metrics (only when metrics are enabled).",
        )
        threshold = self.parameter(
            "RemediationFailureAlarmThreshold",
            type="Number",
            default="5",
            min_length=None,
            description=(
                "Percentage of failed remediations per control id per day that raises the per-control alarm "
                "(enhanced metrics and alarms only). 5 alarms when 5% or more of a control's remediations fail."
            ),
        )
        threshold.min_value = 0
        threshold.max_value = 100
        executions_threshold = self.parameter(
            "StateMachineExecutionsAlarmThreshold",
            type="Number",
            default="1000",
            min_length=None,
            description=(
                "Executions of the orchestrator state machine per day that raise the "
                f"{solution.STATE_MACHINE_EXECUTIONS_ALARM} alarm (alarms only): a remediation loop or an "
                "unexpected volume of findings."
            ),
        )
        executions_threshold.min_value = 1
        enhanced = self.yes_no(
            "EnableEnhancedCloudWatchMetrics",
            default="no",
            description=f"Track every control id individually on the dashboard and in alarms. {_METRICS_COST}",
        )
        ticket_fn = self.parameter(
            "TicketGenFunctionName",
            default="",
            allowed_pattern=solution.TICKET_FUNCTION_PATTERN,
            constraint_description="A Lambda function name: 1-64 of a-z A-Z 0-9 - _, or blank.",
            description=(
                "Optional. Name of a ticket-generator Lambda function in this account and Region (for example "
                "the output of a blueprint stack). Blank disables ticketing."
            ),
        )
        target_accounts, target_strategy = self.target_account_parameters()
        history_retention = self.parameter(
            solution.HISTORY_RETENTION_PARAMETER,
            default=str(solution.HISTORY_RETENTION_DEFAULT_DAYS),
            allowed_pattern=solution.HISTORY_RETENTION_PATTERN,
            constraint_description=(
                f"A whole number of days from 1 to {solution.HISTORY_RETENTION_MAX_DAYS}, without leading zeros "
                f"(default {solution.HISTORY_RETENTION_DEFAULT_DAYS})."
            ),
            description=(
                f"Days each remediation attempt stays in the {solution.HISTORY_TABLE} table (asr history) before "
                "DynamoDB's TTL deletes it."
            ),
        )
        policy_bucket = self.parameter(
            solution.POLICY_BUCKET_PARAMETER,
            default="",
            allowed_pattern=solution.POLICY_BUCKET_PATTERN,
            constraint_description="An S3 bucket name (3-63 of a-z 0-9 . -), or blank for no policy.",
            description=(
                "Optional. Bucket of the remediation policy ('asr policy apply', docs/policy.md) in this account. "
                "Blank: no policy, every finding is remediated as configured."
            ),
        )
        policy_key = self.parameter(
            solution.POLICY_KEY_PARAMETER,
            default="",
            allowed_pattern=solution.POLICY_KEY_PATTERN,
            constraint_description="An S3 object key (no leading white space, at most 1015 characters), or blank.",
            description=(
                "Optional. Key of the remediation policy YAML in that bucket (e.g. asr/policy.yaml); the "
                f"orchestrator reads its compiled form <key>{solution.POLICY_COMPILED_SUFFIX}."
            ),
        )

        # Console layout, as in the reference.
        self.parameter_group("Consolidated Control Findings Playbook", [self.load_params["SC"]])
        self.parameter_group(
            "Security Standard Playbooks",
            [self.load_params[k] for k in sorted(self.load_params) if k != "SC"],
        )
        self.parameter_group("Orchestrator Configuration", [reuse_log, history_retention])
        self.parameter_group("CloudWatch Metrics", [use_metrics, use_alarms, executions_threshold])
        self.parameter_group("(Optional) Enhanced CloudWatch Metrics", [enhanced, threshold])
        self.parameter_group("(Optional) Ticketing Service Integration", [ticket_fn])
        self.parameter_group("(Optional) Target accounts", [target_accounts, target_strategy])
        self.parameter_group("(Optional) Remediation policy", [policy_bucket, policy_key])

        # Conditions (names as in the reference).
        metrics_on = self.equals("isUsingCloudWatchMetrics", use_metrics, "yes")
        alarms_on = self.condition(
            "isUsingCloudWatchMetricsAlarms",
            cdk.Fn.condition_and(metrics_on, cdk.Fn.condition_equals(use_alarms.value_as_string, "yes")),
        )
        enhanced_on = self.equals("enhancedMetricsEnabled", enhanced, "yes")
        self.enhanced_alarms_on = self.condition("enhancedAlarmsEnabled", cdk.Fn.condition_and(enhanced_on, alarms_on))
        self.ticketing_on = self.condition(
            "orchestratorTicketingEnabledCondition",
            cdk.Fn.condition_not(cdk.Fn.condition_equals(ticket_fn.value_as_string, "")),
        )
        policy_on = self.condition(
            "remediationPolicyEnabled",
            cdk.Fn.condition_and(
                cdk.Fn.condition_not(cdk.Fn.condition_equals(policy_bucket.value_as_string, "")),
                cdk.Fn.condition_not(cdk.Fn.condition_equals(policy_key.value_as_string, "")),
            ),
        )
        load_conditions = {
            key: self.equals(solution.load_condition(key), p, "yes") for key, p in self.load_params.items()
        }

        metrics_mapping = cdk.CfnMapping(self, "mappings", mapping={"sendAnonymizedMetrics": {"data": "Yes"}})
        self.key = self._solution_key()
        self.topic = sns.Topic(
            self,
            "SNSTopic",
            topic_name=solution.SNS_TOPIC,
            display_name=solution.SNS_TOPIC_DISPLAY_NAME,
            master_key=self.key,
            enforce_ssl=True,
        )
        alarm_topic = sns.Topic(
            self,
            "AlarmTopic",
            topic_name=solution.ALARM_TOPIC,
            display_name=solution.ALARM_TOPIC_DISPLAY_NAME,
            master_key=self.key,
            enforce_ssl=True,
        )
        for child in alarm_topic.node.find_all():
            if isinstance(child, cdk.CfnResource):
                child.cfn_options.condition = alarms_on

        self.ssm_parameter("CMKArn", solution.SSM_CMK_ARN, self.key.key_arn, "KMS key ARN of the solution.")
        self.ssm_parameter(
            "SNSTopicArn", solution.SSM_SNS_TOPIC_ARN, self.topic.topic_arn, "Solution status topic ARN."
        )
        self.ssm_parameter(
            "SendAnonymizedMetrics",
            solution.SSM_SEND_ANONYMIZED_METRICS,
            metrics_mapping.find_in_map("sendAnonymizedMetrics", "data"),
            "Whether anonymized operational metrics are sent (edit the template mapping to opt out).",
        )
        self.ssm_parameter("Version", solution.SSM_VERSION, dist.version, "Solution version of the admin stack.")
        send_cw = self.ssm_parameter(
            "SendCloudwatchMetrics", solution.SSM_SEND_CLOUDWATCH_METRICS, "yes", "Send CloudWatch metrics."
        )
        send_cw.cfn_options.condition = metrics_on

        self.orchestrator_log = self.nested(
            solution.ORCHESTRATOR_LOG_STACK,
            solution.TEMPLATE_FILES[solution.ORCHESTRATOR_LOG_STACK],
            {"KmsKeyArn": self.key.key_arn, "ReuseOrchestratorLogGroup": reuse_log.value_as_string},
        )
        self._action_log_group()
        self.orchestrator = Orchestrator(
            self,
            "Orchestrator",
            key=self.key,
            topic=self.topic,
            enhanced_metrics=enhanced.value_as_string,
            ticket_function_name=ticket_fn.value_as_string,
            ticketing_on=self.ticketing_on,
            history_retention_days=history_retention.value_as_string,
            policy_bucket=policy_bucket.value_as_string,
            policy_key=policy_key.value_as_string,
            policy_on=policy_on,
        )
        machine = self.orchestrator.state_machine
        machine.node.add_dependency(self.orchestrator_log)
        orchestrator_arn = self.ssm_parameter(
            "SHARR_Orchestrator_Arn",
            solution.SSM_ORCHESTRATOR_ARN,
            machine.state_machine_arn,
            "ARN of the orchestrator state machine (targets of the playbooks' AutoTrigger rules).",
        )
        dead_letters = cloudwatch.Alarm(
            self,
            "SchedulingDeadLettersAlarm",
            alarm_name=solution.SCHEDULING_DLQ_ALARM,
            alarm_description=(
                "A remediation job reached the scheduling dead-letter queue: its orchestrator execution waits for "
                "its timeout. See the schedulingLambdaTrigger logs."
            ),
            metric=self.orchestrator.dead_letters.metric_approximate_number_of_messages_visible(
                period=cdk.Duration.minutes(5)
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        dead_letters.add_alarm_action(cloudwatch_actions.SnsAction(alarm_topic))
        dead_letters.node.default_child.cfn_options.condition = alarms_on
        sc_controls = [c.control_id for std in standards if std.key == "SC" for c in std.entries]
        self.metrics_dashboard = MetricsDashboard(
            self,
            "Metrics",
            state_machine=machine,
            alarm_topic=alarm_topic,
            metrics_on=metrics_on,
            alarms_on=alarms_on,
            enhanced_on=enhanced_on,
            enhanced_alarms_on=self.enhanced_alarms_on,
            failure_threshold=threshold,
            executions_threshold=executions_threshold,
            control_ids=sc_controls,
        )
        self.custom_actions = CustomActions(
            self, "CustomActions", state_machine=machine, ticketing_on=self.ticketing_on
        )
        self.playbook_stacks = {
            std.key: self.nested(
                solution.playbook_admin_stack_id(std.key),
                solution.playbook_admin_template(std.key),
                {
                    "TargetAccountIDs": target_accounts.value_as_string,
                    "TargetAccountIDsStrategy": target_strategy.value_as_string,
                },
                condition=load_conditions[std.key],
            )
            for std in standards
        }
        for nested in self.playbook_stacks.values():
            nested.node.add_dependency(machine, orchestrator_arn)

        out = cdk.CfnOutput(
            self,
            "GeneratedTicketingLambdafunctionARN",
            description="ARN of the ticket-generator Lambda function the orchestrator invokes.",
            value=cdk.Arn.format(
                cdk.ArnComponents(
                    service="lambda",
                    resource="function",
                    resource_name=ticket_fn.value_as_string,
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                ),
                self,
            ),
        )
        out.condition = self.ticketing_on

    def _action_log_group(self) -> None:
        """``/aws/lambda/SO0111-ASR-CloudTrailEvents``: the admin Action Log the members' Action Log
        stacks deliver to (the reference's log group, 10 years). Kept, and retained, so that updating a
        reference admin stack in place keeps its history (docs/upgrade.md). The role the members
        write with, trusted by the organization: asr/admin/action_log.py."""
        group = logs.CfnLogGroup(
            self, "CloudTrailEventsLogGroup", log_group_name=solution.ACTION_LOG_GROUP, retention_in_days=3653
        )
        group.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        ActionLog(self, "ActionLog", group=group)

    def _solution_key(self) -> kms.Key:
        key = kms.Key(
            self,
            "SHARR-key",
            enable_key_rotation=True,
            alias=solution.ADMIN_KMS_ALIAS,
            description="Automated Security Response on AWS: encrypts the status topic, queues and log groups.",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        crypto = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=crypto,
                principals=[
                    iam.ServicePrincipal("sns.amazonaws.com"),
                    iam.ServicePrincipal("cloudwatch.amazonaws.com"),
                ],
                resources=["*"],
            )
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=crypto,
                principals=[iam.ServicePrincipal(f"logs.{cdk.Aws.URL_SUFFIX}")],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": cdk.Arn.format(
                            cdk.ArnComponents(
                                service="logs",
                                resource="log-group",
                                resource_name=f"{solution.SOLUTION_ID}-ASR-*",
                                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                            ),
                            self,
                        )
                    }
                },
            )
        )
        return key
