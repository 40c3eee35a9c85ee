"""The admin side of the Action Log: where the member accounts' event processors write.

* Log group ``/aws/lambda/SO0111-ASR-CloudTrailEvents`` (made by ``AdminStack._action_log_group``).
* ``CrossAccountLogWriterRole``, which the members' ``SO0111-ASR-EventProcessor`` assumes. It trusts
  the principals of the admin account's organization (``aws:PrincipalOrgID``) and the admin account
  itself, and may only create streams in, list the streams of and put events into that log group.
* ``Custom::OrgIdLookup`` (``lambdas/org_lookup``): the organization id, or ``org-id-unavailable``
  when Organizations is not in use (or DescribeOrganization is denied). No principal has that
  id, so the organization statement then admits nobody and only the admin account can write;
  the output ``ActionLogCrossAccountStatus`` says so, and why.

docs/action-log.md.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from asr import solution
from asr.cdk_common import LAMBDA_RUNTIME, SolutionStack, acknowledge_wildcards, function_role

ORG_LOOKUP_FUNCTION = solution.lambda_function_name("OrgIdLookup")
ORG_LOOKUP_TYPE = "Custom::OrgIdLookup"
#: What the members' processor may do, and nothing else (the reference's three actions). Resource
#: types from the Service Authorization Reference, CloudWatch Logs: CreateLogStream and
#: PutLogEvents act on a log-stream, DescribeLogStreams on the log-group.
#: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html
STREAM_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
GROUP_ACTIONS = ("logs:DescribeLogStreams",)
STATUS_OUTPUT = "ActionLogCrossAccountStatus"


class ActionLog(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, group: logs.CfnLogGroup) -> None:
        super().__init__(scope, construct_id)
        stack: SolutionStack = cdk.Stack.of(self)  # type: ignore[assignment]
        lookup = self._org_lookup(stack)
        # Ref = the PhysicalResourceId, which the lookup sets to the organization id (or the sentinel):
        # a new organization is then a replacement, and readers of the template resolve it like a name
        org_id = lookup.ref
        group_arn_parts = ["arn:", cdk.Aws.PARTITION, ":logs:", cdk.Aws.REGION, ":", cdk.Aws.ACCOUNT_ID, ":log-group:"]
        group_arn = cdk.Fn.join("", [*group_arn_parts, group.ref])
        streams_arn = cdk.Fn.join("", [*group_arn_parts, group.ref, ":log-stream:*"])
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    # the members' event processors; "org-id-unavailable" matches no principal
                    "Sid": "MembersOfTheOrganization",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": org_id}},
                },
                {
                    # a member stack in the admin account itself, with or without an organization
                    "Sid": "AdminAccount",
                    "Effect": "Allow",
                    "Principal": {
                        "AWS": cdk.Fn.join("", ["arn:", cdk.Aws.PARTITION, ":iam::", cdk.Aws.ACCOUNT_ID, ":root"])
                    },
                    "Action": "sts:AssumeRole",
                },
            ],
        }
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "WriteActionLogStreams",
                    "Effect": "Allow",
                    "Action": list(STREAM_ACTIONS),
                    "Resource": streams_arn,
                },
                {
                    "Sid": "ListActionLogStreams",
                    "Effect": "Allow",
                    "Action": list(GROUP_ACTIONS),
                    "Resource": group_arn,
                },
            ],
        }
        self.writer_role = iam.CfnRole(
            self,
            "CrossAccountLogWriterRole",
            role_name=solution.CROSS_ACCOUNT_LOG_WRITER_ROLE,
            description=(
                f"Lets the member accounts' Action Log processors write to {solution.ACTION_LOG_GROUP} "
                "(trusted by the organization of this account)."
            ),
            assume_role_policy_document=trust,
            policies=[iam.CfnRole.PolicyProperty(policy_name="ActionLogWrite", policy_document=policy)],
        )
        acknowledge_wildcards(
            self.writer_role,
            policy["Statement"],
            "Members write one stream per day (YYYY-MM-DD) in this one log group, created on first use",
        )
        cdk.CfnOutput(
            stack,
            STATUS_OUTPUT,
            description="Whether the Action Log can receive from the other accounts of the organization, and why not.",
            value=lookup.get_att("Status").to_string(),
        )

    def _org_lookup(self, stack: SolutionStack) -> cdk.CfnResource:
        role = function_role(
            self,
            "OrgIdLookupRole",
            function_name=ORG_LOOKUP_FUNCTION,
            policy_name="OrgIdLookup",
            statements=[
                # no resource types: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsorganizations.html
                {"Effect": "Allow", "Action": "organizations:DescribeOrganization", "Resource": "*"}
            ],
            description="Custom resource provider: reads this account's organization id.",
            reason="organizations:DescribeOrganization has no resource-level permissions",
        )
        function = lambda_.Function(
            self,
            "OrgIdLookup",
            function_name=ORG_LOOKUP_FUNCTION,
            description="Custom resource: the organization id the Action Log writer role trusts.",
            runtime=LAMBDA_RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            code=stack.lambda_code("org_lookup.zip"),
            handler="lambdas.org_lookup.handler.lambda_handler",
            memory_size=128,
            timeout=cdk.Duration.seconds(60),
            role=role,
        )
        return cdk.CfnResource(
            self,
            "OrgIdLookupResult",
            type=ORG_LOOKUP_TYPE,
            properties={"ServiceToken": function.function_arn, "Version": stack.dist.version},
        )
