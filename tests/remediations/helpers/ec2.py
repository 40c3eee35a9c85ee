"""EC2 builders and read-backs on moto: security groups and their rules."""

from __future__ import annotations

from typing import Any

# Sources of an ingress permission that open it to the whole Internet.
V4_WORLD = {"IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
V6_WORLD = {"Ipv6Ranges": [{"CidrIpv6": "::/0"}]}


def permission(protocol: str, low: int, high: int, **source: Any) -> dict[str, Any]:
    """An IpPermissions entry, e.g. ``permission("tcp", 22, 22, **V4_WORLD)``."""
    return {"IpProtocol": protocol, "FromPort": low, "ToPort": high, **source}


def security_group_rules(ec2, group_id: str) -> dict[str, dict[str, Any]]:
    """Every rule of the group (ingress and egress) by id, as the API shows it."""
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])
    return {r["SecurityGroupRuleId"]: r for r in rules["SecurityGroupRules"]}


def make_security_groups(ec2) -> dict[str, str]:
    """In a new VPC: groups ``target``, ``other`` and ``bystander`` (no ingress yet), and a managed
    prefix list ``prefix_list`` (192.0.2.0/24), to write rules that reference a group or a list."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    groups = {name: ec2.create_security_group(GroupName=name, Description=name[0], VpcId=vpc)["GroupId"]
              for name in ("target", "other", "bystander")}
    prefix_list = ec2.create_managed_prefix_list(
        PrefixListName="office", MaxEntries=2, AddressFamily="IPv4", Entries=[{"Cidr": "192.0.2.0/24"}]
    )["PrefixList"]["PrefixListId"]
    return {"vpc": vpc, **groups, "prefix_list": prefix_list}
