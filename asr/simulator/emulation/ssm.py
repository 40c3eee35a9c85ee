"""AWS Systems Manager: DescribeInstanceInformation (moto 5.2 lacks it), i.e. which EC2
instances are managed nodes.

API -- https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeInstanceInformation.html
"Provides information about one or more of your managed nodes ... This operation does not return
information for nodes that are either Stopped or Terminated. If you specify one or more node IDs,
the operation returns information for those managed nodes. If you don't specify node IDs, it
returns information for all your managed nodes. If you specify a node ID that isn't valid ... you
receive an error." Request: ``Filters`` (InstanceInformationStringFilter: ``Key`` one of
InstanceIds, AgentVersion, PingStatus, PlatformTypes, ActivationIds, IamRole, ResourceType,
AssociationStatus, ``tag-key`` or ``tag:<key>``; 1-100 ``Values``), the legacy
``InstanceInformationFilterList`` (``key`` / ``valueSet``; "Attempting to use
InstanceInformationFilterList and Filters leads to an exception error"), ``MaxResults`` (5-50),
``NextToken``. Errors: InvalidInstanceId, InvalidFilterKey, InvalidInstanceInformationFilterValue,
InvalidNextToken (and the common ValidationException,
https://docs.aws.amazon.com/systems-manager/latest/APIReference/CommonErrors.html).

Which EC2 instance is a managed node -- what SSM Agent does on the instance, which moto does not
run. An instance registers (is listed, ``PingStatus`` ``Online``, ``ResourceType`` ``EC2Instance``)
when all of these hold:

* it is running (the API lists neither stopped nor terminated nodes; a pending instance's agent
  has not started yet);
* SSM Agent is on it: its AMI is one of those AWS documents with the agent preinstalled
  (https://docs.aws.amazon.com/systems-manager/latest/userguide/ami-preinstalled-agent.html:
  Amazon Linux 2 and 2023, Amazon Linux base AMIs dated 2017.09 and later (not the minimal AMIs), Amazon EKS optimized
  AMIs, Ubuntu Server 18.04 LTS and later (16.04 from its 20180627 AMIs), Windows Server 2016 and
  later, and Windows Server 2008-2012 R2 AMIs published in November 2016 or later);
* the agent gets credentials allowed to register: the instance's IAM instance profile holds a role
  that ``ec2.amazonaws.com`` may assume and whose identity policies (within its permissions
  boundary, if any) allow ``ssm:UpdateInstanceInformation`` on the instance, as
  ``AmazonSSMManagedInstanceCore`` does
  (https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html).

Not emulated: Default Host Management Configuration (an account-level role instead of an
instance profile), hybrid activations (``mi-`` nodes), network reachability of the SSM endpoints.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.ssm.exceptions import InvalidFilterKey, SSMException, ValidationException
from moto.ssm.responses import SimpleSystemManagerResponse
from moto.utilities.utils import get_partition

from asr.simulator.emulation import extends

AGENT_VERSION = "3.3.1142.0"
_NODE_ID = re.compile(r"^(i-(\w{8}|\w{17})|mi-\w{17})$")
_KEYS = (
    "InstanceIds",
    "AgentVersion",
    "PingStatus",
    "PlatformTypes",
    "ActivationIds",
    "IamRole",
    "ResourceType",
    "AssociationStatus",
)
_ALLOWED_VALUES = {
    "PingStatus": ("Online", "ConnectionLost", "Inactive"),
    "PlatformTypes": ("Windows", "Linux", "MacOS"),
    "ResourceType": ("ManagedInstance", "EC2Instance"),
}
#: AMI name -> (platform name, version) of the AMI families AWS ships SSM Agent on.
_AGENT_AMIS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^amzn2-ami-(?!minimal-)"), "Amazon Linux 2"),
    (re.compile(r"^al2023-ami-"), "Amazon Linux 2023"),
    (re.compile(r"^amazon-eks-node"), "Amazon Linux 2"),
    (re.compile(r"^amzn-ami-(?:hvm|pv)-(?P<year>20\d\d)\.(?P<month>\d\d)"), "Amazon Linux"),
    (re.compile(r"^ubuntu/images/[^/]+/ubuntu-(?:bionic|focal|jammy|noble)-"), "Ubuntu"),
    (re.compile(r"^ubuntu/images/[^/]+/ubuntu-xenial-16\.04-[a-z0-9]+-server-(?P<date>\d{8})"), "Ubuntu"),
    (re.compile(r"^Windows_Server-20(?:16|19|22|25)-"), "Microsoft Windows Server"),
    (
        re.compile(r"^Windows_Server-20(?:08|12)-.*-(?P<year>20\d\d)\.(?P<month>\d\d)\.\d\d$"),
        "Microsoft Windows Server",
    ),
)


class InvalidInstanceId(SSMException):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidInstanceId", message)


class InvalidInstanceInformationFilterValue(SSMException):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidInstanceInformationFilterValue", message)


class InvalidNextToken(SSMException):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidNextToken", message)


def agent_platform(ami_name: str | None) -> str | None:
    """The platform name of an AMI AWS ships SSM Agent on, None if the AMI has no agent."""
    for pattern, platform in _AGENT_AMIS:
        found = pattern.match(ami_name or "")
        if not found:
            continue
        parts = found.groupdict()
        if parts.get("date"):
            return platform if parts["date"] >= "20180627" else None
        if parts.get("year"):
            dated = (int(parts["year"]), int(parts["month"]))
            earliest = (2017, 9) if platform == "Amazon Linux" else (2016, 11)
            return platform if dated >= earliest else None
        return platform
    return None


def _documents(raw: Any) -> dict[str, Any]:
    return json.loads(raw) if isinstance(raw, str) else dict(raw or {})


def _ec2_may_assume(role: Any) -> bool:
    """Does the role's trust policy let the EC2 service (the instance profile) assume it?"""
    trust = _documents(role.assume_role_policy_document)
    raw = trust.get("Statement")
    for statement in [raw] if isinstance(raw, dict) else list(raw or []):
        actions = statement.get("Action")
        actions = [actions] if isinstance(actions, str) else list(actions or [])
        services = (
            (statement.get("Principal") or {}).get("Service") if isinstance(statement.get("Principal"), dict) else None
        )
        services = [services] if isinstance(services, str) else list(services or [])
        if (
            statement.get("Effect") == "Allow"
            and not statement.get("Condition")
            and any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions)
            and "ec2.amazonaws.com" in services
        ):
            return True
    return False


def _default_document(policy: Any) -> dict[str, Any]:
    return _documents(next(v.document for v in policy.versions if v.is_default))


def _may_register(iam: Any, role: Any, instance_arn: str) -> bool:
    """Do the role's identity policies (and boundary) allow ssm:UpdateInstanceInformation on the instance?"""
    from asr.iam.policy import ModelError, Policy, PolicyError, Request, decide

    documents = [(p.name, _default_document(p)) for p in role.managed_policies.values()]
    documents += [(name, _documents(doc)) for name, doc in role.policies.items()]
    request = Request(principal=role.arn, action="ssm:UpdateInstanceInformation", resource=instance_arn)
    try:
        if not decide([Policy.parse(n, d) for n, d in documents], request, role.account_id).allowed:
            return False
        if role.permissions_boundary_arn:
            boundary = iam.get_policy(role.permissions_boundary_arn)
            return decide([Policy.parse(boundary.name, _default_document(boundary))], request).allowed
    except (ModelError, PolicyError):  # a condition the agent's request cannot be judged by: not granted
        return False
    return True


def _registering_role(iam: Any, ec2: Any, instance: Any, instance_arn: str) -> Any | None:
    association = ec2.iam_instance_profile_associations.get(instance.id)
    if association is None or association.state != "associated":
        return None
    try:
        profile = iam.get_instance_profile_by_arn(association.iam_instance_profile.arn)
    except Exception:  # the profile was deleted: no credentials
        return None
    for role in profile.roles:
        if _ec2_may_assume(role) and _may_register(iam, role, instance_arn):
            return role
    return None


def managed_nodes(account: str, region: str) -> list[dict[str, Any]]:
    """InstanceInformation of every EC2 instance of the account and Region SSM Agent registered."""
    from moto.ec2.models import ec2_backends
    from moto.iam.models import iam_backends

    partition = get_partition(region)
    ec2 = ec2_backends[account][region]
    iam = iam_backends[account][partition]
    nodes = []
    for instance in ec2.all_instances():
        if instance.state != "running":
            continue
        ami = ec2.amis.get(instance.image_id)
        platform_name = agent_platform(ami.name if ami else None)
        if platform_name is None:
            continue
        arn = f"arn:{partition}:ec2:{region}:{account}:instance/{instance.id}"
        if _registering_role(iam, ec2, instance, arn) is None:
            continue
        now = datetime.now(UTC)
        nodes.append(
            {
                "InstanceId": instance.id,
                "PingStatus": "Online",
                "LastPingDateTime": now,
                "AgentVersion": AGENT_VERSION,
                "IsLatestVersion": True,
                "PlatformType": "Windows" if (instance.platform or "").lower() == "windows" else "Linux",
                "PlatformName": platform_name,
                "ResourceType": "EC2Instance",
                "IPAddress": instance.private_ip,
                "ComputerName": instance.private_dns_name,
                "SourceId": instance.id,
                "SourceType": "AWS::EC2::Instance",
                "_tags": {t["key"]: t["value"] for t in instance.get_tags()},
            }
        )
    return sorted(nodes, key=lambda n: n["InstanceId"])


def _filters(response: SimpleSystemManagerResponse) -> list[tuple[str, list[str]]]:
    string_filters = response._get_param("Filters")
    legacy = response._get_param("InstanceInformationFilterList")
    if string_filters and legacy:
        raise InvalidInstanceInformationFilterValue(
            "InstanceInformationFilterList and Filters cannot be used in the same request"
        )
    pairs = [(f.get("Key"), f.get("Values")) for f in string_filters or []]
    pairs += [(f.get("key"), f.get("valueSet")) for f in legacy or []]
    checked = []
    for key, values in pairs:
        tag_filter = bool(string_filters) and (key == "tag-key" or (key or "").startswith("tag:"))
        if key not in _KEYS and not tag_filter:
            raise InvalidFilterKey(f"The filter key {key!r} is not valid")
        if not values or len(values) > 100:
            raise InvalidInstanceInformationFilterValue(f"Filter {key} needs 1 to 100 values, got {len(values or [])}")
        allowed = _ALLOWED_VALUES.get(key)
        wrong = [v for v in values if allowed and v not in allowed]
        if wrong:
            raise InvalidInstanceInformationFilterValue(
                f"Filter {key} value(s) {', '.join(wrong)} not one of {', '.join(allowed)}"
            )
        if key == "InstanceIds":
            malformed = [v for v in values if not _NODE_ID.match(v)]
            if malformed:
                raise InvalidInstanceId(f"Instance id(s) {', '.join(malformed)} are not valid")
        checked.append((key, list(values)))
    return checked


def _matches(node: dict[str, Any], key: str, values: list[str]) -> bool:
    if key == "tag-key":
        return any(v in node["_tags"] for v in values)
    if key.startswith("tag:"):
        return node["_tags"].get(key[4:]) in values
    field = {"InstanceIds": "InstanceId", "PlatformTypes": "PlatformType", "ActivationIds": "ActivationId"}.get(
        key, key
    )
    return node.get(field) in values


@extends(SimpleSystemManagerResponse)
def describe_instance_information(self: SimpleSystemManagerResponse) -> ActionResult:
    filters = _filters(self)
    max_results = self._get_param("MaxResults")
    if max_results is not None and not 5 <= int(max_results) <= 50:
        raise ValidationException(f"MaxResults {max_results} is not between 5 and 50")
    token = self._get_param("NextToken")
    if token is not None and not str(token).isdigit():
        raise InvalidNextToken(f"The NextToken {token!r} is not valid")
    nodes = [
        n
        for n in managed_nodes(self.current_account, self.region)
        if all(_matches(n, key, values) for key, values in filters)
    ]
    start = int(token or 0)
    if start > len(nodes):
        raise InvalidNextToken(f"The NextToken {token!r} is not valid")
    end = start + int(max_results or 50)
    page = [{k: v for k, v in n.items() if not k.startswith("_")} for n in nodes[start:end]]
    result: dict[str, Any] = {"InstanceInformationList": page}
    if end < len(nodes):
        result["NextToken"] = str(end)
    return ActionResult(result)
