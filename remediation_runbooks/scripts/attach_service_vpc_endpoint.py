"""ASR-AttachServiceVPCEndpoint: give a VPC an Interface endpoint for one AWS service."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
GONE_STATES = ("deleting", "deleted", "rejected", "failed", "expired")


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


def _dns_enabled(ec2: Any, vpc_id: str) -> bool:
    support = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport")["EnableDnsSupport"]["Value"]
    names = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"]
    return bool(support and names)


def attach_service_vpc_endpoint(event: dict[str, Any], _context: Any) -> dict[str, str]:
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
    endpoint = ec2.create_vpc_endpoint(
        VpcEndpointType="Interface",
        VpcId=vpc_id,
        ServiceName=service_name,
        SubnetIds=subnets,
        PrivateDnsEnabled=private_dns,
    )["VpcEndpoint"]
    return {
        "VpcId": vpc_id,
        "ServiceName": service_name,
        "VpcEndpointId": endpoint["VpcEndpointId"],
        "SubnetIds": ", ".join(subnets),
        "PrivateDnsEnabled": str(private_dns).lower(),
        "Created": "true",
        "Message": (
            f"Created Interface endpoint {endpoint['VpcEndpointId']} for {service_name} in {len(subnets)} subnet(s)"
            + (" with private DNS." if private_dns else "; private DNS off because the VPC's DNS attributes are off.")
        ),
    }
