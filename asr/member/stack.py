"""Member stack (``automated-security-response-member.template``).

Deployed in every account and Region where findings are remediated (a
self-managed StackSet: it has nested stacks). Composes the remediation key, the
parameters remediations read, the optional Redshift audit-log bucket, the
remediation-runbooks nested stack, one playbook member nested stack (or several
parts) per standard, and the optional Action Log nested stack.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from asr import solution
from asr.cdk_common import Distribution, SolutionStack, acknowledge
from asr.member.runbooks import runbook_parts as runbook_parts_of
from asr.member.runbooks import uses_namespace
from asr.playbooks.data import Standard


class MemberStack(SolutionStack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str = solution.MEMBER_STACK,
        *,
        dist: Distribution,
        standards: list[Standard],
        member_parts: dict[str, int],
        runbook_parts: int = 1,
    ) -> None:
        """``member_parts``: standard key -> number of member templates it was split into;
        ``runbook_parts``: number of remediation-runbooks templates."""
        super().__init__(
            scope, construct_id, dist=dist, description=solution.stack_description(solution.MEMBER_STACK, dist.version)
        )
        log_group = self.parameter(
            "LogGroupName",
            description=(
                "Name of the CloudWatch Logs log group where CloudTrail delivers this account's API calls. "
                "Metric-filter remediations (CloudWatch.1-14, CIS 3.x/4.x, PCI.CW.1) create their filters on it."
            ),
            label="Provide the name of the LogGroup to be used to create Metric Filters and Alarms",
            allowed_pattern=r"^[.\-_/#A-Za-z0-9]{1,512}$",
            constraint_description="A CloudWatch Logs log group name: 1-512 of a-z A-Z 0-9 . - _ / #",
        )
        load = {
            std.key: self.yes_no(
                solution.load_member_parameter(std.key),
                default="yes" if std.key == "SC" else "no",
                description=(
                    f"Specify whether to install the member components for automated remediation of {std.key} controls."
                ),
            )
            for std in standards
        }
        redshift_bucket = self.yes_no(
            "CreateS3BucketForRedshiftAuditLogging",
            default="no",
            description="yes: create the S3 bucket the Redshift.4 remediation sends audit logs to.",
        )
        admin_account = self.admin_account_parameter()
        namespace = self.namespace_parameter()
        action_log = self.yes_no(
            "EnableCloudTrailForASRActionLog",
            default="no",
            description=(
                "yes: create a CloudTrail trail in this account that records the management events made by the "
                "solution's remediations and sends them to the admin account's Action Log. Needs AWS Organizations."
            ),
        )
        # docs/action-log.md: the trail records every Region, so one Action Log stack per account suffices
        action_log_region = self.parameter(
            "ActionLogRegion",
            default="",
            allowed_pattern=r"^$|^[a-z]{2,4}(?:-[a-z]+)+-[0-9]{1,2}$",
            constraint_description="Empty, or a Region code such as us-east-1.",
            description=(
                "Optional. Region of the admin stack (its Action Log log group). When set, the Action Log "
                "(EnableCloudTrailForASRActionLog=yes) is created only in that Region of this account: its trail "
                "records every Region and its processor writes to the log group in its own Region. Empty: created "
                "in every Region where this stack says yes (the admin stack must then be in the same Region)."
            ),
        )

        key_mode = self.parameter(
            solution.KEY_MODE_PARAMETER,
            default=solution.KEY_MODE_NONE,
            allowed_values=solution.KEY_MODES,
            description=(
                "Where the KMS key that remediations encrypt with comes from. None (default): no customer managed "
                "key; remediations use AWS managed or service-owned encryption where the control accepts it and "
                "CloudTrail.2 is refused, naming this parameter. Existing: the key named by RemediationKeyArn "
                "(e.g. the organization key of the org-key stack). PerStack: one key in this account and Region "
                "(the reference's SO0111-SHARR-Remediation-Key, 1 USD a month; retained if you switch away). "
                "See docs/encryption.md."
            ),
            label="Remediation key: None, Existing or PerStack",
        )
        key_arn = self.parameter(
            solution.KEY_ARN_PARAMETER,
            default="",
            allowed_pattern=solution.KEY_ARN_PARAMETER_PATTERN,
            constraint_description=(
                "Empty, or the ARN of a KMS key or alias, e.g. arn:aws:kms:{region}:111122223333:alias/"
                f"{solution.ORG_KMS_ALIAS} (the Region field is replaced by this stack's Region)."
            ),
            description=(
                "Only with RemediationKeyMode Existing: ARN of the KMS key or alias remediations encrypt with. "
                "Its Region field (write {region}) is replaced by this stack's Region, so one StackSet value "
                "names the key of each Region. Its key policy must admit this account's "
                "remediation roles and the services that use it (docs/encryption.md)."
            ),
        )

        self.parameter_group("LogGroup Configuration", [log_group])
        self.parameter_group("Consolidated control finding Playbook", [load["SC"]])
        self.parameter_group("Security Standard Playbooks", [load[k] for k in sorted(load) if k != "SC"])
        self.parameter_group(
            "Configuration", [redshift_bucket, admin_account, namespace, action_log, action_log_region]
        )
        self.parameter_group("Remediation encryption key", [key_mode, key_arn])

        load_cond = {k: self.equals(solution.load_condition(k), p, "yes") for k, p in load.items()}
        redshift_cond = self.equals("EnableS3BucketForRedShift4", redshift_bucket, "yes")
        cloudtrail_cond = self.condition(
            "CloudTrailCondition",
            cdk.Fn.condition_and(
                cdk.Fn.condition_equals(action_log.value_as_string, "yes"),
                cdk.Fn.condition_or(
                    cdk.Fn.condition_equals(action_log_region.value_as_string, ""),
                    cdk.Fn.condition_equals(action_log_region.value_as_string, cdk.Aws.REGION),
                ),
            ),
        )

        self._remediation_key_parameter(key_mode, key_arn)
        self.ssm_parameter(
            "MemberVersion", solution.SSM_MEMBER_VERSION, dist.version, "Solution version of the member stack."
        )
        self.ssm_parameter(
            "MetricsLogGroupName",
            solution.SSM_METRICS_LOG_GROUP_NAME,
            log_group.value_as_string,
            "CloudTrail log group the metric-filter remediations use.",
        )
        self.ssm_parameter(
            "S34KmsKeyAlias",
            solution.SSM_S3_4_KMS_KEY_ALIAS,
            solution.S3_4_DEFAULT_KMS_ALIAS,
            f"KMS alias S3.4 encrypts buckets with; '{solution.S3_4_DEFAULT_KMS_ALIAS}' means SSE-S3 (AES256).",
        )
        self._redshift_audit_bucket(redshift_cond)

        common = {"SecHubAdminAccount": admin_account.value_as_string, "Namespace": namespace.value_as_string}
        ordered: list[tuple[cdk.CfnStack, cdk.CfnCondition | None]] = []
        parts = runbook_parts_of()
        if len(parts) != runbook_parts:
            raise ValueError(f"runbook_parts {runbook_parts}: the runbooks are planned in {len(parts)} parts")
        for part, names in enumerate(parts):
            runbooks = self.nested(
                solution.runbook_stack_id(part),
                solution.runbook_template(part),
                {"Namespace": namespace.value_as_string} if uses_namespace(names) else None,
            )
            ordered.append((runbooks, None))
        for std in standards:
            for part in range(member_parts.get(std.key, 1)):
                nested = self.nested(
                    solution.playbook_member_stack_id(std.key, part),
                    solution.playbook_member_template(std.key, part),
                    common,
                    condition=load_cond[std.key],
                )
                ordered.append((nested, load_cond[std.key]))
        cloudtrail = self.nested(
            solution.MEMBER_CLOUDTRAIL_STACK,
            solution.TEMPLATE_FILES[solution.MEMBER_CLOUDTRAIL_STACK],
            {
                "Namespace": namespace.value_as_string,
                "CloudTrailLogGroupName": solution.ACTION_LOG_GROUP,
                "LogWriterRoleArn": cdk.Fn.join(
                    "",
                    [
                        "arn:",
                        cdk.Aws.PARTITION,
                        ":iam::",
                        admin_account.value_as_string,
                        f":role/{solution.CROSS_ACCOUNT_LOG_WRITER_ROLE}",
                    ],
                ),
            },
            condition=cloudtrail_cond,
        )
        ordered.append((cloudtrail, cloudtrail_cond))
        self._serialize(ordered)

    def _serialize(self, ordered: list[tuple[cdk.CfnStack, cdk.CfnCondition | None]]) -> None:
        """Create the nested stacks one after another so their SSM documents do not
        hit CreateDocument throttling together.

        A resource cannot depend on a conditional resource that is not created, so
        each conditional stack is followed by an (always created) gate handle whose
        metadata refers to the stack only when its condition holds.
        """
        previous: cdk.CfnResource | None = None
        for index, (stack, cond) in enumerate(ordered):
            if previous is not None:
                stack.add_resource_dependency(previous)
            if cond is None:
                previous = stack
                continue
            gate = cdk.CfnWaitConditionHandle(self, f"Gate{index}")
            gate.cfn_options.metadata = {"Follows": cdk.Fn.condition_if(cond.logical_id, stack.ref, cdk.Aws.NO_VALUE)}
            if previous is not None:
                gate.add_resource_dependency(previous)
            previous = gate

    def _remediation_key_parameter(self, mode: cdk.CfnParameter, given: cdk.CfnParameter) -> None:
        """``/Solutions/SO0111/CMK_REMEDIATION_ARN`` for PerStack (the stack's key) and Existing (the given
        key); absent for None, which remediations read as "no customer managed key".

        The key, its alias and the parameter keep the reference's logical ids, so an in-place update of a
        reference stack with RemediationKeyMode=PerStack keeps the same key (docs/encryption.md).
        """
        per_stack = self.equals(solution.KEY_MODE_PER_STACK_CONDITION, mode, solution.KEY_MODE_PER_STACK)
        existing = self.equals(solution.KEY_MODE_EXISTING_CONDITION, mode, solution.KEY_MODE_EXISTING)
        has_key = self.condition(solution.KEY_MODE_HAS_KEY_CONDITION, cdk.Fn.condition_or(per_stack, existing))
        cdk.CfnRule(
            self,
            "ExistingKeyNeedsArn",
            rule_condition=cdk.Fn.condition_equals(mode.value_as_string, solution.KEY_MODE_EXISTING),
            assertions=[
                cdk.CfnRuleAssertion(
                    assert_=cdk.Fn.condition_not(cdk.Fn.condition_equals(given.value_as_string, "")),
                    assert_description=(
                        "RemediationKeyMode Existing needs RemediationKeyArn: the ARN of a KMS key or alias."
                    ),
                )
            ],
        )
        cdk.CfnRule(
            self,
            "KeyArnOnlyWithExisting",
            rule_condition=cdk.Fn.condition_not(
                cdk.Fn.condition_equals(mode.value_as_string, solution.KEY_MODE_EXISTING)
            ),
            assertions=[
                cdk.CfnRuleAssertion(
                    assert_=cdk.Fn.condition_equals(given.value_as_string, ""),
                    assert_description=(
                        "RemediationKeyArn is used only with RemediationKeyMode Existing: set the mode to Existing "
                        "or leave RemediationKeyArn empty."
                    ),
                )
            ],
        )
        key = self._remediation_key()
        for child in key.node.find_all():
            if isinstance(child, cdk.CfnResource):
                child.cfn_options.condition = per_stack
        # The Region field of the given ARN is this stack's (written {region}, or any Region): one StackSet
        # value names the key of each Region. The padding keeps Fn::Select in range for an empty value.
        parts = cdk.Fn.split(":", cdk.Fn.join("", [given.value_as_string, ":::::"]))
        given_here = cdk.Fn.join(
            ":",
            [*(cdk.Fn.select(i, parts) for i in range(3)), cdk.Aws.REGION, *(cdk.Fn.select(i, parts) for i in (4, 5))],
        )
        param = self.ssm_parameter(
            solution.KEY_PARAMETER_LOGICAL_ID,
            solution.SSM_CMK_REMEDIATION_ARN,
            cdk.Token.as_string(cdk.Fn.condition_if(per_stack.logical_id, key.key_arn, given_here)),
            "KMS key remediations encrypt with (RemediationKeyMode PerStack or Existing).",
        )
        param.cfn_options.condition = has_key

    def _remediation_key(self) -> kms.Key:
        """The reference's per-stack key (RemediationKeyMode=PerStack): never deleted by the stack, on
        removal, replacement or a change of mode (DeletionPolicy and UpdateReplacePolicy Retain)."""
        key = kms.Key(
            self,
            "SHARRRemediationKey",
            enable_key_rotation=True,
            alias=solution.MEMBER_KMS_ALIAS,
            description="Automated Security Response on AWS: key that remediations encrypt resources with.",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        cfn_key = key.node.default_child
        assert isinstance(cfn_key, kms.CfnKey)
        cfn_key.override_logical_id(solution.MEMBER_KEY_LOGICAL_ID)
        alias = key.node.find_child("Alias").node.default_child
        assert isinstance(alias, kms.CfnAlias)
        alias.override_logical_id(solution.MEMBER_KEY_ALIAS_LOGICAL_ID)
        services = [
            "sns.amazonaws.com",
            "s3.amazonaws.com",
            f"logs.{cdk.Aws.URL_SUFFIX}",
            f"logs.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}",
            f"cloudtrail.{cdk.Aws.URL_SUFFIX}",
            "cloudwatch.amazonaws.com",
        ]
        key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                principals=[iam.ServicePrincipal(s) for s in services],
                resources=["*"],
            )
        )
        return key

    def _redshift_audit_bucket(self, condition: cdk.CfnCondition) -> None:
        bucket = s3.Bucket(
            self,
            "S3BucketForRedShiftAuditLogging",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            versioned=True,
            enforce_ssl=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("redshift.amazonaws.com")],
                actions=["s3:GetBucketAcl", "s3:PutObject"],
                resources=[bucket.bucket_arn, bucket.arn_for_objects("*")],
            )
        )
        param = self.ssm_parameter(
            "RedshiftAuditBucketName",
            solution.SSM_REDSHIFT_4_BUCKET,
            bucket.bucket_name,
            "Bucket the Redshift.4 remediation sends audit logs to.",
        )
        for child in [*bucket.node.find_all(), param]:
            if isinstance(child, cdk.CfnResource):
                child.cfn_options.condition = condition
        acknowledge(
            bucket,
            S1=(
                "This bucket receives Redshift audit logs; logging its own access would need a second bucket "
                "per account and Region for a log-only bucket."
            ),
        )
