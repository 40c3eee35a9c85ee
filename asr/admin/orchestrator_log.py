"""Orchestrator log nested stack (``automated-security-response-orchestrator-log.template``).

Creates log group ``SO0111-ASR-Orchestrator`` (KMS-encrypted, 10 years, retained)
unless ReuseOrchestratorLogGroup is yes, so a reinstall keeps its history.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from constructs import Construct

from asr import solution
from asr.cdk_common import Distribution, SolutionStack


class OrchestratorLogStack(SolutionStack):
    def __init__(self, scope: Construct, construct_id: str = solution.ORCHESTRATOR_LOG_STACK, *, dist: Distribution):
        super().__init__(
            scope,
            construct_id,
            dist=dist,
            description=solution.stack_description(solution.ORCHESTRATOR_LOG_STACK, dist.version),
        )
        key_arn = self.parameter(
            "KmsKeyArn",
            description="ARN of the admin stack's KMS key, used to encrypt the orchestrator log group.",
            allowed_pattern=r"^arn:(?:aws|aws-cn|aws-us-gov):kms:[a-z]{2}(?:-gov)?-[a-z]+-\d:\d{12}:key/[0-9a-f-]{36}$",
        )
        reuse = self.yes_no(
            "ReuseOrchestratorLogGroup",
            default="no",
            description=f"yes: {solution.ORCHESTRATOR_LOG_GROUP} already exists and is reused, nothing is created.",
        )
        create = self.equals("CreateOrchestratorLogGroup", reuse, "no")
        group = logs.CfnLogGroup(
            self,
            "OrchestratorLogGroup",
            log_group_name=solution.ORCHESTRATOR_LOG_GROUP,
            kms_key_id=key_arn.value_as_string,
            retention_in_days=3653,
        )
        group.cfn_options.condition = create
        group.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
