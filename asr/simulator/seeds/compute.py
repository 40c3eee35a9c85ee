"""Seeders for compute and network controls: Amazon EC2 (EBS, VPCs, subnets, security groups,
transit gateways), Amazon ECR, AWS Lambda, EC2 Auto Scaling and AWS Systems Manager.

Each seeder builds, in emulated AWS, the noncompliant shape the control's documentation
describes, next to what the remediation must leave alone: the other rules of the same
security group, other security groups, subnets, gateways, functions, groups or documents.

EC2.4, ECS.5, AutoScaling.3 and Autoscaling.5 remediations terminate or replace the finding's
resource: their seeders (at the end) say what replaces it (``Seeded.replaced_by``).

No seeder:
* SSM.1 -- moto 5.2.5 does not implement DescribeInstanceInformation, which the control reads.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from asr.controls import Resource
from asr.simulator.seeds import Seeded, Where, seeder

OTHER_ACCOUNT = "222222222222"
WORLD_V4, WORLD_V6 = "0.0.0.0/0", "::/0"


def _ec2_arn(where: Where, kind: str, ident: str) -> str:
    return f"arn:{where.partition}:ec2:{where.region}:{where.account}:{kind}/{ident}"


def _vpc(where: Where, cidr: str = "10.20.0.0/16") -> str:
    return where.client("ec2").create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]


# --------------------------------------------------------------------------- security groups


def _group(where: Where, vpc_id: str, name: str) -> str:
    return where.client("ec2").create_security_group(GroupName=name, Description=f"seeded {name}", VpcId=vpc_id)[
        "GroupId"
    ]


def _rule(protocol: str, low: int | None, high: int | None, *, v4: list[str] = (), v6: list[str] = ()) -> dict:
    permission: dict[str, Any] = {"IpProtocol": protocol}
    if low is not None:
        permission.update(FromPort=low, ToPort=high)
    if v4:
        permission["IpRanges"] = [{"CidrIp": cidr} for cidr in v4]
    if v6:
        permission["Ipv6Ranges"] = [{"CidrIpv6": cidr} for cidr in v6]
    return permission


def _ingress(where: Where, group_id: str, permissions: list[dict[str, Any]]) -> None:
    where.client("ec2").authorize_security_group_ingress(GroupId=group_id, IpPermissions=permissions)


def _rules(where: Where, group_id: str) -> list[tuple]:
    """Every rule of the group (ingress and egress), as comparable tuples."""
    ec2 = where.client("ec2")
    pages = ec2.get_paginator("describe_security_group_rules").paginate(
        Filters=[{"Name": "group-id", "Values": [group_id]}]
    )
    return sorted(
        (
            r["IsEgress"],
            str(r["IpProtocol"]),
            r.get("FromPort"),
            r.get("ToPort"),
            r.get("CidrIpv4") or r.get("CidrIpv6") or (r.get("ReferencedGroupInfo") or {}).get("GroupId", ""),
        )
        for page in pages
        for r in page["SecurityGroupRules"]
        if r["GroupId"] == group_id
    )


def _open_group(where: Where, name: str, offending: list[dict[str, Any]]) -> Seeded:
    """A security group with ``offending`` world-open ingress rules, plus rules the remediation must keep
    (443 from the world, 22 from a private range, a rule from another group) and a bystander group
    with the same offending rules."""
    vpc_id = _vpc(where)
    group_id = _group(where, vpc_id, name)
    peer = _group(where, vpc_id, f"{name}-peer")
    bystander = _group(where, vpc_id, f"{name}-bystander")
    kept = [
        _rule("tcp", 443, 443, v4=[WORLD_V4], v6=[WORLD_V6]),
        _rule("tcp", 22, 22, v4=["10.0.0.0/8"]),
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": peer}]},
    ]
    _ingress(where, group_id, offending + kept)
    _ingress(where, bystander, offending)
    return Seeded(
        resource=Resource.of_arn(_ec2_arn(where, "security-group", group_id), "AwsEc2SecurityGroup"),
        state=lambda: _rules(where, group_id),
        bystanders=lambda: (_rules(where, bystander), _rules(where, peer)),
    )


@seeder("EC2.2")
def default_group_with_rules(where: Where) -> Seeded:
    """A new VPC's default security group, with the rules AWS creates (all traffic from itself in,
    all traffic out) plus an SSH rule; another group of the VPC keeps its rules."""
    ec2 = where.client("ec2")
    vpc_id = _vpc(where)
    default = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]["GroupId"]
    _ingress(where, default, [_rule("tcp", 22, 22, v4=[WORLD_V4])])
    other = _group(where, vpc_id, "app")
    _ingress(where, other, [_rule("tcp", 443, 443, v4=[WORLD_V4])])
    return Seeded(
        resource=Resource.of_arn(_ec2_arn(where, "security-group", default), "AwsEc2SecurityGroup"),
        state=lambda: _rules(where, default),
        bystanders=lambda: _rules(where, other),
    )


@seeder("EC2.13")
def open_ssh(where: Where) -> Seeded:
    """SSH open to 0.0.0.0/0 only (no ::/0 rule, no RDP rule: the shape AWS-DisablePublicAccessForSecurityGroup
    failed on with InvalidPermission.NotFound)."""
    return _open_group(where, "ssh", [_rule("tcp", 22, 22, v4=[WORLD_V4])])


@seeder("EC2.13", shape="port-range")
def open_all_ports(where: Where) -> Seeded:
    """TCP 0-65535 from 0.0.0.0/0 and ::/0: it reaches port 22 though no rule names it."""
    return _open_group(where, "range", [_rule("tcp", 0, 65535, v4=[WORLD_V4], v6=[WORLD_V6])])


@seeder("EC2.13", shape="all-traffic")
def open_all_traffic(where: Where) -> Seeded:
    """All traffic (IpProtocol -1) from ::/0 and SSH over UDP from 0.0.0.0/0."""
    return _open_group(where, "all", [_rule("-1", None, None, v6=[WORLD_V6]), _rule("udp", 22, 22, v4=[WORLD_V4])])


@seeder("EC2.14")
def open_rdp(where: Where) -> Seeded:
    """RDP open to ::/0 only (no IPv4 rule, no SSH rule)."""
    return _open_group(where, "rdp", [_rule("tcp", 3389, 3389, v6=[WORLD_V6])])


@seeder("EC2.14", shape="port-range")
def open_rdp_range(where: Where) -> Seeded:
    """TCP 3000-3400 from 0.0.0.0/0: it reaches port 3389 though no rule names it."""
    return _open_group(where, "rdp-range", [_rule("tcp", 3000, 3400, v4=[WORLD_V4])])


@seeder("EC2.18")
def unauthorized_port(where: Where) -> Seeded:
    """TCP 8080 and UDP 53 open to the world (neither authorized by default), next to 443 (authorized)."""
    return _open_group(
        where, "unauthorized", [_rule("tcp", 8080, 8080, v4=[WORLD_V4]), _rule("udp", 53, 53, v6=[WORLD_V6])]
    )


@seeder("EC2.19")
def high_risk_port(where: Where) -> Seeded:
    """MySQL (3306) open to 0.0.0.0/0 and a TCP range 9000-9300 (holding 9200 and 9300) open to ::/0."""
    return _open_group(
        where, "highrisk", [_rule("tcp", 3306, 3306, v4=[WORLD_V4]), _rule("tcp", 9000, 9300, v6=[WORLD_V6])]
    )


# --------------------------------------------------------------------------- EBS, instances, VPCs


def _volume_permissions(where: Where, snapshot_id: str) -> list[dict[str, Any]]:
    perms = where.client("ec2").describe_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission")
    return sorted(perms["CreateVolumePermissions"], key=lambda p: json.dumps(p, sort_keys=True))


@seeder("EC2.1")
def public_snapshot(where: Where) -> Seeded:
    """A snapshot anyone can restore (createVolumePermission group 'all'), a snapshot shared with one
    named account (kept) and a private one."""
    ec2 = where.client("ec2")
    zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]

    def snapshot(description: str) -> str:
        volume = ec2.create_volume(AvailabilityZone=zone, Size=1)["VolumeId"]
        return ec2.create_snapshot(VolumeId=volume, Description=description)["SnapshotId"]

    public, shared, private = snapshot("public"), snapshot("shared"), snapshot("private")
    add = {"Attribute": "createVolumePermission", "OperationType": "add"}
    ec2.modify_snapshot_attribute(SnapshotId=public, GroupNames=["all"], **add)
    ec2.modify_snapshot_attribute(SnapshotId=shared, UserIds=[OTHER_ACCOUNT], **add)
    return Seeded(
        resource=Resource.account_level(where.account, where.region, where.partition),
        state=lambda: _volume_permissions(where, public),
        bystanders=lambda: (_volume_permissions(where, shared), _volume_permissions(where, private)),
    )


@seeder("EC2.7")
def ebs_default_encryption_off(where: Where) -> Seeded:
    """EBS encryption by default off in the Region (the account's starting state); another Region's
    setting is not touched."""
    ec2 = where.client("ec2")
    ec2.disable_ebs_encryption_by_default()
    other = where.client("ec2", "eu-west-1" if where.region != "eu-west-1" else "us-west-2")
    return Seeded(
        resource=Resource.account_level(where.account, where.region, where.partition),
        state=lambda: ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"],
        bystanders=lambda: other.get_ebs_encryption_by_default()["EbsEncryptionByDefault"],
    )


def _image(where: Where) -> str:
    ec2 = where.client("ec2")
    images = ec2.describe_images(Owners=["amazon"])["Images"] or ec2.describe_images()["Images"]
    return sorted(i["ImageId"] for i in images)[0]


def _instance_view(where: Where, instance_id: str) -> dict[str, Any]:
    instance = where.client("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    return {
        "State": instance["State"]["Name"],
        "MetadataOptions": {k: v for k, v in (instance.get("MetadataOptions") or {}).items() if k != "State"},
        "InstanceType": instance.get("InstanceType"),
        "IamInstanceProfile": (instance.get("IamInstanceProfile") or {}).get("Arn"),
    }


@seeder("EC2.8")
def instance_allows_imdsv1(where: Where) -> Seeded:
    """A running instance whose metadata options allow IMDSv1 (HttpTokens optional), next to another
    such instance."""
    ec2 = where.client("ec2")
    options = {"HttpTokens": "optional", "HttpEndpoint": "enabled"}
    ids = [
        i["InstanceId"]
        for i in ec2.run_instances(
            ImageId=_image(where), InstanceType="t3.micro", MinCount=2, MaxCount=2, MetadataOptions=options
        )["Instances"]
    ]
    target, other = ids
    return Seeded(
        resource=Resource.of_arn(_ec2_arn(where, "instance", target), "AwsEc2Instance"),
        state=lambda: _instance_view(where, target),
        bystanders=lambda: _instance_view(where, other),
    )


def _flow_logs(where: Where, vpc_id: str) -> list[tuple]:
    logs = where.client("ec2").describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["FlowLogs"]
    return sorted((f["FlowLogId"], f["TrafficType"], f.get("LogGroupName", "")) for f in logs)


@seeder("EC2.6")
def vpc_without_flow_logs(where: Where) -> Seeded:
    """A VPC with no flow log; another VPC with none stays so."""
    target, other = _vpc(where, "10.30.0.0/16"), _vpc(where, "10.31.0.0/16")
    return Seeded(
        resource=Resource.of_arn(_ec2_arn(where, "vpc", target), "AwsEc2Vpc"),
        state=lambda: _flow_logs(where, target),
        bystanders=lambda: _flow_logs(where, other),
    )


def _endpoints(where: Where, vpc_id: str) -> list[tuple]:
    endpoints = where.client("ec2").describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
        "VpcEndpoints"
    ]
    return sorted(
        (
            e["VpcEndpointId"],
            e["ServiceName"],
            tuple(sorted(e.get("SubnetIds", []))),
            tuple(sorted(g["GroupId"] for g in e.get("Groups", []))),
        )
        for e in endpoints
    )


@seeder("EC2.10")
def vpc_without_ec2_endpoint(where: Where) -> Seeded:
    """A VPC with subnets in two zones, DNS on, and no endpoint for Amazon EC2; its default security group
    and an application group keep their rules, another VPC gets no endpoint."""
    ec2 = where.client("ec2")
    vpc_id = _vpc(where, "10.40.0.0/16")
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    for index, zone in enumerate(zones):
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.40.{index}.0/24", AvailabilityZone=zone)
    default = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]["GroupId"]
    app = _group(where, vpc_id, "app")
    _ingress(where, app, [_rule("tcp", 8443, 8443, v4=["10.40.0.0/16"])])
    other = _vpc(where, "10.41.0.0/16")
    return Seeded(
        resource=Resource.of_arn(_ec2_arn(where, "vpc", vpc_id), "AwsEc2Vpc"),
        state=lambda: _endpoints(where, vpc_id),
        bystanders=lambda: (_rules(where, default), _rules(where, app), _endpoints(where, other)),
    )


@seeder("EC2.15")
def subnet_auto_assigns_public_ip(where: Where) -> Seeded:
    """A subnet that gives new instances a public IPv4 address; a sibling subnet that does too stays so."""
    ec2 = where.client("ec2")
    vpc_id = _vpc(where, "10.50.0.0/16")
    target = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.50.1.0/24")["Subnet"]["SubnetId"]
    other = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.50.2.0/24")["Subnet"]["SubnetId"]
    for subnet in (target, other):
        ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})

    def view(subnet: str) -> tuple:
        found = ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]
        return found["MapPublicIpOnLaunch"], found["CidrBlock"], found.get("AssignIpv6AddressOnCreation")

    return Seeded(
        resource=Resource.of_arn(_ec2_arn(where, "subnet", target), "AwsEc2Subnet"),
        state=lambda: view(target),
        bystanders=lambda: view(other),
    )


@seeder("EC2.23")
def transit_gateway_auto_accepts(where: Where) -> Seeded:
    """A transit gateway that accepts shared attachments automatically, next to another one."""
    ec2 = where.client("ec2")
    options = {"AutoAcceptSharedAttachments": "enable", "DnsSupport": "enable", "AmazonSideAsn": 64512}
    target = ec2.create_transit_gateway(Description="seeded", Options=options)["TransitGateway"]["TransitGatewayId"]
    other = ec2.create_transit_gateway(Description="bystander", Options=options)["TransitGateway"]["TransitGatewayId"]

    def view(tgw: str) -> dict[str, Any]:
        gateway = ec2.describe_transit_gateways(TransitGatewayIds=[tgw])["TransitGateways"][0]
        return {"Options": gateway["Options"], "Description": gateway.get("Description")}

    return Seeded(
        resource=Resource.of_arn(_ec2_arn(where, "transit-gateway", target), "AwsEc2TransitGateway"),
        state=lambda: view(target),
        bystanders=lambda: view(other),
    )


# --------------------------------------------------------------------------- ECR


@seeder("ECR.1")
def repository_without_scanning(where: Where) -> Seeded:
    """A private repository with basic scanning and scan on push off; another repository stays as it is."""
    ecr = where.client("ecr")
    for name in ("seeded/app", "seeded/other"):
        ecr.create_repository(repositoryName=name, imageScanningConfiguration={"scanOnPush": False})
    arn = ecr.describe_repositories(repositoryNames=["seeded/app"])["repositories"][0]["repositoryArn"]

    def view(name: str) -> tuple:
        repo = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
        config = ecr.batch_get_repository_scanning_configuration(repositoryNames=[name])["scanningConfigurations"]
        return (
            repo["imageScanningConfiguration"].get("scanOnPush"),
            repo.get("imageTagMutability"),
            config[0].get("scanFrequency") if config else None,
        )

    return Seeded(
        resource=Resource.of_arn(arn, "AwsEcrRepository"),
        state=lambda: view("seeded/app"),
        bystanders=lambda: (
            view("seeded/other"),
            ecr.get_registry_scanning_configuration()["scanningConfiguration"]["scanType"],
        ),
    )


# --------------------------------------------------------------------------- Lambda


def _code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def _function(where: Where, name: str) -> str:
    iam = where.client("iam")
    role_name = "seeded-lambda-role"
    try:
        role = iam.get_role(RoleName=role_name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
        role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    return where.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": _code()},
    )["FunctionArn"]


def _policy(where: Where, name: str) -> dict[str, Any]:
    lam = where.client("lambda")
    try:
        statements = json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]
    except lam.exceptions.ResourceNotFoundException:
        return {}
    return {s["Sid"]: s for s in statements}


def _lambda_seed(where: Where, offending: list[dict[str, Any]]) -> Seeded:
    lam = where.client("lambda")
    arn = _function(where, "seeded-fn")
    _function(where, "seeded-bystander")
    kept = [
        {"StatementId": "partner", "Action": "lambda:InvokeFunction", "Principal": OTHER_ACCOUNT},
        {
            "StatementId": "sns-trigger",
            "Action": "lambda:InvokeFunction",
            "Principal": "sns.amazonaws.com",
            "SourceArn": f"arn:{where.partition}:sns:{where.region}:{where.account}:topic",
        },
        {
            "StatementId": "s3-own-account",
            "Action": "lambda:InvokeFunction",
            "Principal": "s3.amazonaws.com",
            "SourceArn": f"arn:{where.partition}:s3:::seeded-own-bucket",
            "SourceAccount": where.account,
        },
    ]
    for statement in offending + kept:
        lam.add_permission(FunctionName="seeded-fn", **statement)
    for statement in offending:
        lam.add_permission(FunctionName="seeded-bystander", **statement)
    kept_ids = [s["StatementId"] for s in kept]
    return Seeded(
        resource=Resource.of_arn(arn, "AwsLambdaFunction"),
        state=lambda: _policy(where, "seeded-fn"),
        bystanders=lambda: (
            {sid: s for sid, s in _policy(where, "seeded-fn").items() if sid in kept_ids},
            _policy(where, "seeded-bystander"),
            lam.get_function_configuration(FunctionName="seeded-fn")["CodeSha256"],
        ),
    )


@seeder("Lambda.1")
def public_function_policy(where: Where) -> Seeded:
    """A function anyone may invoke (Principal "*"), and a public function URL permission."""
    return _lambda_seed(
        where,
        [
            {"StatementId": "public", "Action": "lambda:InvokeFunction", "Principal": "*"},
            {
                "StatementId": "public-url",
                "Action": "lambda:InvokeFunctionUrl",
                "Principal": "*",
                "FunctionUrlAuthType": "NONE",
            },
        ],
    )


@seeder("Lambda.1", shape="s3-without-source-account")
def s3_trigger_without_source_account(where: Where) -> Seeded:
    """Amazon S3 may invoke the function with only an aws:SourceArn condition (bucket ARNs carry no
    account: a bucket of that name in another account could invoke it)."""
    return _lambda_seed(
        where,
        [
            {
                "StatementId": "s3-trigger",
                "Action": "lambda:InvokeFunction",
                "Principal": "s3.amazonaws.com",
                "SourceArn": f"arn:{where.partition}:s3:::seeded-bucket",
            }
        ],
    )


# --------------------------------------------------------------------------- Auto Scaling


def _group_view(where: Where, name: str) -> dict[str, Any]:
    group = where.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][
        0
    ]
    keys = ("HealthCheckType", "HealthCheckGracePeriod", "MinSize", "MaxSize", "DesiredCapacity", "TargetGroupARNs")
    return {key: group.get(key) for key in keys}


@seeder("AutoScaling.1")
def group_behind_load_balancer_with_ec2_checks(where: Where) -> Seeded:
    """An Auto Scaling group registered with a target group but using EC2 health checks; another such
    group stays as it is."""
    ec2, elbv2 = where.client("ec2"), where.client("elbv2")
    autoscaling = where.client("autoscaling")
    vpc_id = _vpc(where, "10.60.0.0/16")
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.60.1.0/24")["Subnet"]["SubnetId"]
    target_group = elbv2.create_target_group(Name="seeded-tg", Protocol="HTTP", Port=80, VpcId=vpc_id)["TargetGroups"][
        0
    ]["TargetGroupArn"]
    template = ec2.create_launch_template(
        LaunchTemplateName="seeded-template", LaunchTemplateData={"ImageId": _image(where), "InstanceType": "t3.micro"}
    )["LaunchTemplate"]["LaunchTemplateId"]
    for name in ("seeded-asg", "seeded-asg-bystander"):
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=name,
            LaunchTemplate={"LaunchTemplateId": template, "Version": "$Latest"},
            MinSize=0,
            MaxSize=1,
            DesiredCapacity=0,
            VPCZoneIdentifier=subnet,
            TargetGroupARNs=[target_group],
            HealthCheckType="EC2",
        )
    arn = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["seeded-asg"])["AutoScalingGroups"][0][
        "AutoScalingGroupARN"
    ]
    return Seeded(
        resource=Resource.of_arn(arn, "AwsAutoScalingAutoScalingGroup"),
        state=lambda: _group_view(where, "seeded-asg"),
        bystanders=lambda: _group_view(where, "seeded-asg-bystander"),
    )


# --------------------------------------------------------------------------- Systems Manager


_DOCUMENT = json.dumps(
    {
        "schemaVersion": "2.2",
        "description": "seeded",
        "mainSteps": [{"action": "aws:runShellScript", "name": "run", "inputs": {"runCommand": ["echo hi"]}}],
    }
)


@seeder("SSM.4")
def public_document(where: Where) -> Seeded:
    """A document of the account shared with everyone ('all'); another public document stays public."""
    ssm = where.client("ssm")
    for name in ("Seeded-Public", "Seeded-Bystander"):
        ssm.create_document(Content=_DOCUMENT, Name=name, DocumentType="Command", DocumentFormat="JSON")
        ssm.modify_document_permission(Name=name, PermissionType="Share", AccountIdsToAdd=["all"])

    def shared(name: str) -> list[str]:
        return sorted(ssm.describe_document_permission(Name=name, PermissionType="Share")["AccountIds"])

    def content(name: str) -> tuple:
        document = ssm.describe_document(Name=name)["Document"]
        return document["DocumentVersion"], document.get("Hash")

    arn = f"arn:{where.partition}:ssm:{where.region}:{where.account}:document/Seeded-Public"
    return Seeded(
        resource=Resource.of_arn(arn, "AwsSsmDocument"),
        state=lambda: shared("Seeded-Public"),
        bystanders=lambda: (shared("Seeded-Bystander"), content("Seeded-Public")),
    )


# --------------------------------------------------------------------------- replaced or removed resources
# EC2.4, ECS.5, AutoScaling.3 and Autoscaling.5: the remediation terminates the instance, or replaces
# the task definition revision or the launch configuration; ``replaced_by`` reads back what stands for
# the finding's resource afterwards (see asr/simulator/seeds/__init__.py).


def _stopped_days_ago(where: Where, instance_id: str, days: float) -> None:
    """Move the stop time moto stamped in StateTransitionReason ("User initiated (<UTC time> GMT)")
    ``days`` into the past: time does not pass in the simulator."""
    from datetime import UTC, datetime, timedelta

    from moto.ec2.models import ec2_backends

    when = datetime.now(UTC) - timedelta(days=days)
    instance = ec2_backends[where.account][where.region].get_instance(instance_id)
    instance._reason = f"User initiated ({when:%Y-%m-%d %H:%M:%S} GMT)"


def _stopped_instance(where: Where, days: float) -> Seeded:
    """An instance stopped ``days`` ago; bystanders: another instance stopped 45 days ago (noncompliant
    too, but not the finding's) and a running one."""
    ec2 = where.client("ec2")
    made = ec2.run_instances(ImageId=_image(where), InstanceType="t3.micro", MinCount=3, MaxCount=3)["Instances"]
    target, old_bystander, running = (i["InstanceId"] for i in made)
    ec2.stop_instances(InstanceIds=[target, old_bystander])
    _stopped_days_ago(where, target, days)
    _stopped_days_ago(where, old_bystander, 45)

    def instances(*ids: str) -> list[tuple[str, str, str]]:
        found = ec2.describe_instances(InstanceIds=list(ids))["Reservations"]
        return sorted(
            (i["InstanceId"], i["State"]["Name"], i.get("StateTransitionReason", ""))
            for r in found
            for i in r["Instances"]
        )

    def images() -> list[tuple[str, str]]:
        return sorted((i["ImageId"], i.get("State", "")) for i in ec2.describe_images(Owners=["self"])["Images"])

    return Seeded(
        resource=Resource.of_arn(_ec2_arn(where, "instance", target), "AwsEc2Instance"),
        # the instance's state, and the account's own images (a recovery image is made once, not per run)
        state=lambda: (instances(target)[0][1], images()),
        bystanders=lambda: instances(old_bystander, running),
        replaced_by=lambda: None,  # terminated: nothing stands for it (its recovery image is not an instance)
        exists=lambda: bool(ec2.describe_instances(InstanceIds=[target])["Reservations"]),
    )


@seeder("EC2.4")
def instance_stopped_for_long(where: Where) -> Seeded:
    """An instance stopped 45 days ago (the control's allowedDays default is 30)."""
    return _stopped_instance(where, 45)


@seeder("EC2.4", shape="stopped-31-days")
def instance_stopped_just_over_the_limit(where: Where) -> Seeded:
    """Stopped 31 days ago: one day over allowedDays (30), terminated like any other."""
    return _stopped_instance(where, 31)


@seeder("EC2.4", shape="stopped-10-days", refused="not more than AllowedDays 30")
def instance_stopped_recently(where: Where) -> Seeded:
    """Stopped 10 days ago (the finding is stale: started and stopped again since). The control passes it
    and the remediation must not terminate it."""
    return _stopped_instance(where, 10)


def _family(where: Where, family: str) -> list[tuple[int, str, list[tuple[str, Any]]]]:
    """Every revision of a task definition family: (revision, status, [(container, readonlyRootFilesystem)])."""
    ecs = where.client("ecs")
    arns = [
        arn
        for status in ("ACTIVE", "INACTIVE")
        for arn in ecs.list_task_definitions(familyPrefix=family, status=status)["taskDefinitionArns"]
    ]
    revisions = []
    for arn in arns:
        task = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        containers = [(c["name"], c.get("readonlyRootFilesystem")) for c in task["containerDefinitions"]]
        revisions.append((int(task["revision"]), task["status"], containers))
    return sorted(revisions)


def _settings(task: dict[str, Any]) -> dict[str, Any]:
    """What a revision configures, without what identifies it or what ECS records about it."""
    drop = ("taskDefinitionArn", "revision", "status", "registeredAt", "registeredBy", "requiresAttributes")
    kept = {k: v for k, v in task.items() if k not in drop}
    kept["containerDefinitions"] = [
        {k: v for k, v in c.items() if k != "readonlyRootFilesystem"} for c in task["containerDefinitions"]
    ]
    return kept


def _task_definition(where: Where, containers: list[dict[str, Any]]) -> Seeded:
    """Revision 1 of family seeded-ecs5 with ``containers``; bystander: family seeded-ecs5-bystander,
    writable too."""
    ecs = where.client("ecs")
    common = {"cpu": "256", "memory": "512", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"]}
    arn = ecs.register_task_definition(family="seeded-ecs5", containerDefinitions=containers, **common)[
        "taskDefinition"
    ]["taskDefinitionArn"]
    other = ecs.register_task_definition(
        family="seeded-ecs5-bystander",
        containerDefinitions=[{"name": "web", "image": "nginx:1.27", "memory": 256, "readonlyRootFilesystem": False}],
        **common,
    )["taskDefinition"]["taskDefinitionArn"]

    def described(task_definition: str) -> dict[str, Any]:
        return ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"]

    def latest() -> Resource:
        newest = max(ecs.list_task_definitions(familyPrefix="seeded-ecs5", status="ACTIVE")["taskDefinitionArns"],
                     key=lambda a: int(a.rsplit(":", 1)[1]))  # fmt: skip
        return Resource.of_arn(newest, "AwsEcsTaskDefinition")

    return Seeded(
        resource=Resource.of_arn(arn, "AwsEcsTaskDefinition"),
        state=lambda: _family(where, "seeded-ecs5"),
        bystanders=lambda: (
            described(arn),  # the finding's revision is kept, as it was (services may still run it)
            _settings(described(latest().id)),  # the new revision copies everything but the read-only flag
            _family(where, "seeded-ecs5-bystander"),
            described(other)["containerDefinitions"],
        ),
        replaced_by=latest,
        exists=lambda: described(arn)["status"] == "ACTIVE",
    )


@seeder("ECS.5")
def task_definition_with_writable_root(where: Where) -> Seeded:
    """One container that leaves readonlyRootFilesystem out (ECS takes it as false)."""
    return _task_definition(
        where,
        [
            {
                "name": "app",
                "image": "public.ecr.aws/docker/library/python:3.12",
                "memory": 256,
                "environment": [{"name": "MODE", "value": "prod"}],
                "mountPoints": [],
            }
        ],
    )


@seeder("ECS.5", shape="two-containers-one-read-only")
def task_definition_with_one_writable_container(where: Where) -> Seeded:
    """Two containers: ``app`` writable (false), ``sidecar`` already read-only."""
    return _task_definition(
        where,
        [
            {"name": "app", "image": "public.ecr.aws/docker/library/python:3.12", "memory": 256,
             "readonlyRootFilesystem": False},
            {"name": "sidecar", "image": "public.ecr.aws/aws-observability/aws-otel-collector:latest", "memory": 128,
             "readonlyRootFilesystem": True, "essential": False},
        ],
    )  # fmt: skip


def _launch_configurations(where: Where) -> dict[str, dict[str, Any]]:
    pages = where.client("autoscaling").get_paginator("describe_launch_configurations").paginate()
    return {c["LaunchConfigurationName"]: c for page in pages for c in page["LaunchConfigurations"]}


def _group_launch_configuration(where: Where, group: str) -> str:
    groups = where.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[group])
    return groups["AutoScalingGroups"][0].get("LaunchConfigurationName", "")


def _launch_configuration_shape(where: Where, name: str, fixed: str, **settings: Any) -> Seeded:
    """Launch configuration ``name`` with ``settings``, used by group ``<name>-asg``; bystanders: the same
    launch configuration under ``<name>-bystander`` used by its own group. ``fixed``: the setting the
    remediation changes (everything else must be copied to the replacement as it was)."""
    autoscaling = where.client("autoscaling")
    for lc in (name, f"{name}-bystander"):
        autoscaling.create_launch_configuration(
            LaunchConfigurationName=lc,
            ImageId=_image(where),
            InstanceType="t3.micro",
            KeyName="seeded-key",
            UserData="#!/bin/sh\necho seeded\n",
            InstanceMonitoring={"Enabled": False},
            **settings,
        )
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=f"{lc}-asg",
            LaunchConfigurationName=lc,
            MinSize=0,
            MaxSize=2,
            DesiredCapacity=0,
            AvailabilityZones=[f"{where.region}a"],
        )
    arn = _launch_configurations(where)[name]["LaunchConfigurationARN"]

    def copied(config: dict[str, Any]) -> dict[str, Any]:
        drop = ("LaunchConfigurationName", "LaunchConfigurationARN", "CreatedTime", fixed)
        return {k: v for k, v in config.items() if k not in drop}

    def in_use() -> dict[str, Any]:
        return _launch_configurations(where)[_group_launch_configuration(where, f"{name}-asg")]

    return Seeded(
        resource=Resource.of_arn(arn, "AwsAutoScalingLaunchConfiguration"),
        state=lambda: (sorted(_launch_configurations(where)), _group_launch_configuration(where, f"{name}-asg")),
        bystanders=lambda: (
            copied(in_use()),  # the original's settings before, its replacement's after
            _launch_configurations(where)[f"{name}-bystander"],
            _group_launch_configuration(where, f"{name}-bystander-asg"),
            _group_view(where, f"{name}-asg"),
        ),
        replaced_by=lambda: Resource.of_arn(in_use()["LaunchConfigurationARN"], "AwsAutoScalingLaunchConfiguration"),
        exists=lambda: name in _launch_configurations(where),
    )


@seeder("AutoScaling.3")
def launch_configuration_allowing_imdsv1(where: Where) -> Seeded:
    """A launch configuration that allows IMDSv1 (HttpTokens optional), in use by a group."""
    return _launch_configuration_shape(
        where,
        "seeded-as3",
        "MetadataOptions",
        MetadataOptions={"HttpTokens": "optional", "HttpPutResponseHopLimit": 2, "HttpEndpoint": "enabled"},
    )


@seeder("Autoscaling.5")
def launch_configuration_with_public_ip(where: Where) -> Seeded:
    """A launch configuration that gives its instances public IP addresses, in use by a group."""
    return _launch_configuration_shape(where, "seeded-as5", "AssociatePublicIpAddress", AssociatePublicIpAddress=True)


# --------------------------------------------------------------------------- SSM.1 (EC2 managed by Systems Manager)
#
# SSM.1 (Config rule ec2-instance-managed-by-systems-manager,
# https://docs.aws.amazon.com/securityhub/latest/userguide/ssm-controls.html#ssm-1) fails for an instance
# DescribeInstanceInformation does not list. asr/simulator/emulation/ssm.py lists, as SSM Agent registers
# them, running instances of an AMI with the agent whose instance profile role may call
# ssm:UpdateInstanceInformation. The instances here use Amazon Linux 2 (agent preinstalled), so only their
# IAM instance profile keeps them unmanaged -- what ASR-AttachSSMPermissionsToEC2 fixes.

_SSM_CORE = "AmazonSSMManagedInstanceCore"
_SSM_SIM_NAMESPACE = "sim"  # the namespace the simulator renders remediation roles for
_EC2_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


def _agent_image(where: Where) -> str:
    """An Amazon Linux 2 AMI (SSM Agent preinstalled)."""
    images = where.client("ec2").describe_images(Filters=[{"Name": "name", "Values": ["amzn2-ami-hvm-*"]}])["Images"]
    return sorted(i["ImageId"] for i in images)[0]


def _ec2_role(where: Where, role: str, profile: str | None, policies: tuple[str, ...] = ()) -> None:
    iam = where.client("iam")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=_EC2_TRUST)
    for policy in policies:
        iam.attach_role_policy(RoleName=role, PolicyArn=f"arn:{where.partition}:iam::aws:policy/{policy}")
    if profile:
        iam.create_instance_profile(InstanceProfileName=profile)
        iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role)


def _ssm_solution_profile(where: Where) -> tuple[str, str]:
    """The EC2 role and instance profile the member-roles stack creates for ASR-AttachSSMPermissionsToEC2
    (permissions/AttachSSMPermissionsToEC2.yaml service_roles): the role holds AmazonSSMManagedInstanceCore."""
    from asr import documents, solution

    [declared] = documents.permissions("AttachSSMPermissionsToEC2").service_roles
    role = solution.service_role(declared.name, _SSM_SIM_NAMESPACE)
    profile = solution.service_role(declared.instance_profile, _SSM_SIM_NAMESPACE)
    try:  # deployed from the member-roles template (asr simulate): the stack's own
        where.client("iam").get_instance_profile(InstanceProfileName=profile)
    except where.client("iam").exceptions.NoSuchEntityException:
        _ec2_role(where, role, profile, tuple(declared.managed_policies))
    return role, profile


def _launch_for_ssm(where: Where, profile: str | None = None) -> str:
    extra = {"IamInstanceProfile": {"Name": profile}} if profile else {}
    return where.client("ec2").run_instances(
        ImageId=_agent_image(where),
        InstanceType="t3.micro",
        MinCount=1,
        MaxCount=1,
        MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled"},
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "seeded"}]}],
        **extra,
    )["Instances"][0]["InstanceId"]


def _role_view(where: Where, role: str) -> tuple[list[str], list[str]]:
    iam = where.client("iam")
    attached = sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"])
    return attached, sorted(iam.list_role_policies(RoleName=role)["PolicyNames"])


def _profile_view(where: Where, profile: str) -> list[str]:
    found = where.client("iam").get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]
    return sorted(r["RoleName"] for r in found["Roles"])


def _managed(where: Where, instance_id: str) -> list[str]:
    nodes = where.client("ssm").describe_instance_information(
        Filters=[{"Key": "InstanceIds", "Values": [instance_id]}]
    )["InstanceInformationList"]
    return [n["InstanceId"] for n in nodes]


def _ssm_seed(where: Where, target: str, roles: tuple[str, ...], profiles: tuple[str, ...]) -> Seeded:
    """``target`` is the finding's instance; a bare instance next to it stays unmanaged; the instance's
    other attributes, tags and the solution role's policies stay as they were."""
    bystander = _launch_for_ssm(where)
    ec2 = where.client("ec2")

    def tags(instance_id: str) -> list[tuple[str, str]]:
        described = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
        return sorted((t["Key"], t["Value"]) for t in described.get("Tags", []))

    def attributes(instance_id: str) -> dict[str, Any]:
        return {k: v for k, v in _instance_view(where, instance_id).items() if k != "IamInstanceProfile"}

    return Seeded(
        resource=Resource.of_arn(_ec2_arn(where, "instance", target), "AwsEc2Instance"),
        state=lambda: (
            _instance_view(where, target)["IamInstanceProfile"],
            [_role_view(where, r) for r in roles],
            [_profile_view(where, p) for p in profiles],
        ),
        bystanders=lambda: (
            attributes(target),
            tags(target),
            _instance_view(where, bystander),
            _managed(where, bystander),
        ),
    )


@seeder("SSM.1")
def instance_without_instance_profile(where: Where) -> Seeded:
    """A running Amazon Linux 2 instance with no IAM instance profile (the agent has no credentials):
    the solution's profile is for it."""
    role, profile = _ssm_solution_profile(where)
    target = _launch_for_ssm(where)
    return _ssm_seed(where, target, (role,), (profile,))


@seeder("SSM.1", shape="role-without-ssm-policy")
def instance_profile_role_without_ssm_policy(where: Where) -> Seeded:
    """The instance already has an instance profile whose role lacks AmazonSSMManagedInstanceCore
    (it holds ReadOnlyAccess and an inline policy, which stay): the profile is kept, the role gets the
    policy. Another instance with another such role stays unmanaged."""
    solution_role, solution_profile = _ssm_solution_profile(where)
    _ec2_role(where, "seeded-app-role", "seeded-app-profile", ("ReadOnlyAccess",))
    logs = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]}
    iam = where.client("iam")
    iam.put_role_policy(RoleName="seeded-app-role", PolicyName="app-logs", PolicyDocument=json.dumps(logs))
    _ec2_role(where, "seeded-other-role", "seeded-other-profile", ("ReadOnlyAccess",))
    target = _launch_for_ssm(where, "seeded-app-profile")
    other = _launch_for_ssm(where, "seeded-other-profile")
    seeded = _ssm_seed(where, target, ("seeded-app-role", solution_role), ("seeded-app-profile", solution_profile))
    state_of_bystanders = seeded.bystanders
    seeded.bystanders = lambda: (
        state_of_bystanders(),
        _instance_view(where, other),
        _role_view(where, "seeded-other-role"),
        _managed(where, other),
    )
    return seeded


@seeder("SSM.1", shape="profile-without-role")
def instance_profile_without_role(where: Where) -> Seeded:
    """The instance's instance profile holds no role: the solution's EC2 role is added to that profile
    (the instance keeps its profile)."""
    solution_role, solution_profile = _ssm_solution_profile(where)
    where.client("iam").create_instance_profile(InstanceProfileName="seeded-empty-profile")
    target = _launch_for_ssm(where, "seeded-empty-profile")
    return _ssm_seed(where, target, (solution_role,), ("seeded-empty-profile", solution_profile))
