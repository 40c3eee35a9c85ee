"""Member Action Log nested stack (``automated-security-response-member-cloudtrail.template``).

A trail of this account's write management events, delivered to a short-lived
bucket, from which the solution's own API calls are forwarded to the admin
account's Action Log log group.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from asr import solution
from asr.cdk_common import LAMBDA_RUNTIME, Distribution, SolutionStack, acknowledge, function_role

TRAIL_PREFIX = "cloudtrail-logs"


class MemberCloudTrailStack(SolutionStack):
    def __init__(
        self, scope: Construct, construct_id: str = solution.MEMBER_CLOUDTRAIL_STACK, *, dist: Distribution
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            dist=dist,
            description=solution.stack_description(solution.MEMBER_CLOUDTRAIL_STACK, dist.version),
        )
        namespace = self.namespace_parameter()
        log_group = self.parameter(
            "CloudTrailLogGroupName",
            default=solution.ACTION_LOG_GROUP,
            allowed_pattern=r"^[.\-_/#A-Za-z0-9]{1,512}$",
            description="Action Log log group in the admin account.",
        )
        writer_role = self.parameter(
            "LogWriterRoleArn",
            allowed_pattern=r"^arn:(?:aws|aws-cn|aws-us-gov):iam::\d{12}:role/[\w+=,.@-]+$",
            description=f"ARN of {solution.CROSS_ACCOUNT_LOG_WRITER_ROLE} in the admin account.",
        )
        bucket_name = solution.management_events_bucket(namespace.value_as_string, cdk.Aws.ACCOUNT_ID, cdk.Aws.REGION)
        bucket = s3.Bucket(
            self,
            "ManagementEventsBucket",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(1))],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            bucket,
            S1="Holds CloudTrail files for one day only, until they are forwarded to the Action Log.",
        )
        trail = cloudtrail.Trail(
            self,
            "ManagementEventsTrail",
            bucket=bucket,
            s3_key_prefix=TRAIL_PREFIX,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_file_validation=True,
            management_events=cloudtrail.ReadWriteType.WRITE_ONLY,
        )
        acknowledge(
            trail,
            **{
                "CT1": "Its events are forwarded to the admin account's log group; this trail is not the audit trail.",
            },
        )
        processor = self._event_processor(bucket, bucket_name, log_group.value_as_string, writer_role.value_as_string)
        cdk.CfnOutput(self, "TrailArn", value=trail.trail_arn)
        cdk.CfnOutput(self, "LambdaFunctionArn", value=processor.function_arn)
        cdk.CfnOutput(self, "BucketName", value=bucket.bucket_name)

    def _event_processor(
        self, bucket: s3.Bucket, bucket_name: str, log_group: str, writer_role: str
    ) -> lambda_.Function:
        """``SO0111-ASR-EventProcessor``: forwards remediation actions to the admin Action Log.

        The S3 notification is declared on the bucket itself (no notifications
        custom resource); the invoke permission names the bucket by its fixed name,
        so there is no dependency cycle.
        """
        function_name = solution.lambda_function_name("EventProcessor")
        statements = [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                # by name, not by reference: the bucket waits for the invoke permission
                "Resource": cdk.Fn.join("", ["arn:", cdk.Aws.PARTITION, ":s3:::", bucket_name, f"/{TRAIL_PREFIX}/*"]),
            },
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": writer_role},
        ]
        role = function_role(
            self,
            "EventProcessorRole",
            function_name=function_name,
            policy_name="EventProcessor",
            statements=statements,
            description="Action Log event processor: reads trail files, writes to the admin Action Log.",
            reason="Trail files have generated names under the trail prefix",
        )
        processor = lambda_.Function(
            self,
            "EventProcessor",
            function_name=function_name,
            description="Forwards management events made by ASR remediations to the admin account's Action Log.",
            runtime=LAMBDA_RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            code=self.lambda_code("action_log.zip"),
            handler="lambdas.action_log.handler.lambda_handler",
            memory_size=256,
            timeout=cdk.Duration.seconds(60),
            role=role,
            environment={"LOG_WRITER_ROLE_ARN": writer_role, "LOG_GROUP_NAME": log_group},
        )
        permission = lambda_.CfnPermission(
            self,
            "AllowTrailBucketInvoke",
            action="lambda:InvokeFunction",
            function_name=processor.function_arn,
            principal="s3.amazonaws.com",
            source_account=cdk.Aws.ACCOUNT_ID,
            source_arn=cdk.Fn.join("", ["arn:", cdk.Aws.PARTITION, ":s3:::", bucket_name]),
        )
        cfn_bucket: s3.CfnBucket = bucket.node.default_child
        cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            lambda_configurations=[
                s3.CfnBucket.LambdaConfigurationProperty(
                    event="s3:ObjectCreated:*",
                    function=processor.function_arn,
                    filter=s3.CfnBucket.NotificationFilterProperty(
                        s3_key=s3.CfnBucket.S3KeyFilterProperty(
                            rules=[
                                s3.CfnBucket.FilterRuleProperty(name="prefix", value=f"{TRAIL_PREFIX}/"),
                                s3.CfnBucket.FilterRuleProperty(name="suffix", value=".json.gz"),
                            ]
                        )
                    ),
                )
            ]
        )
        cfn_bucket.add_resource_dependency(permission)
        return processor
