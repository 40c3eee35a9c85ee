"""Ticketing blueprint stacks (``blueprints/JiraBlueprintStack.template``,
``blueprints/ServiceNowBlueprintStack.template``).

Each deploys one ticket-generator Lambda (``lambdas/ticketing``) in the Security Hub
admin account; its *name* goes into the admin stack's ``TicketGenFunctionName``, and
the orchestrator invokes it after a successful ``ASR:Remediate&Ticket`` remediation
(contract in ``lambdas/ticketing/core.py`` and docs/ticketing.md).

The execution role may only read the one credentials secret (and decrypt it with its
customer managed key when one is given) and write the function's own log group, which
the stack creates with the reference's retention (10 years, retained on delete).
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from asr import solution
from asr.cdk_common import LAMBDA_RUNTIME, Distribution, SolutionStack

#: Zip of ``lambdas/ticketing`` (the build zips every package under lambdas/).
CODE_ZIP = "ticketing.zip"
#: Seconds: three attempts of at most 10 s each, their backoff, and reading the secret.
FUNCTION_TIMEOUT = 60
#: CloudFormation AllowedPattern of the secret ARN (the function checks the same shape).
SECRET_ARN_PATTERN = (
    r"^arn:(?:aws|aws-cn|aws-us-gov):secretsmanager:[a-z]{2}(?:-gov)?-[a-z]+-[0-9]:[0-9]{12}:secret:"
    r"[A-Za-z0-9/_+=.@-]+$"
)
KMS_KEY_ARN_PATTERN = (
    r"^$|^arn:(?:aws|aws-cn|aws-us-gov):kms:[a-z]{2}(?:-gov)?-[a-z]+-[0-9]:[0-9]{12}:key/[a-zA-Z0-9-]{1,100}$"
)
#: One DNS label (the site or instance name), then the product's domain; "/" at most after it.
_LABEL = r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"


@dataclass(frozen=True)
class Blueprint:
    key: str  # Jira, ServiceNow
    stack_id: str
    function_name: str
    module: str  # lambdas/ticketing/<module>.py
    uri_pattern: str  # InstanceURI AllowedPattern
    uri_example: str
    extra_parameter: str  # JiraProjectKey / ServiceNowTableName
    extra_pattern: str
    extra_default: str | None
    extra_description: str
    extra_environment: str  # the function's environment variable for it
    secret_description: str

    @property
    def template_file(self) -> str:
        return solution.TEMPLATE_FILES[self.stack_id]


JIRA = Blueprint(
    key="Jira",
    stack_id=solution.JIRA_BLUEPRINT_STACK,
    function_name=solution.JIRA_TICKET_FUNCTION,
    module="jira",
    uri_pattern=rf"^https://{_LABEL}\.atlassian\.net/?$",
    uri_example="https://my-jira-instance.atlassian.net",
    extra_parameter="JiraProjectKey",
    extra_pattern=r"^[A-Z][A-Z0-9_]{1,254}$",
    extra_default=None,
    extra_description="The key of your Jira project where tickets will be created (e.g. SEC).",
    extra_environment="PROJECT_NAME",
    secret_description=(
        "The ARN of the Secrets Manager secret where you have stored your API credentials. This must be a JSON "
        "secret with the following keys: Username,Password (your Atlassian account email and an API token)."
    ),
)
SERVICENOW = Blueprint(
    key="ServiceNow",
    stack_id=solution.SERVICENOW_BLUEPRINT_STACK,
    function_name=solution.SERVICENOW_TICKET_FUNCTION,
    module="servicenow",
    uri_pattern=rf"^https://{_LABEL}\.service-now\.com/?$",
    uri_example="https://my-servicenow-instance.service-now.com",
    extra_parameter="ServiceNowTableName",
    extra_pattern=r"^[a-z][a-z0-9_]{0,79}$",
    extra_default="incident",
    extra_description="Enter the name of your ServiceNow Table where tickets should be created.",
    extra_environment="TABLE_NAME",
    secret_description=(
        "The ARN of the Secrets Manager secret where you have stored your API credentials. This must be a JSON "
        "secret with the following keys: API_Key (or Username,Password for basic authentication)."
    ),
)
BLUEPRINTS = (JIRA, SERVICENOW)


class BlueprintStack(SolutionStack):
    def __init__(self, scope: Construct, *, dist: Distribution, blueprint: Blueprint) -> None:
        super().__init__(
            scope,
            blueprint.stack_id,
            dist=dist,
            description=solution.stack_description(blueprint.stack_id, dist.version),
        )
        self.blueprint = blueprint
        uri = self.parameter(
            "InstanceURI",
            allowed_pattern=blueprint.uri_pattern,
            constraint_description=f"The https root URL of the instance, e.g. {blueprint.uri_example}",
            description=f"The URI of your {blueprint.key} instance. For example: {blueprint.uri_example}",
        )
        extra = self.parameter(
            blueprint.extra_parameter,
            allowed_pattern=blueprint.extra_pattern,
            default=blueprint.extra_default,
            description=blueprint.extra_description,
        )
        secret = self.parameter(
            "SecretArn",
            allowed_pattern=SECRET_ARN_PATTERN,
            constraint_description="The full ARN of a Secrets Manager secret.",
            description=blueprint.secret_description,
        )
        secret_key = self.parameter(
            "SecretKmsKeyArn",
            default="",
            allowed_pattern=KMS_KEY_ARN_PATTERN,
            constraint_description="Blank, or the ARN of a KMS key.",
            description=(
                "Optional. ARN of the customer managed KMS key that encrypts the secret (blank when the secret uses "
                "the AWS managed key aws/secretsmanager)."
            ),
        )
        cdk.Validations.of(self).acknowledge(
            cdk.Acknowledgment(
                id="CloudFormation-Validate::W2509",
                reason="SecretArn and SecretKmsKeyArn hold ARNs, not secrets: NoEcho would only hide them.",
            )
        )
        self.parameter_group(f"{blueprint.key} Project Information", [uri, extra])
        self.parameter_group(f"{blueprint.key} API Credentials", [secret, secret_key])
        key_given = self.condition(
            "SecretKmsKeyGiven", cdk.Fn.condition_not(cdk.Fn.condition_equals(secret_key.value_as_string, ""))
        )

        group = logs.LogGroup(
            self,
            "TicketGeneratorLogGroup",
            log_group_name=f"/aws/lambda/{blueprint.function_name}",
            retention=logs.RetentionDays.TEN_YEARS,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        role = iam.Role(
            self,
            f"{blueprint.key}TicketGeneratorRole",  # distinct logical ids: distinct generated role names
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{blueprint.function_name}: reads its credentials secret, writes its own log group.",
            inline_policies={
                "TicketGenerator": iam.PolicyDocument.from_json(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                # the Lambda service writes the function's logs with this role; the group
                                # exists (above), so no logs:CreateLogGroup
                                "Effect": "Allow",
                                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                                "Resource": group.log_group_arn,
                            },
                            {
                                "Effect": "Allow",
                                "Action": "secretsmanager:GetSecretValue",
                                "Resource": secret.value_as_string,
                            },
                        ],
                    }
                )
            },
        )
        # A secret under a customer managed key needs kms:Decrypt on that key, through Secrets Manager only:
        # https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html
        decrypt = iam.CfnPolicy(
            self,
            f"{blueprint.key}TicketGeneratorSecretKeyPolicy",
            policy_name="SecretKey",
            roles=[role.role_name],
            policy_document={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "kms:Decrypt",
                        "Resource": secret_key.value_as_string,
                        "Condition": {
                            "StringEquals": {
                                "kms:ViaService": cdk.Fn.join(
                                    "", ["secretsmanager.", cdk.Aws.REGION, ".", cdk.Aws.URL_SUFFIX]
                                )
                            }
                        },
                    }
                ],
            },
        )
        decrypt.cfn_options.condition = key_given
        function = lambda_.Function(
            self,
            "TicketGenerator",
            function_name=blueprint.function_name,
            description=f"Creates a {blueprint.key} ticket for a remediation of ASR:Remediate&Ticket.",
            runtime=LAMBDA_RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            code=self.lambda_code(CODE_ZIP),
            handler=f"lambdas.ticketing.{blueprint.module}.lambda_handler",
            memory_size=256,
            timeout=cdk.Duration.seconds(FUNCTION_TIMEOUT),
            role=role,
            log_group=group,
            environment={
                "INSTANCE_URI": uri.value_as_string,
                blueprint.extra_environment: extra.value_as_string,
                "SECRET_ARN": secret.value_as_string,
                "LOG_LEVEL": "INFO",
            },
        )
        # The role (with its inline policy) is already a dependency through Fn::GetAtt; CDK's extra
        # DependsOn only draws cfn-lint W3005.
        function.node.default_child.add_deletion_override("DependsOn")
        cdk.CfnOutput(
            self,
            "TicketGeneratorLambdaFunction",
            description="Ticket Generator Lambda Function ARN",
            value=function.function_arn,
        )
        cdk.CfnOutput(
            self,
            "TicketGeneratorFunctionName",
            description="Put this name in the admin stack's TicketGenFunctionName parameter.",
            value=blueprint.function_name,
        )
