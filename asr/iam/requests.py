"""From one API call to the IAM authorization requests AWS evaluates for it.

For an operation with parameters, made by a principal in an account and Region:

* the IAM action(s) of the operation (``asr.iam.catalog``);
* the resource ARN(s) AWS evaluates: for each resource type the Service Authorization
  Reference marks required, its ARN format filled from the call's parameters (``*``
  where the action supports no resource type);
* the condition keys the call sets (the global ones and those our policies use);
* the dependent permissions the arguments trigger: ``iam:PassRole`` for a role handed to
  a service, tag-on-create authorization, service-linked role creation, KMS use by a
  service on the caller's behalf.

Anything it cannot work out raises ``ModelError`` naming the action and the missing
variable: a gap in the model is a loud failure, never a silent allow.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from asr.iam import catalog
from asr.iam.policy import ModelError

ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
GENERATED = "generated-by-the-call"  # a resource id the call itself creates: matches only wildcards
_GLOBAL_KEYS = frozenset(
    {
        "aws:principalarn",
        "aws:principalaccount",
        "aws:requestedregion",
        "aws:securetransport",
        "aws:principaltype",
        "aws:viaawsservice",
        "aws:calledvia",
        "kms:viaservice",
        "aws:sourcearn",
        "aws:sourceaccount",
        "aws:requesttag/",
        "aws:tagkeys",
    }
)

# Role handed to a service: the service principal that receives it, where it is not <prefix>.amazonaws.com.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html
_PASSED_TO = {
    ("ec2", "CreateFlowLogs"): "vpc-flow-logs.amazonaws.com",
    ("rds", "ModifyDBInstance"): "monitoring.rds.amazonaws.com",
    ("rds", "CreateDBInstance"): "monitoring.rds.amazonaws.com",
    ("ecs", "RegisterTaskDefinition"): "ecs-tasks.amazonaws.com",
    ("sns", "SetTopicAttributes"): "sns.amazonaws.com",
    ("ec2", "AssociateIamInstanceProfile"): "ec2.amazonaws.com",
    ("ec2", "ReplaceIamInstanceProfileAssociation"): "ec2.amazonaws.com",
    ("iam", "AddRoleToInstanceProfile"): "ec2.amazonaws.com",
    ("config", "PutConfigurationRecorder"): "config.amazonaws.com",
    ("logs", "PutDestination"): "logs.amazonaws.com",
}

# Services that create their service-linked role on first use, so the caller needs
# iam:CreateServiceLinkedRole for it. (service, operation) -> AWSServiceName.
_TRANSACTIONS = {
    ("dynamodb", "TransactWriteItems"): {
        "Put": "dynamodb:PutItem",
        "Update": "dynamodb:UpdateItem",
        "Delete": "dynamodb:DeleteItem",
        "ConditionCheck": "dynamodb:ConditionCheckItem",
    },
    ("dynamodb", "TransactGetItems"): {"Get": "dynamodb:GetItem"},
}

# Service-linked role names, per service (each service's "Using service-linked roles" page).
_SLR_NAMES = {
    "config.amazonaws.com": "AWSServiceRoleForConfig",
    "guardduty.amazonaws.com": "AWSServiceRoleForAmazonGuardDuty",
    "macie.amazonaws.com": "AWSServiceRoleForAmazonMacie",
    "elasticloadbalancing.amazonaws.com": "AWSServiceRoleForElasticLoadBalancing",
    "autoscaling.amazonaws.com": "AWSServiceRoleForAutoScaling",
    "rds.amazonaws.com": "AWSServiceRoleForRDS",
    "securityhub.amazonaws.com": "AWSServiceRoleForSecurityHub",
}

_CREATES_SLR = {
    # https://docs.aws.amazon.com/guardduty/latest/ug/slr-permissions.html
    ("guardduty", "CreateDetector"): ("guardduty.amazonaws.com", "AWSServiceRoleForAmazonGuardDuty"),
    # https://docs.aws.amazon.com/macie/latest/user/service-linked-roles.html
    ("macie2", "EnableMacie"): ("macie.amazonaws.com", "AWSServiceRoleForAmazonMacie"),
}

# EC2 resource id prefixes -> resource type (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html)
_EC2_ID_TYPES = {
    "sg": "security-group",
    "i": "instance",
    "vpc": "vpc",
    "subnet": "subnet",
    "snap": "snapshot",
    "vol": "volume",
    "vpce": "vpc-endpoint",
    "fl": "vpc-flow-log",
    "tgw": "transit-gateway",
    "acl": "network-acl",
    "rtb": "route-table",
    "igw": "internet-gateway",
    "eni": "network-interface",
    "lt": "launch-template",
    "ami": "image",
}

# Per prefix: ARN variable -> parameter names that carry it (when generic matching cannot tell).
_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "ssm": {
        "DocumentName": ("Name", "DocumentName"),
        "AutomationDefinitionName": ("DocumentName",),
        "VersionId": ("DocumentVersion",),
        "ParameterNameWithoutLeadingSlash": ("Name", "Names"),
    },
    "iam": {
        "RoleNameWithPath": ("RoleName",),
        "UserNameWithPath": ("UserName",),
        "PolicyNameWithPath": ("PolicyName",),
    },
    "ecs": {"TaskDefinitionFamilyName": ("family",)},
    "s3": {"BucketName": ("Bucket",), "ObjectName": ("Key",)},
    "autoscaling": {"GroupFriendlyName": ("AutoScalingGroupName",)},
    "rds": {
        "DbInstanceName": ("DBInstanceIdentifier",),
        "DbClusterInstanceName": ("DBClusterIdentifier",),
        "SnapshotName": ("DBSnapshotIdentifier", "TargetDBSnapshotIdentifier", "SourceDBSnapshotIdentifier"),
        "ClusterSnapshotName": ("DBClusterSnapshotIdentifier", "TargetDBClusterSnapshotIdentifier"),
    },
    "redshift": {"ClusterName": ("ClusterIdentifier",)},
    "elasticache": {"CacheClusterId": ("CacheClusterId",), "ReplicationGroupId": ("ReplicationGroupId",)},
    "logs": {"LogGroupName": ("logGroupName", "logGroupIdentifier"), "LogStreamName": ("logStreamName",)},
    "sns": {"TopicName": ("TopicArn", "Name")},
    "sqs": {"QueueName": ("QueueUrl", "QueueName")},
    "apigateway": {},
    "lambda": {"FunctionName": ("FunctionName",)},
    "cloudtrail": {"TrailName": ("Name", "TrailName")},
    "dynamodb": {"TableName": ("TableName", "ResourceArn")},
    "secretsmanager": {"SecretId": ("SecretId",)},
    "codebuild": {"ProjectName": ("name", "projectName", "names")},
    "cloudformation": {"StackName": ("StackName",)},
    "events": {"RuleName": ("Name", "Rule")},
    "states": {},
}


@dataclass(frozen=True)
class Check:
    """One authorization request: action on resource, with the context keys it carries."""

    action: str
    resource: str
    context: Mapping[str, Any] = field(default_factory=dict)
    modeled: frozenset[str] = frozenset()
    reason: str = ""  # why this check exists, for dependent permissions ("passes role X to ec2")


@dataclass(frozen=True)
class Call:
    service: str  # botocore service name
    operation: str
    params: Mapping[str, Any]
    account: str  # the account of the principal making the call
    region: str
    partition: str
    prefix: str
    #: looks up facts the parameters do not carry (alias -> key ARN, bucket -> owner account ...)
    lookup: Callable[[str, Any], Any] | None = None
    #: the REST request (method, path with its parameters filled), for services authorized by it
    http: tuple[str, str] | None = None


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _flatten(params: Any, path: str = "") -> list[tuple[str, str, Any]]:
    """(dotted path, last key, value) of every scalar or list of scalars in the params."""
    out: list[tuple[str, str, Any]] = []
    if isinstance(params, Mapping):
        for key, value in params.items():
            sub = f"{path}.{key}" if path else str(key)
            if isinstance(value, Mapping):
                out.extend(_flatten(value, sub))
            elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
                for i, v in enumerate(value):
                    out.extend(_flatten(v, f"{sub}[{i}]"))
            else:
                out.append((sub, str(key), value))
    return out


def _values(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value if isinstance(v, str | int)]
    if isinstance(value, str | int):
        return [str(value)]
    return []


def _top_level(call: Call) -> dict[str, list[str]]:
    return {k: _values(v) for k, v in call.params.items() if _values(v)}


def _candidates(call: Call, variable: str) -> list[str]:
    top = _top_level(call)
    for name in _ALIASES.get(call.prefix, {}).get(variable, ()):
        if name in top:
            return top[name]
    var = _norm(variable.removesuffix("WithPath"))
    if variable == "UserNameWithPath" and call.operation == "GetAccessKeyLastUsed":
        return top.get("AccessKeyId", [])  # resolved to the key's owner in _tail
    for name, values in top.items():
        n = _norm(name)
        if n in (var, var + "s", var + "ids") or n.rstrip("s") == var:
            return values
    for name, values in top.items():
        n = _norm(name)
        stem = var.removesuffix("name").removesuffix("id")
        if stem and (n == stem or n.removesuffix("s") == stem or var.endswith(n) or n.endswith(var)):
            return values
    return []


# ARN variables with a default when the call leaves them out.
_DEFAULTS = {
    ("ssm", "VersionId"): "$DEFAULT",  # StartAutomationExecution runs the default version
    # An Auto Scaling group's ARN carries an id the API never takes: only a wildcard can match it.
    ("autoscaling", "GroupId"): GENERATED,
    ("autoscaling", "Id"): GENERATED,  # likewise a launch configuration's
    # AWS Config names its recorder and delivery channel inside a structure; their ARNs carry generated ids.
    ("config", "RecorderName"): GENERATED,
    ("ecs", "TaskDefinitionRevisionNumber"): GENERATED,
    # An account's ARN names its organization, which DescribeAccount does not take.
    ("organizations", "OrganizationId"): GENERATED,  # RegisterTaskDefinition makes the next revision
    ("config", "RecorderId"): GENERATED,
}

_VAR = re.compile(r"\$\{([A-Za-z0-9]+)\}")


def _fill(call: Call, rtype: catalog.ResourceType, creates: bool) -> list[str]:
    """ARNs of one resource type for this call; [] if its variables are not in the params."""
    fmt = rtype.arn_format
    variables = [v for v in _VAR.findall(fmt) if v not in ("Partition", "Region", "Account")]
    base = fmt.replace("${Partition}", call.partition).replace("${Region}", call.region)
    base = base.replace("${Account}", call.account)
    if not variables:
        return [base]
    # A parameter that is itself an ARN of this resource type is used as it is.
    arn_params = [v for val in call.params.values() for v in _values(val) if v.startswith("arn:")]
    for arn in arn_params:
        if _shape_match(fmt, arn):
            return [arn]
    filled = [base]
    for variable in variables:
        values = _candidates(call, variable)
        values = [_tail(call, v, variable) for v in values]
        if not values and (call.prefix, variable) in _DEFAULTS:
            values = [_DEFAULTS[(call.prefix, variable)]]
        if not values:
            if creates and (variable.endswith("Id") or variable.endswith("Name")):
                values = [GENERATED]
            else:
                return []
        filled = [f.replace("${" + variable + "}", v, 1) for f in filled for v in values]
    return filled


def _shape_match(fmt: str, arn: str) -> bool:
    parts = re.split(r"(\$\{[A-Za-z0-9]+\})", fmt)
    pattern = "".join(
        ("[^:]*" if p in ("${Partition}", "${Region}", "${Account}") else ".+") if p.startswith("${") else re.escape(p)
        for p in parts
    )
    return bool(re.fullmatch(pattern, arn))


def _tail(call: Call, value: str, variable: str) -> str:
    """A name from a value that may be an ARN, URL or path (queue URL -> queue name ...)."""
    if value.startswith("https://") and call.prefix == "sqs":
        return value.rstrip("/").rsplit("/", 1)[-1]
    if value.startswith("arn:"):
        resource = value.split(":", 5)[5]
        if call.prefix in ("sns",):
            return resource
        return re.split(r"[:/]", resource)[-1]
    if variable == "ParameterNameWithoutLeadingSlash":
        return value.lstrip("/")
    if variable == "UserNameWithPath" and call.operation == "GetAccessKeyLastUsed" and call.lookup:
        value = call.lookup("access-key-user", (call.account, value)) or value  # the key's owner
    if variable.endswith("NameWithPath") and call.prefix == "iam" and call.lookup:
        # IAM authorizes on the ARN with the path (aws-service-role/config.amazonaws.com/...).
        path = call.lookup("iam-path", (call.account, variable.removesuffix("NameWithPath"), value)) or "/"
        return f"{path.strip('/')}/{value}".lstrip("/")
    return value


# Optional resource types AWS evaluates as well when the call names them. SSM authorizes an automation
# on the document and on its automation definition (document name and version); AWS-owned documents
# have no account in either ARN.
# https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-setup-iam.html
_ALSO_EVALUATED = {"ssm:StartAutomationExecution": ("automation-definition",)}
_SSM_DOCUMENT_TYPES = ("document", "automation-definition")


def _aws_owned(call: Call, rtype: catalog.ResourceType, arns: list[str]) -> list[str]:
    if call.prefix != "ssm" or rtype.name not in _SSM_DOCUMENT_TYPES:
        return arns
    owned = []
    for arn in arns:
        parts = arn.split(":", 5)
        name = parts[5].split("/", 1)[-1]
        if name.startswith(("AWS-", "AWSSupport-", "AWSConfigRemediation-", "Amazon")):
            parts[4] = ""
        owned.append(":".join(parts))
    return owned


def _resources(call: Call, action: catalog.Action) -> list[str]:
    creates = call.operation.startswith(("Create", "Run", "Start", "Allocate", "Copy", "Register", "Import"))
    if action.name in ("dynamodb:Query", "dynamodb:Scan") and call.params.get("IndexName"):
        # A Query or Scan of an index is authorized on the index, table/<table>/index/<index>, not the table:
        # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/iam-policy-specific-table-indexes.html
        index = [t for t in action.resource_types if t.name == "index"]
        arns = _fill(call, index[0], False) if index else []
        if arns:
            return arns
    if call.prefix == "ec2" and not action.required_types and action.resource_types:
        ids = [v for _, key, val in _flatten(call.params) for v in _values(val) if key in ("Resources", "ResourceId")]
        typed = []
        for rid in ids:
            rtype = _EC2_ID_TYPES.get(rid.split("-", 1)[0])
            if rtype:
                typed.append(f"arn:{call.partition}:ec2:{call.region}:{call.account}:{rtype}/{rid}")
        if typed:
            return typed
    required = action.required_types
    if not required:
        # A call that names its resource by ARN (TagResource, ListTagsForResource ...) is authorized on it.
        named = [
            v
            for val in call.params.values()
            for v in _values(val)
            if v.startswith("arn:") and any(_shape_match(t.arn_format, v) for t in action.resource_types)
        ]
        if named:
            return named
        optional = [t for t in action.resource_types if _fill(call, t, False)]
        if len(optional) == 1:
            return _fill(call, optional[0], False)
        return ["*"]
    arns: list[str] = []
    extra = [t for t in action.resource_types if t.name in _ALSO_EVALUATED.get(action.name, ())]
    for rtype in extra:
        arns.extend(_aws_owned(call, rtype, _fill(call, rtype, creates)))
    for rtype in required:
        filled = _fill(call, rtype, creates)
        if not filled:
            # An action may require one of several types ("bucket" or "accesspoint"): the call names one.
            siblings = [t for t in required if t is not rtype and _fill(call, t, creates)]
            if siblings:
                continue
            if action.access_level in ("List", "Read") and not _names_a_resource(call):
                # A Describe/List that names nothing reads every resource of the type: AWS can only
                # authorize it on "*" (a policy naming one resource ARN cannot cover it).
                arns.append("*")
                continue
            raise ModelError(
                f"{action.name}: cannot tell the {rtype.name!r} resource ({rtype.arn_format}) from the "
                f"parameters {sorted(call.params)} of {call.service}.{call.operation}"
            )
        arns.extend(_aws_owned(call, rtype, filled))
    return arns


def _names_a_resource(call: Call) -> bool:
    """Does the call carry an identifier (a name, id or ARN parameter)?"""
    return any(
        re.search(r"(Name|Id|Identifier|Arn|ARN|Url)s?$", key) and _values(value) for key, value in call.params.items()
    )


def _context(call: Call, extra: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], frozenset[str]]:
    ctx: dict[str, Any] = {"aws:requestedregion": call.region, "aws:securetransport": True}
    modeled = set(_GLOBAL_KEYS)
    p = call.params
    if call.prefix == "cloudwatch" and "Namespace" in p:
        ctx["cloudwatch:namespace"] = p["Namespace"]
    modeled.add("cloudwatch:namespace")
    if call.prefix == "iam":
        if "PolicyArn" in p:
            ctx["iam:policyarn"] = p["PolicyArn"]
        if "AWSServiceName" in p:
            ctx["iam:awsservicename"] = p["AWSServiceName"]
        modeled |= {"iam:policyarn", "iam:awsservicename", "iam:passedtoservice"}
    if call.prefix == "s3":
        if "ACL" in p:
            ctx["s3:x-amz-acl"] = p["ACL"]
        modeled.add("s3:x-amz-acl")
        bucket = p.get("Bucket")
        owner = p.get("ExpectedBucketOwner") or (
            call.lookup("bucket-owner", bucket) if call.lookup and bucket else None
        )
        if call.service == "s3control":
            owner = p.get("AccountId")
        if owner:
            ctx["s3:resourceaccount"] = owner
        modeled.add("s3:resourceaccount")
    if call.prefix == "ec2" and call.operation == "ModifySnapshotAttribute":
        # ec2:Add/group and ec2:Remove/group: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
        perm = p.get("CreateVolumePermission") or {}
        for verb in ("Add", "Remove"):
            groups = [g.get("Group") for g in perm.get(verb, []) if g.get("Group")]
            if p.get("OperationType", "").lower() == verb.lower():
                groups += list(p.get("GroupNames") or [])
            if groups:
                ctx[f"ec2:{verb.lower()}/group"] = groups
            modeled.add(f"ec2:{verb.lower()}/group")
    if call.prefix == "ecs":
        modeled.add("ecs:createaction")
    if extra:
        ctx.update({k.lower(): v for k, v in extra.items()})
    return ctx, frozenset(modeled | set(ctx))


def checks(call: Call) -> list[Check]:
    """Every authorization request AWS makes for this call."""
    out: list[Check] = []
    context, modeled = _context(call)
    if call.prefix == "apigateway":
        # API Gateway's management API is authorized by HTTP verb on the resource path:
        # apigateway:GET on arn:aws:apigateway:us-east-1::/restapis/a1b2/stages/prod
        # (https://docs.aws.amazon.com/apigateway/latest/developerguide/security_iam_service-with-iam.html)
        if call.http is None:
            raise ModelError(f"{call.service}.{call.operation}: API Gateway needs the REST method and path")
        method, path = call.http
        path = path.removeprefix("/v2").split("?", 1)[0]
        arn = f"arn:{call.partition}:apigateway:{call.region}::{path}"
        out.append(Check(f"apigateway:{method}", arn, context, modeled))
        out.extend(_pass_role(call))
        return out
    if (call.service, call.operation) in _TRANSACTIONS:
        # A transaction is authorized as its items, each on its table:
        # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
        for item in call.params.get("TransactItems") or []:
            for kind, body in item.items():
                action = _TRANSACTIONS[(call.service, call.operation)][kind]
                table = f"arn:{call.partition}:dynamodb:{call.region}:{call.account}:table/{body['TableName']}"
                out.append(Check(action, table, context, modeled))
        return out
    if (call.service, call.operation) == ("iam", "CreateServiceLinkedRole"):
        # The role it creates is aws-service-role/<service>/<the service's role name>.
        service = str(call.params.get("AWSServiceName", ""))
        if service not in _SLR_NAMES:
            raise ModelError(f"iam:CreateServiceLinkedRole: no known service-linked role name for {service!r}")
        arn = f"arn:{call.partition}:iam::{call.account}:role/aws-service-role/{service}/{_SLR_NAMES[service]}"
        return [Check("iam:CreateServiceLinkedRole", arn, context, modeled)]
    actions = catalog.actions_for(call.service, call.operation, call.prefix)
    for name in actions:
        action = catalog.action(name)
        for resource in _resources(call, action):
            out.append(Check(name, resource, context, modeled))
    out.extend(_pass_role(call))
    out.extend(_dependent(call))
    out.extend(_tag_on_create(call, out))
    slr = _CREATES_SLR.get((call.service, call.operation))
    if slr:
        slr, role_name = slr
        ctx, mod = _context(call, {"iam:AWSServiceName": slr})
        out.append(
            Check(
                "iam:CreateServiceLinkedRole",
                f"arn:{call.partition}:iam::{call.account}:role/aws-service-role/{slr}/{role_name}",
                ctx,
                mod | {"iam:awsservicename"},
                f"{call.operation} creates the service-linked role of {slr} on first use",
            )
        )
    return out


def _dependent(call: Call) -> list[Check]:
    """Permissions AWS checks on the caller for what a call makes the service do (each rule cites its page)."""
    p, acct, part, region = call.params, call.account, call.partition, call.region
    out: list[tuple[str, str, str, dict[str, Any]]] = []  # action, resource, why, extra context
    key = (call.service, call.operation)
    if key == ("s3", "CreateBucket") and p.get("ObjectOwnership"):
        # https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html (x-amz-object-ownership)
        out.append(("s3:PutBucketOwnershipControls", f"arn:{part}:s3:::{p['Bucket']}", "it sets ObjectOwnership", {}))
    if key == ("ec2", "CreateVpcEndpoint") and p.get("PrivateDnsEnabled"):
        # https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html (private DNS)
        zone = f"arn:{part}:route53:::hostedzone/{GENERATED}"
        out.append(("route53:AssociateVPCWithHostedZone", zone, "private DNS associates the VPC with AWS's zone", {}))
    if key == ("secretsmanager", "RotateSecret"):
        # https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html
        # ("You also need lambda:InvokeFunction permissions on the rotation function")
        function = p.get("RotationLambdaARN") or (
            call.lookup("rotation-function", (acct, region, p["SecretId"])) if call.lookup else None
        )
        if function:
            out.append(("lambda:InvokeFunction", str(function), "rotation runs the secret's rotation function", {}))
    if key == ("rds", "CopyDBSnapshot") and p.get("KmsKeyId"):
        # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CopySnapshot.html (KMS key grant)
        via = {"kms:ViaService": f"rds.{region}.amazonaws.com"}  # RDS makes these KMS calls for the caller
        out.append(("kms:CreateGrant", str(p["KmsKeyId"]), "the copy is encrypted with KmsKeyId", via))
        out.append(("kms:DescribeKey", str(p["KmsKeyId"]), "the copy is encrypted with KmsKeyId", via))
    if call.service == "application-autoscaling" and p.get("ServiceNamespace") == "dynamodb":
        # https://docs.aws.amazon.com/autoscaling/application/userguide/security_iam_id-based-policy-examples.html
        table = str(p.get("ResourceId", "")).split("/")
        table_arn = f"arn:{part}:dynamodb:{region}:{acct}:table/{table[1] if len(table) > 1 else GENERATED}"
        alarm = f"arn:{part}:cloudwatch:{region}:{acct}:alarm:TargetTracking-{p.get('ResourceId', '')}-{GENERATED}"
        if call.operation == "RegisterScalableTarget":
            out += [
                (a, table_arn, "Application Auto Scaling acts on the table", {})
                for a in ("dynamodb:DescribeTable", "dynamodb:UpdateTable")
            ]
            slr = "dynamodb.application-autoscaling.amazonaws.com"
            out.append(
                (
                    "iam:CreateServiceLinkedRole",
                    f"arn:{part}:iam::{acct}:role/aws-service-role/{slr}/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable",
                    "the first registration creates the service-linked role",
                    {"iam:AWSServiceName": slr},
                )
            )
        if call.operation == "PutScalingPolicy" and p.get("TargetTrackingScalingPolicyConfiguration"):
            out += [
                (a, alarm, "target tracking manages its alarms", {})
                for a in ("cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms")
            ]
    checks = []
    for action, resource, why, extra in out:
        ctx, mod = _context(call, extra)
        checks.append(
            Check(action, resource, ctx, mod | {k.lower() for k in extra}, f"{call.service}.{call.operation}: {why}")
        )
    return checks


def _pass_role(call: Call) -> list[Check]:
    if call.prefix in ("iam", "sts"):
        return []
    service = _PASSED_TO.get((call.service, call.operation), f"{call.prefix}.amazonaws.com")
    passed = []
    for path, key, value in _flatten(call.params):
        if call.prefix == "ssm" and path.startswith("Parameters.") and path != "Parameters.AutomationAssumeRole":
            continue  # other document parameters are data; the runbook passes them on itself, checked then
        for v in _values(value):
            if ROLE_ARN.match(v) and not key.endswith("Principal"):
                passed.append((path, v))
    out = []
    for path, arn in dict.fromkeys(passed):
        ctx, mod = _context(call, {"iam:PassedToService": service})
        out.append(
            Check(
                "iam:PassRole",
                arn,
                ctx,
                mod | {"iam:passedtoservice", "iam:associatedresourcearn"},
                f"{call.service}.{call.operation} passes role {arn} ({path}) to {service}",
            )
        )
    return out


def _tag_on_create(call: Call, main: list[Check]) -> list[Check]:
    """Tags given on create need the tagging action too, with <prefix>:CreateAction = the operation.

    https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html and the same
    rule in ECS, Secrets Manager, SNS, CloudWatch Logs (each service's tag-on-create page).
    """
    p = call.params
    tagged = bool(p.get("TagSpecifications") or p.get("Tags") or p.get("tags") or p.get("CopyTags"))
    if not tagged or not call.operation.startswith(("Create", "Run", "Register", "Copy", "Allocate")):
        return []
    main_actions = [c.action for c in main if c.action.startswith(call.prefix + ":")]
    documented = [
        d
        for a in dict.fromkeys(main_actions)
        for d in catalog.action(a).dependent_actions
        if d.startswith(call.prefix + ":") and re.search(r":(AddTags|CreateTags|TagResource)", d)
    ]
    tag_action = (
        documented[0] if documented else ("ec2:CreateTags" if call.prefix == "ec2" else f"{call.prefix}:TagResource")
    )
    if not catalog.is_action(tag_action):
        return []
    resources = [c.resource for c in main if c.action.startswith(call.prefix + ":")] or ["*"]
    ctx, mod = _context(call, {f"{call.prefix}:CreateAction": call.operation})
    return [
        Check(tag_action, r, ctx, mod, f"{call.service}.{call.operation} tags the resource it creates")
        for r in dict.fromkeys(resources)
    ]
