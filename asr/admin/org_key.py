"""Optional organization key stack (``automated-security-response-org-key.template``).

Deployed once per Region in the admin (or a security) account, it creates ONE customer managed key that
the member stacks of every account of the organization name with ``RemediationKeyMode=Existing`` and
``RemediationKeyArn=arn:<partition>:kms:{region}:<this account>:alias/SO0111-ASR-Organization-Key``,
instead of one key per member account and Region (docs/encryption.md explains the policy statement by
statement, and the trade-offs).

Every grant is limited to the organization: principals by ``aws:PrincipalOrgID``, AWS services acting
for a resource owner by ``aws:SourceOrgID`` (global condition keys,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html), plus the
encryption context or ``kms:ViaService`` each consumer documents. A service that does not send the
condition key fails closed: the remediation is refused naming the key, nothing is opened.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from asr import solution
from asr.cdk_common import Distribution, SolutionStack

ORG_ID_PATTERN = r"^o-[a-z0-9]{10,32}$"
#: Crypto operations a service (or a principal through a service) needs to encrypt and read data.
USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
PUBLISH = ["kms:GenerateDataKey*", "kms:Decrypt"]


def _arn(service: str, resource: str, *, region: str = "*", account: str = "*") -> str:
    return f"arn:{cdk.Aws.PARTITION}:{service}:{region}:{account}:{resource}"


def key_policy_statements(org_id: str) -> list[dict[str, Any]]:
    """The key policy, as JSON statements (``org_id`` may be a token). docs/encryption.md lists them."""
    in_org = {"aws:PrincipalOrgID": org_id}
    for_org = {"aws:SourceOrgID": org_id}
    region = cdk.Aws.REGION
    return [
        {
            # Key administration stays with this account (its IAM policies decide who); without it the key
            # would become unmanageable (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
            "Sid": "KeyAdministrationByThisAccount",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{cdk.Aws.PARTITION}:iam::{cdk.Aws.ACCOUNT_ID}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            # The remediation roles of member accounts check the key before they use it.
            "Sid": "RemediationRolesDescribeKey",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "kms:DescribeKey",
            "Resource": "*",
            "Condition": {
                "StringEquals": in_org,
                "ArnLike": {"aws:PrincipalArn": f"arn:{cdk.Aws.PARTITION}:iam::*:role/{solution.SOLUTION_ID}-*"},
            },
        },
        {
            # CloudTrail.1/.2 (CreateCloudTrailMultiRegionTrail, EnableCloudTrailEncryption): CloudTrail encrypts
            # the log files of trails of the organization's accounts
            # (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html).
            "Sid": "CloudTrailEncryptsTrailsOfTheOrganization",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": ["kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {
                "StringEquals": for_org,
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": _arn("cloudtrail", "trail/*")},
            },
        },
        {
            # Whoever reads the log files (with S3 read access to the trail bucket) decrypts them.
            "Sid": "OrganizationReadsTrailLogFiles",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
            "Resource": "*",
            "Condition": {
                "StringEquals": in_org,
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": _arn("cloudtrail", "trail/*")},
            },
        },
        {
            # SNS.1, Config.1 topic, CloudWatch.1-14 alarm topic, S3.11 event topic; SQS queues given a key:
            # principals of the organization use the key only through SNS and SQS of this Region
            # (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html,
            # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html).
            "Sid": "OrganizationThroughSnsAndSqs",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": USE,
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    **in_org,
                    "kms:ViaService": [f"sns.{region}.amazonaws.com", f"sqs.{region}.amazonaws.com"],
                },
            },
        },
        {
            # AWS services that publish to encrypted topics of the organization's accounts: CloudWatch alarms
            # (CloudWatch.1-14) and S3 event notifications (S3.11)
            # (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
            "Sid": "ServicesPublishToTopicsOfTheOrganization",
            "Effect": "Allow",
            "Principal": {"Service": ["cloudwatch.amazonaws.com", "s3.amazonaws.com"]},
            "Action": PUBLISH,
            "Resource": "*",
            "Condition": {"StringEquals": for_org},
        },
        {
            # EC2.6 (EnableVPCFlowLogs): CloudWatch Logs encrypts the VPCFlowLogs/* log groups of the
            # organization's accounts in this Region
            # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
            "Sid": "CloudWatchLogsEncryptsFlowLogGroups",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{region}.amazonaws.com"},
            "Action": USE,
            "Resource": "*",
            "Condition": {
                "StringEquals": for_org,
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": _arn("logs", "log-group:VPCFlowLogs/*", region=region)
                },
            },
        },
    ]


class OrganizationKeyStack(SolutionStack):
    def __init__(self, scope: Construct, construct_id: str = solution.ORG_KEY_STACK, *, dist: Distribution) -> None:
        super().__init__(
            scope,
            construct_id,
            dist=dist,
            description=(
                f"({solution.SOLUTION_ID}K) {solution.SOLUTION_NAME} Organization Remediation Key, {dist.version}"
            ),
        )
        org = self.parameter(
            "OrganizationId",
            allowed_pattern=ORG_ID_PATTERN,
            constraint_description="An AWS Organizations id, e.g. o-a1b2c3d4e5.",
            description=(
                "Id of your AWS Organization (o-...): only its accounts, and AWS services acting for them, may use "
                "the key."
            ),
        )
        self.parameter_group("Organization", [org])
        document = iam.PolicyDocument.from_json(
            {"Version": "2012-10-17", "Statement": key_policy_statements(org.value_as_string)}
        )
        key = kms.Key(
            self,
            "OrganizationRemediationKey",
            description="Automated Security Response on AWS: remediation key shared by the organization's accounts.",
            enable_key_rotation=True,
            policy=document,
            alias=solution.ORG_KMS_ALIAS,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        cdk.CfnOutput(self, "KeyArn", value=key.key_arn, description="ARN of the organization remediation key.")
        cdk.CfnOutput(
            self,
            "MemberRemediationKeyArn",
            value=f"arn:{cdk.Aws.PARTITION}:kms:{{region}}:{cdk.Aws.ACCOUNT_ID}:alias/{solution.ORG_KMS_ALIAS}",
            description=(
                "Value of RemediationKeyArn for the member stacks (RemediationKeyMode Existing); {region} is "
                "replaced by each member stack's Region. Deploy this stack in every Region you remediate."
            ),
        )
