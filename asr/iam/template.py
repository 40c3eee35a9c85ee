"""Read IAM roles out of synthesized CloudFormation templates, intrinsics resolved.

A template is resolved for one account and Region: parameters take the given values
or their defaults, pseudo parameters the location, and a resource's Ref/GetAtt its
physical id -- the name the template gives it (RoleName, FunctionName ...) or one the
caller supplies (``physical``), else a name CloudFormation-like but fixed
(``<logical id>-generated``), which can only ever match a wildcard.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from asr.iam.policy import Policy


class TemplateError(ValueError):
    """An intrinsic or resource the resolver cannot evaluate."""


# Resource type -> (name property, ARN of a named resource; {p} partition, {r} Region, {a} account, {n} name)
_NAMED = {
    "AWS::IAM::Role": ("RoleName", "arn:{p}:iam::{a}:role/{n}"),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName", "arn:{p}:iam::{a}:policy/{n}"),
    "AWS::Lambda::Function": ("FunctionName", "arn:{p}:lambda:{r}:{a}:function:{n}"),
    "AWS::SNS::Topic": ("TopicName", "arn:{p}:sns:{r}:{a}:{n}"),
    "AWS::SQS::Queue": ("QueueName", "arn:{p}:sqs:{r}:{a}:{n}"),
    "AWS::DynamoDB::Table": ("TableName", "arn:{p}:dynamodb:{r}:{a}:table/{n}"),
    "AWS::StepFunctions::StateMachine": ("StateMachineName", "arn:{p}:states:{r}:{a}:stateMachine:{n}"),
    "AWS::Logs::LogGroup": ("LogGroupName", "arn:{p}:logs:{r}:{a}:log-group:{n}:*"),
    "AWS::S3::Bucket": ("BucketName", "arn:{p}:s3:::{n}"),
    "AWS::KMS::Key": ("", "arn:{p}:kms:{r}:{a}:key/{n}"),
    "AWS::SSM::Parameter": ("Name", "arn:{p}:ssm:{r}:{a}:parameter{n}"),
    "AWS::Events::Rule": ("Name", "arn:{p}:events:{r}:{a}:rule/{n}"),
}
# What Ref returns, when it is not the name: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-template-resource-type-ref.html
_REF_IS_ARN = {"AWS::SNS::Topic", "AWS::StepFunctions::StateMachine", "AWS::IAM::ManagedPolicy"}
_REF_IS_URL = {"AWS::SQS::Queue"}


@dataclass
class Location:
    account: str
    region: str
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"


@dataclass
class Resolver:
    template: Mapping[str, Any]
    location: Location
    parameters: Mapping[str, str] = field(default_factory=dict)
    #: logical id -> {"Ref": ..., "Arn": ..., other attributes}: the physical resource the caller made
    physical: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def _resources(self) -> Mapping[str, Any]:
        return self.template.get("Resources", {})

    def name_of(self, logical_id: str) -> str:
        res = self._resources().get(logical_id)
        if res is None:
            raise TemplateError(f"no resource {logical_id!r} in the template")
        prop = _NAMED.get(res["Type"], ("", ""))[0]
        value = (res.get("Properties") or {}).get(prop) if prop else None
        return str(self.value(value)) if value is not None else f"{logical_id}-generated"

    def arn_of(self, logical_id: str) -> str:
        res = self._resources()[logical_id]
        shape = _NAMED.get(res["Type"], ("", ""))[1]
        if not shape:
            raise TemplateError(f"no ARN shape for {logical_id} ({res['Type']}): pass it in 'physical'")
        loc = self.location
        return shape.format(p=loc.partition, r=loc.region, a=loc.account, n=self.name_of(logical_id))

    def ref(self, name: str) -> Any:
        loc = self.location
        pseudo = {
            "AWS::Partition": loc.partition,
            "AWS::Region": loc.region,
            "AWS::AccountId": loc.account,
            "AWS::URLSuffix": loc.url_suffix,
            "AWS::StackName": "stack",
            "AWS::NoValue": None,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        params = self.template.get("Parameters", {})
        if name in params:
            if "Default" not in params[name]:
                raise TemplateError(f"parameter {name} has no default and no value was given")
            return params[name]["Default"]
        if name in self.physical and "Ref" in self.physical[name]:
            return self.physical[name]["Ref"]
        res = self._resources().get(name)
        if res is None:
            raise TemplateError(f"Ref to unknown {name!r}")
        if res["Type"] in _REF_IS_ARN:
            return self.arn_of(name)
        if res["Type"] in _REF_IS_URL:
            loc = self.location
            return f"https://sqs.{loc.region}.{loc.url_suffix}/{loc.account}/{self.name_of(name)}"
        return self.name_of(name)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if logical_id in self.physical and attribute in self.physical[logical_id]:
            return self.physical[logical_id][attribute]
        if attribute == "Arn":
            return self.arn_of(logical_id)
        raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute}: pass it in 'physical'")

    def condition(self, name: str) -> bool:
        return bool(self.value(self.template["Conditions"][name]))

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.value(n) for n in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((fn, arg),) = node.items()
            handler = _FUNCTIONS.get(fn)
            if handler is not None:
                return handler(self, arg)
        return {k: v for k, v in ((k, self.value(v)) for k, v in node.items()) if v is not _NO_VALUE}


_NO_VALUE = object()


def _ref(r: Resolver, arg: str) -> Any:
    value = r.ref(arg)
    return _NO_VALUE if value is None else value


def _sub(r: Resolver, arg: Any) -> str:
    import re

    text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], r.value(arg[1]))

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in variables:
            return str(variables[name])
        if "." in name:
            logical, attr = name.split(".", 1)
            return str(r.get_att(logical, attr))
        return str(r.ref(name))

    return re.sub(r"\$\{([^}]+)\}", one, text)


_FUNCTIONS = {
    "Ref": _ref,
    "Fn::GetAtt": lambda r, a: r.get_att(*(a.split(".", 1) if isinstance(a, str) else a)),
    "Fn::Join": lambda r, a: a[0].join(str(v) for v in r.value(a[1])),
    "Fn::Sub": _sub,
    "Fn::If": lambda r, a: r.value(a[1] if r.condition(a[0]) else a[2]),
    "Fn::Equals": lambda r, a: r.value(a[0]) == r.value(a[1]),
    "Fn::Not": lambda r, a: not r.value(a[0]),
    "Fn::And": lambda r, a: all(r.value(x) for x in a),
    "Fn::Or": lambda r, a: any(r.value(x) for x in a),
    "Condition": lambda r, a: r.condition(a),
    "Fn::Select": lambda r, a: r.value(a[1])[int(r.value(a[0]))],
    "Fn::Split": lambda r, a: str(r.value(a[1])).split(a[0]),
}


@dataclass(frozen=True)
class Role:
    """A role as a template defines it: identity policies and trust policy, resolved."""

    arn: str
    name: str
    account: str
    policies: tuple[Policy, ...]
    trust: Policy
    source: str  # "<template name>:<logical id>"
    managed_policy_arns: tuple[str, ...] = ()


def roles_of(resolver: Resolver, template_name: str) -> dict[str, Role]:
    """Logical id -> Role for every AWS::IAM::Role of the template that exists under its conditions."""
    resources = resolver._resources()
    attached: dict[str, list[Policy]] = {}
    for logical_id, res in resources.items():
        if res["Type"] not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") or not _exists(resolver, res):
            continue
        props = res["Properties"]
        document = resolver.value(props["PolicyDocument"])
        policy = Policy.parse(f"{template_name}:{logical_id}", document)
        for role_ref in props.get("Roles") or []:
            if isinstance(role_ref, dict) and "Ref" in role_ref:
                attached.setdefault(role_ref["Ref"], []).append(policy)
    roles: dict[str, Role] = {}
    for logical_id, res in resources.items():
        if res["Type"] != "AWS::IAM::Role" or not _exists(resolver, res):
            continue
        props = res.get("Properties") or {}
        inline = [
            Policy.parse(
                f"{template_name}:{logical_id}/{resolver.value(p['PolicyName'])}", resolver.value(p["PolicyDocument"])
            )
            for p in props.get("Policies") or []
        ]
        roles[logical_id] = Role(
            arn=resolver.arn_of(logical_id),
            name=resolver.name_of(logical_id),
            account=resolver.location.account,
            policies=(*inline, *attached.get(logical_id, [])),
            trust=Policy.parse(
                f"{template_name}:{logical_id}/trust", resolver.value(props["AssumeRolePolicyDocument"])
            ),
            source=f"{template_name}:{logical_id}",
            managed_policy_arns=tuple(resolver.value(props.get("ManagedPolicyArns") or [])),
        )
    return roles


def _exists(resolver: Resolver, res: Mapping[str, Any]) -> bool:
    condition = res.get("Condition")
    return condition is None or resolver.condition(condition)
