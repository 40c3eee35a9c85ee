"""Playbook nested stacks: one admin and one or more member templates per standard.

The admin template holds the standard's SSM parameters (and, with the playbook
issue, its AutoTrigger rules); the member template holds its control runbooks.
"""

from __future__ import annotations

from aws_cdk import CfnWaitConditionHandle
from constructs import Construct

from asr import solution
from asr.cdk_common import Distribution, SolutionStack
from asr.playbooks.data import Standard


class PlaybookAdminStack(SolutionStack):
    def __init__(self, scope: Construct, *, dist: Distribution, standard: Standard) -> None:
        super().__init__(
            scope,
            f"{standard.key}Stack",
            dist=dist,
            description=solution.playbook_stack_description(standard.key, member=False, version=dist.version),
        )
        self.target_account_parameters()
        self.ssm_parameter(
            "ShortName",
            solution.ssm_standard_shortname(standard.long_name, standard.version),
            standard.short_name,
            "Provides a short (1-12) character abbreviation for the standard.",
        )
        self.ssm_parameter(
            "StandardStatus",
            solution.ssm_standard_status(standard.long_name, standard.version),
            solution.STANDARD_ENABLED,
            (
                f"Set to anything other than '{solution.STANDARD_ENABLED}' to stop the orchestrator "
                f"remediating {standard.title} findings."
            ),
        )


class PlaybookMemberStack(SolutionStack):
    def __init__(self, scope: Construct, *, dist: Distribution, standard: Standard, part: int = 0) -> None:
        super().__init__(
            scope,
            f"{standard.key}MemberStack{part or ''}",
            dist=dist,
            description=solution.playbook_stack_description(standard.key, member=True, version=dist.version),
        )
        self.admin_account_parameter()
        self.namespace = self.namespace_parameter()
        # Control runbooks are added by the playbook generator; until then the
        # template needs one resource to be valid.
        CfnWaitConditionHandle(self, "Placeholder")
