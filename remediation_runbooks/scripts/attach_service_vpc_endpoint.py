"""ASR-AttachServiceVPCEndpoint: give a VPC an Interface endpoint for one AWS service.

The endpoint gets its own security group, ``SO0111-ASR-VpcEndpoint-<service>``, admitting HTTPS (443)
from every CIDR block of the VPC. The security group of an interface endpoint "must allow
communication between the endpoint network interfaces and the resources in your VPC that
communicate with the service" (AWS PrivateLink Guide, "Access an AWS service using an interface VPC
endpoint": https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html).
Without a group, the endpoint gets the VPC's default security group; with private DNS every call to
the service from the VPC goes to the endpoint, so only members of the default group (and nothing,
once EC2.2 emptied it) could reach the EC2 API.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
GONE_STATES = ("deleting", "deleted", "rejected", "failed", "expired")
GROUP_PREFIX = "SO0111-ASR-VpcEndpoint-"
HTTPS = 443
# A new group may not be visible yet ("Eventual consistency in the Amazon EC2 API",
# https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html: InvalidGroup.NotFound).
RETRY_ATTEMPTS, RETRY_INTERVAL_SECONDS = 6, 5


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _check_vpc(ec2: Any, vpc_id: str) -> None:
    try:
        ec2.describe_vpcs(VpcIds=[vpc_id])
    except ClientError as err:
        if err.response["Error"]["Code"] in ("InvalidVpcID.NotFound", "InvalidVpcID.Malformed"):
            raise RemediationError(f"VPCId {vpc_id}: no such VPC in this account and Region") from None
        raise


def _interface_service(ec2: Any, full_name: str) -> dict[str, Any] | None:
    try:
        details = ec2.describe_vpc_endpoint_services(ServiceNames=[full_name])["ServiceDetails"]
    except ClientError as err:
        if err.response["Error"]["Code"] == "InvalidServiceName":
            return None
        raise
    for detail in details:
        types = {t["ServiceType"] for t in detail.get("ServiceType", [])}
        if detail["ServiceName"] == full_name and "Interface" in types:
            return detail
    return None


def _endpoint_service(ec2: Any, service: str) -> dict[str, Any]:
    """The Interface endpoint service ``service`` of this Region (its full name and zones)."""
    region = ec2.meta.region_name
    candidates = [f"com.amazonaws.{region}.{service}"]
    if region.startswith("cn-"):
        candidates.insert(0, f"cn.com.amazonaws.{region}.{service}")
    for full_name in candidates:
        detail = _interface_service(ec2, full_name)
        if detail:
            return detail
    raise RemediationError(
        f"ServiceName {service}: no Interface endpoint service {' or '.join(candidates)} in Region {region}"
    )


def _existing_endpoint(ec2: Any, vpc_id: str, service_name: str) -> str | None:
    endpoints = ec2.describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "service-name", "Values": [service_name]}]
    )["VpcEndpoints"]
    for endpoint in endpoints:
        if (
            endpoint["VpcId"] == vpc_id
            and endpoint["ServiceName"] == service_name
            and (str(endpoint.get("State", "")).lower() not in GONE_STATES)
        ):
            return endpoint["VpcEndpointId"]
    return None


def _one_subnet_per_zone(ec2: Any, vpc_id: str, zones: list[str]) -> list[str]:
    """First subnet (by id) of each Availability Zone the service is offered in."""
    by_zone: dict[str, str] = {}
    pages = ec2.get_paginator("describe_subnets").paginate(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    subnets = sorted((s for page in pages for s in page["Subnets"]), key=lambda s: s["SubnetId"])
    for subnet in subnets:
        zone = subnet["AvailabilityZone"]
        if (not zones or zone in zones) and zone not in by_zone:
            by_zone[zone] = subnet["SubnetId"]
    return [by_zone[z] for z in sorted(by_zone)]


def _vpc_cidrs(ec2: Any, vpc_id: str) -> tuple[list[str], list[str]]:
    """(IPv4, IPv6) CIDR blocks associated with the VPC."""
    vpc = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    v4 = [
        a["CidrBlock"]
        for a in vpc.get("CidrBlockAssociationSet") or [{"CidrBlock": vpc["CidrBlock"]}]
        if (a.get("CidrBlockState") or {}).get("State", "associated") == "associated"
    ]
    v6 = [
        a["Ipv6CidrBlock"]
        for a in vpc.get("Ipv6CidrBlockAssociationSet") or []
        if (a.get("Ipv6CidrBlockState") or {}).get("State", "associated") == "associated"
    ]
    return sorted(set(v4)), sorted(set(v6))


def _authorize(ec2: Any, group_id: str, permission: dict[str, Any], sleep: Callable[[float], None]) -> None:
    for attempt in range(RETRY_ATTEMPTS):
        try:
            ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[permission])
            return
        except ClientError as err:
            if err.response["Error"]["Code"] != "InvalidGroup.NotFound" or attempt == RETRY_ATTEMPTS - 1:
                raise
            sleep(RETRY_INTERVAL_SECONDS)


def _endpoint_group(
    ec2: Any, vpc_id: str, service: str, sleep: Callable[[float], None] = time.sleep
) -> tuple[str, list[str]]:
    """The endpoint's security group (created, or reused from an earlier run) and the 443 rules added."""
    name = f"{GROUP_PREFIX}{service}"
    found = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": [name]}]
    )["SecurityGroups"]
    if found:
        group = found[0]
    else:
        group_id = ec2.create_security_group(
            GroupName=name,
            Description=f"HTTPS from the VPC to its {service} interface endpoint (ASR, Security Hub EC2.10)",
            VpcId=vpc_id,
        )["GroupId"]
        group = {"GroupId": group_id, "IpPermissions": []}  # new: no inbound rule yet
    have = {
        (r.get("CidrIp") or r.get("CidrIpv6"))
        for p in group.get("IpPermissions", [])
        if p.get("IpProtocol") == "tcp" and p.get("FromPort") == HTTPS and p.get("ToPort") == HTTPS
        for r in [*p.get("IpRanges", []), *p.get("Ipv6Ranges", [])]
    }
    v4, v6 = _vpc_cidrs(ec2, vpc_id)
    add_v4, add_v6 = [c for c in v4 if c not in have], [c for c in v6 if c not in have]
    if add_v4 or add_v6:
        permission: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": HTTPS, "ToPort": HTTPS}
        description = "HTTPS from the VPC (ASR endpoint group)"
        if add_v4:
            permission["IpRanges"] = [{"CidrIp": c, "Description": description} for c in add_v4]
        if add_v6:
            permission["Ipv6Ranges"] = [{"CidrIpv6": c, "Description": description} for c in add_v6]
        _authorize(ec2, group["GroupId"], permission, sleep)
    return group["GroupId"], add_v4 + add_v6


def _dns_enabled(ec2: Any, vpc_id: str) -> bool:
    support = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport")["EnableDnsSupport"]["Value"]
    names = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"]
    return bool(support and names)


def attach_service_vpc_endpoint(
    event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, str]:
    vpc_id = event["VPCId"]
    service = event["ServiceName"]
    ec2 = boto3.client("ec2", config=BOTO_CONFIG)
    _check_vpc(ec2, vpc_id)
    detail = _endpoint_service(ec2, service)
    service_name = detail["ServiceName"]
    existing = _existing_endpoint(ec2, vpc_id, service_name)
    if existing:
        return {
            "VpcId": vpc_id,
            "ServiceName": service_name,
            "VpcEndpointId": existing,
            "Created": "false",
            "Message": f"VPC {vpc_id} already has endpoint {existing} for {service_name}; nothing changed.",
        }
    subnets = _one_subnet_per_zone(ec2, vpc_id, detail.get("AvailabilityZones", []))
    if not subnets:
        raise RemediationError(
            f"VPCId {vpc_id} has no subnet in a zone where {service_name} is offered; nothing changed"
        )
    private_dns = _dns_enabled(ec2, vpc_id)
    group_id, opened = _endpoint_group(ec2, vpc_id, service, sleep)
    endpoint = ec2.create_vpc_endpoint(
        VpcEndpointType="Interface",
        VpcId=vpc_id,
        ServiceName=service_name,
        SubnetIds=subnets,
        SecurityGroupIds=[group_id],
        PrivateDnsEnabled=private_dns,
    )["VpcEndpoint"]
    return {
        "VpcId": vpc_id,
        "ServiceName": service_name,
        "VpcEndpointId": endpoint["VpcEndpointId"],
        "SubnetIds": ", ".join(subnets),
        "SecurityGroupId": group_id,
        "HttpsFrom": ", ".join(opened) or "unchanged (earlier run)",
        "PrivateDnsEnabled": str(private_dns).lower(),
        "Created": "true",
        "Message": (
            f"Created Interface endpoint {endpoint['VpcEndpointId']} for {service_name} in {len(subnets)} subnet(s), "
            f"security group {group_id} admitting HTTPS from the VPC"
            + (", with private DNS." if private_dns else "; private DNS off because the VPC's DNS attributes are off.")
        ),
    }
