"""Ticketing blueprint stacks (Jira, ServiceNow): a ticket-generator Lambda the
admin stack's TicketGenFunctionName can name."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnWaitConditionHandle
from constructs import Construct

from asr import solution
from asr.cdk_common import Distribution, SolutionStack


@dataclass(frozen=True)
class Blueprint:
    key: str  # Jira, ServiceNow
    uri_pattern: str
    extra_parameter: str
    extra_description: str


BLUEPRINTS = (
    Blueprint("Jira", r"^https:\/\/.+\.atlassian\.net$", "JiraProjectKey", "Key of the Jira project tickets go to."),
    Blueprint(
        "ServiceNow", r"^https:\/\/.+\.service-now\.com$", "ServiceNowTableName", "ServiceNow table tickets go to."
    ),
)


class BlueprintStack(SolutionStack):
    def __init__(self, scope: Construct, *, dist: Distribution, blueprint: Blueprint) -> None:
        super().__init__(
            scope,
            f"{blueprint.key}BlueprintStack",
            dist=dist,
            description=(
                f"({solution.SOLUTION_ID}T) {solution.SOLUTION_NAME} {blueprint.key} Blueprint Stack, {dist.version}"
            ),
        )
        self.parameter(
            "InstanceURI",
            allowed_pattern=blueprint.uri_pattern,
            description=f"URL of your {blueprint.key} instance.",
        )
        self.parameter(
            "SecretArn",
            allowed_pattern=r"^arn:(?:aws|aws-cn|aws-us-gov):secretsmanager:[a-z]{2}(?:-gov)?-[a-z]+-\d:\d{12}:secret:.+$",
            description=f"ARN of the Secrets Manager secret holding the {blueprint.key} credentials.",
        )
        self.parameter(blueprint.extra_parameter, description=blueprint.extra_description, allowed_pattern=r"^\S+$")
        # The ticket generator function arrives with the orchestrator's ticket hook.
        CfnWaitConditionHandle(self, "Placeholder")
