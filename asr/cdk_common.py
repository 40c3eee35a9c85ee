"""What every ASR stack shares: distribution layout, tags, parameters, nested stacks.

Stacks are synthesized for AWS Solutions style distribution: no CDK bootstrap
resources in any template, nested templates fetched from
``https://<bucket>-reference.s3.<url-suffix>/<solution>/<version>/...`` and Lambda code
from ``s3://<bucket>-<region>/<solution>/<version>/lambda/...``, both through the
``SourceCode`` mapping so a user can re-host the templates by editing one mapping.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from asr import solution, upgrade

YES_NO = ["yes", "no"]

#: Runtime of every solution Lambda function.
LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_14


@dataclass(frozen=True)
class Distribution:
    """Where the built templates and Lambda zips are published."""

    bucket_base: str = solution.PLACEHOLDER_BUCKET_BASE
    version: str = solution.VERSION
    solution_id: str = solution.SOLUTION_ID

    def __post_init__(self) -> None:
        import re

        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,40}[a-z0-9]", self.bucket_base):
            raise ValueError(
                f"bucket base {self.bucket_base!r}: must be 3-42 characters of a-z, 0-9, '.', '-' "
                "(the build appends -reference and -<region>)"
            )
        if not re.fullmatch(r"v\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?", self.version):
            raise ValueError(f"version {self.version!r}: must look like v1.2.3")


def synthesizer() -> cdk.IStackSynthesizer:
    """Templates carry no bootstrap version rule and reference no bootstrap bucket.

    Nothing in our stacks is a CDK asset, so the default synthesizer only matters to
    ``cdk deploy`` (which uses the bootstrap deploy role and, for templates over
    51,200 bytes, the bootstrap bucket to upload the template itself).
    """
    return cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=False)


class SolutionStack(cdk.Stack):
    """Base class: description, solution tags, ``SourceCode`` mapping, helpers."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dist: Distribution,
        description: str,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=description,
            synthesizer=synthesizer(),
            analytics_reporting=False,
        )
        self.dist = dist
        self.template_options.template_format_version = "2010-09-09"
        cdk.Tags.of(self).add(solution.TAG_SOLUTION_ID, dist.solution_id)
        cdk.Tags.of(self).add(solution.TAG_SOLUTION_NAME, solution.SOLUTION_NAME)
        cdk.Tags.of(self).add(solution.TAG_SOLUTION_VERSION, dist.version)
        self._source_code_mapping: cdk.CfnMapping | None = None
        self._groups: list[dict[str, object]] = []
        self._labels: dict[str, dict[str, str]] = {}
        #: reference v2.3.2 template this stack updates in place (None: a template of ours only)
        self.reference_template = upgrade.template_file_of_stack(construct_id)
        self._reference_ids = upgrade.reference_ids(self.reference_template) if self.reference_template else {}
        self._allocated: dict[str, str] = {}  # construct path -> logical id
        self._claimed: dict[str, str] = {}  # reference logical id -> construct path

    # --- logical ids ---------------------------------------------------------------

    def _allocate_logical_id(self, cfn_element: cdk.CfnElement) -> str:
        """CDK's hook for logical ids: a resource the reference v2.3.2 template had keeps the
        reference's logical id (looked up in ``asr/upgrade/contract.yaml`` by its type and physical
        name, the nested template it points at, or its construct path for the few unnamed retained
        ones), so that updating a reference stack in place updates it instead of colliding with it
        (docs/upgrade.md). Everything else keeps CDK's readable id."""
        path = cfn_element.node.path
        known = getattr(self, "_allocated", {}).get(path)
        if known is not None:
            return known
        logical_id = self._reference_logical_id(cfn_element) or super()._allocate_logical_id(cfn_element)
        if hasattr(self, "_allocated"):
            self._allocated[path] = logical_id
        return logical_id

    def _reference_logical_id(self, element: cdk.CfnElement) -> str | None:
        if not getattr(self, "_reference_ids", None) or not isinstance(element, cdk.CfnResource):
            return None
        relative = element.node.path.removeprefix(f"{self.node.path}/")
        found = self._reference_ids.get(f"path:{relative}")
        if found is None:
            # only the identifying property is resolved: others may refer to the resource itself
            wanted = upgrade.identifying_property(element.cfn_resource_type)
            props = element._cfn_properties if wanted else {}
            value = next((v for k, v in props.items() if k.lower() == (wanted or "").lower()), None)
            key = upgrade.resource_key(element.cfn_resource_type, {wanted: self.resolve(value)}) if value else None
            found = self._reference_ids.get(f"{element.cfn_resource_type}|{key}") if key else None
        if found is None:
            return None
        other = self._claimed.setdefault(found, element.node.path)
        if other != element.node.path:
            raise ValueError(
                f"{self.reference_template}: reference logical id {found} claimed by both {other} and "
                f"{element.node.path}: two resources with the same name"
            )
        return found

    # --- distribution -----------------------------------------------------------

    @property
    def _source_code(self) -> cdk.CfnMapping:
        """The ``SourceCode`` mapping, added to templates that fetch code or templates."""
        if self._source_code_mapping is None:
            self._source_code_mapping = cdk.CfnMapping(
                self,
                "SourceCode",
                mapping={
                    "General": {
                        "S3Bucket": self.dist.bucket_base,
                        "KeyPrefix": solution.lambda_key_prefix(self.dist.version),
                    }
                },
                lazy=False,
            )
        return self._source_code_mapping

    @property
    def bucket_base(self) -> str:
        return self._source_code.find_in_map("General", "S3Bucket")

    @property
    def key_prefix(self) -> str:
        return self._source_code.find_in_map("General", "KeyPrefix")

    def template_url(self, template_file: str) -> str:
        """URL of a nested template in the ``<bucket>-reference`` bucket."""
        return cdk.Fn.join(
            "",
            [
                "https://",
                self.bucket_base,
                "-reference.s3.",
                cdk.Aws.URL_SUFFIX,
                "/",
                self.key_prefix,
                "/",
                template_file,
            ],
        )

    def lambda_code(self, zip_name: str) -> lambda_.Code:
        """Lambda code from ``s3://<bucket>-<region>/<prefix>/lambda/<zip_name>``."""
        bucket = s3.Bucket.from_bucket_name(
            self,
            f"CodeBucket{''.join(c for c in zip_name if c.isalnum())}",
            cdk.Fn.join("-", [self.bucket_base, cdk.Aws.REGION]),
        )
        key = cdk.Fn.join("/", [self.key_prefix, solution.LAMBDA_ASSET_FOLDER, zip_name])
        return lambda_.Code.from_bucket(bucket, key)

    # --- parameters ------------------------------------------------------------

    def yes_no(self, name: str, *, default: str, description: str, label: str | None = None) -> cdk.CfnParameter:
        return self.parameter(name, default=default, allowed_values=YES_NO, description=description, label=label)

    def parameter(
        self,
        name: str,
        *,
        description: str,
        type: str = "String",
        default: str | None = None,
        allowed_values: Sequence[str] | None = None,
        allowed_pattern: str | None = None,
        constraint_description: str | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        label: str | None = None,
    ) -> cdk.CfnParameter:
        param = cdk.CfnParameter(
            self,
            name,
            type=type,
            description=description,
            default=default,
            allowed_values=list(allowed_values) if allowed_values else None,
            allowed_pattern=allowed_pattern,
            constraint_description=constraint_description,
            min_length=min_length,
            max_length=max_length,
        )
        if label:
            self._labels[name] = {"default": label}
        return param

    def parameter_group(self, label: str, parameters: Iterable[cdk.CfnParameter | str]) -> None:
        names = [p if isinstance(p, str) else p.logical_id for p in parameters]
        self._groups.append({"Label": {"default": label}, "Parameters": names})
        self.template_options.metadata = {
            "AWS::CloudFormation::Interface": {
                "ParameterGroups": self._groups,
                **({"ParameterLabels": self._labels} if self._labels else {}),
            }
        }

    def namespace_parameter(self, description: str = "") -> cdk.CfnParameter:
        return self.parameter(
            "Namespace",
            allowed_pattern=solution.NAMESPACE_PATTERN,
            min_length=3,
            max_length=9,
            constraint_description=(
                "3-9 characters: lowercase letters, digits and '-', starting and ending with a letter or digit, "
                "safe in an S3 bucket name."
            ),
            description=description
            or (
                "3 to 9 lowercase letters, digits or '-', starting and ending with a letter or digit. Suffix of "
                "the remediation IAM role names and of the "
                "Action Log bucket. Use the same value for the member and member-roles stacks; keep it across "
                "updates."
            ),
        )

    def admin_account_parameter(self, description: str = "") -> cdk.CfnParameter:
        return self.parameter(
            "SecHubAdminAccount",
            allowed_pattern=solution.ACCOUNT_ID_PATTERN,
            constraint_description="A 12-digit AWS account id.",
            description=description or "12-digit account id of the Security Hub admin account.",
        )

    def target_account_parameters(self) -> tuple[cdk.CfnParameter, cdk.CfnParameter]:
        """TargetAccountIDs and TargetAccountIDsStrategy (admin and playbook admin stacks)."""
        ids = self.parameter(
            "TargetAccountIDs",
            default="ALL",
            allowed_pattern=solution.TARGET_ACCOUNTS_PATTERN,
            max_length=3360,
            constraint_description="ALL, or a comma-separated list of 12-digit account ids.",
            description=(
                'Accounts in scope of automatic remediation: "ALL", or a comma-separated list of 12-digit AWS '
                'account ids, e.g. "123456789012,098765432109". Custom actions are not affected.'
            ),
        )
        strategy = self.parameter(
            "TargetAccountIDsStrategy",
            default="INCLUDE",
            allowed_values=["INCLUDE", "EXCLUDE"],
            description=(
                "INCLUDE: automatic remediation only for the accounts listed in TargetAccountIDs. "
                "EXCLUDE: for every account except those listed."
            ),
        )
        return ids, strategy

    def condition(self, name: str, expression: cdk.ICfnConditionExpression) -> cdk.CfnCondition:
        return cdk.CfnCondition(self, name, expression=expression)

    def equals(self, name: str, param: cdk.CfnParameter, value: str) -> cdk.CfnCondition:
        return self.condition(name, cdk.Fn.condition_equals(param.value_as_string, value))

    def ssm_parameter(self, construct_id: str, name: str, value: str, description: str) -> ssm.CfnParameter:
        """A String parameter in SSM Parameter Store (``/Solutions/SO0111/...``)."""
        return ssm.CfnParameter(self, construct_id, name=name, type="String", value=value, description=description)

    # --- nested stacks ---------------------------------------------------------

    def nested(
        self,
        construct_id: str,
        template_file: str,
        parameters: Mapping[str, str] | None = None,
        *,
        condition: cdk.CfnCondition | None = None,
    ) -> cdk.CfnStack:
        """A nested stack whose template is published beside this one."""
        stack = cdk.CfnStack(
            self,
            construct_id,
            template_url=self.template_url(template_file),
            parameters=dict(parameters) if parameters else None,
        )
        # the reference's id for a nested template it had (docs/upgrade.md), else the readable construct id
        reference = self._reference_ids.get(f"AWS::CloudFormation::Stack|nested:{template_file}")
        stack.override_logical_id(reference or construct_id)
        if condition is not None:
            stack.cfn_options.condition = condition
        return stack


def nag_evidence(stack: cdk.Stack, value: object) -> str:
    """The string cdk-nag shows for a (possibly tokenized) policy value:
    ``Fn::Join`` parts concatenated, ``{"Ref": X}`` as ``<X>``."""
    resolved = stack.resolve(value)

    def render(node: object) -> str:
        if isinstance(node, str):
            return node
        if isinstance(node, dict) and "Ref" in node:
            return f"<{node['Ref']}>"
        if isinstance(node, dict) and "Fn::Join" in node:
            sep, parts = node["Fn::Join"]
            return sep.join(render(p) for p in parts)
        if isinstance(node, dict) and "Fn::GetAtt" in node:
            return "<{}.{}>".format(*node["Fn::GetAtt"])
        raise ValueError(f"cannot express {node!r} as cdk-nag evidence")

    return render(resolved)


def acknowledge_wildcards(construct: Construct, statements: Iterable[dict], reason: str) -> None:
    """Acknowledge AwsSolutions-IAM5 for exactly the wildcard actions and resources
    of ``statements`` (IAM5 wants one acknowledgment per wildcard, as evidence)."""
    stack = cdk.Stack.of(construct)
    ids: set[str] = set()
    for stmt in statements:
        for key in ("Action", "Resource"):
            values = stmt.get(key, [])
            for value in values if isinstance(values, list) else [values]:
                text = nag_evidence(stack, value)
                if "*" in text:
                    ids.add(f"AwsSolutions::AwsSolutions-IAM5[{key}::{text}]")
    for rule in sorted(ids):
        cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def function_role(
    scope: Construct,
    construct_id: str,
    *,
    function_name: str,
    policy_name: str,
    statements: list[dict],
    description: str,
    reason: str,
) -> iam.Role:
    """Execution role of one Lambda function: writes to its own log group, plus
    ``statements``, as one inline policy; its wildcards acknowledged with ``reason``."""
    stack = cdk.Stack.of(scope)
    own_logs = {
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": cdk.Arn.format(
            cdk.ArnComponents(
                service="logs",
                resource="log-group",
                resource_name=f"/aws/lambda/{function_name}:*",
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            ),
            stack,
        ),
    }
    everything = [own_logs, *statements]
    role = iam.Role(
        scope,
        construct_id,
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=description,
        inline_policies={policy_name: iam.PolicyDocument.from_json({"Version": "2012-10-17", "Statement": everything})},
    )
    acknowledge_wildcards(role, everything, f"{reason}; streams of the function's own log group.")
    return role


def acknowledge_managed_policies(construct: Construct, policy_arns: Iterable[str], reason: str) -> None:
    """Acknowledge AwsSolutions-IAM4 for each AWS managed policy ARN, with its evidence."""
    stack = cdk.Stack.of(construct)
    for arn in policy_arns:
        cdk.Validations.of(construct).acknowledge(
            cdk.Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM4[Policy::{nag_evidence(stack, arn)}]", reason=reason)
        )


def acknowledge(construct: Construct, **reasons: str) -> None:
    """Acknowledge cdk-nag AwsSolutions rules on ``construct``, each with its reason.

    ``acknowledge(role, IAM5="why")`` -> rule ``AwsSolutions-IAM5``.
    """
    for rule, reason in reasons.items():
        if not reason.strip():
            raise ValueError(f"acknowledgment of AwsSolutions-{rule} needs a reason")
        cdk.Validations.of(construct).acknowledge(
            cdk.Acknowledgment(id=f"AwsSolutions::AwsSolutions-{rule}", reason=reason)
        )
