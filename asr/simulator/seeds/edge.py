"""Seeders for edge and delivery controls: Elastic Load Balancing, Amazon CloudFront, Amazon API Gateway,
AWS CodeBuild and AWS CloudFormation.

Each seeder builds, in emulated AWS, the noncompliant shape the control's documentation describes,
next to what the remediation must leave alone (other listeners, rules, stages, distributions).

No seeder, because moto 5.2.5 cannot run the remediation or show its result:
* CodeBuild.2, CodeBuild.5 -- moto does not implement CodeBuild UpdateProject.
* CloudFormation.1 -- moto neither applies NotificationARNs on UpdateStack nor on an executed
  change set (the remediation's own tests use a Stubber on the real API shapes).
"""

from __future__ import annotations

import copy
from typing import Any

from asr.controls import Resource
from asr.simulator.seeds import Seeded, Where, seeder

# --------------------------------------------------------------------------- Elastic Load Balancing


def _network(where: Where, cidr_prefix: str) -> tuple[str, list[str]]:
    ec2 = where.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock=f"{cidr_prefix}.0.0/16")["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"{cidr_prefix}.{i}.0/24", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate(zones)
    ]
    return vpc_id, subnets


def _certificate(where: Where) -> str:
    return where.client("acm").request_certificate(DomainName="seeded.example.com")["CertificateArn"]


def _forward(target_group: str) -> list[dict[str, Any]]:
    return [{"Type": "forward", "TargetGroupArn": target_group}]


def _listeners(where: Where, balancer: str) -> list[dict[str, Any]]:
    """Every listener of the balancer with its rules (priority, conditions, actions), comparable."""
    elbv2 = where.client("elbv2")
    out = []
    for listener in elbv2.describe_listeners(LoadBalancerArn=balancer)["Listeners"]:
        rules = elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
        out.append(
            {
                "Port": listener["Port"],
                "Protocol": listener["Protocol"],
                "DefaultActions": listener.get("DefaultActions"),
                "Certificates": listener.get("Certificates"),
                "Rules": sorted(
                    (
                        {"Priority": r["Priority"], "Conditions": r.get("Conditions"), "Actions": r.get("Actions")}
                        for r in rules
                    ),
                    key=lambda r: str(r["Priority"]),
                ),
            }
        )
    return sorted(out, key=lambda x: x["Port"])


def _alb(where: Where, name: str, cidr_prefix: str, *, http_default: str, http_rule: bool) -> tuple[str, str]:
    """An ALB with an HTTPS listener (443, forwarding, with a path rule) and an HTTP listener (80) whose
    default action is ``http_default`` ("forward" or "redirect-https"), plus a forwarding path rule on
    the HTTP listener when ``http_rule``. Returns (load balancer ARN, HTTPS listener ARN)."""
    elbv2 = where.client("elbv2")
    vpc_id, subnets = _network(where, cidr_prefix)
    balancer = elbv2.create_load_balancer(Name=name, Subnets=subnets, Type="application", Scheme="internal")[
        "LoadBalancers"
    ][0]["LoadBalancerArn"]
    target_group = elbv2.create_target_group(Name=f"{name}-tg", Protocol="HTTP", Port=8080, VpcId=vpc_id)[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    https = elbv2.create_listener(
        LoadBalancerArn=balancer,
        Protocol="HTTPS",
        Port=443,
        Certificates=[{"CertificateArn": _certificate(where)}],
        DefaultActions=_forward(target_group),
    )["Listeners"][0]["ListenerArn"]
    elbv2.create_rule(
        ListenerArn=https,
        Priority=5,
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/admin/*"]}}],
        Actions=_forward(target_group),
    )
    if http_default == "forward":
        default = _forward(target_group)
    else:
        default = [
            {
                "Type": "redirect",
                "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
            }
        ]
    http = elbv2.create_listener(LoadBalancerArn=balancer, Protocol="HTTP", Port=80, DefaultActions=default)[
        "Listeners"
    ][0]["ListenerArn"]
    if http_rule:
        elbv2.create_rule(
            ListenerArn=http,
            Priority=10,
            Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}],
            Actions=_forward(target_group),
        )
        elbv2.create_rule(
            ListenerArn=http,
            Priority=20,
            Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": ["old.example.com"]}}],
            Actions=[
                {
                    "Type": "redirect",
                    "RedirectConfig": {"Host": "new.example.com", "Protocol": "HTTP", "StatusCode": "HTTP_302"},
                }
            ],
        )
    return balancer, https


def _elb_seed(where: Where, *, http_default: str) -> Seeded:
    balancer, _ = _alb(where, "seeded-alb", "10.70", http_default=http_default, http_rule=True)
    bystander, _ = _alb(where, "seeded-bystander", "10.71", http_default="forward", http_rule=True)

    def https_listener() -> list[dict[str, Any]]:
        return [x for x in _listeners(where, balancer) if x["Protocol"] == "HTTPS"]

    def http_conditions() -> list[Any]:
        return [[r["Conditions"] for r in x["Rules"]] for x in _listeners(where, balancer) if x["Protocol"] == "HTTP"]

    return Seeded(
        resource=Resource.of_arn(balancer, "AwsElbv2LoadBalancer"),
        state=lambda: _listeners(where, balancer),
        bystanders=lambda: (https_listener(), http_conditions(), _listeners(where, bystander)),
    )


@seeder("ELB.1")
def http_listener_forwards(where: Where) -> Seeded:
    """An ALB whose HTTP listener forwards by default and has path and host rules that forward or redirect
    over HTTP, next to an HTTPS listener (kept) and another such ALB (kept)."""
    return _elb_seed(where, http_default="forward")


@seeder("ELB.1", shape="forwarding-rule")
def http_rule_forwards(where: Where) -> Seeded:
    """The HTTP listener's default action already redirects to HTTPS, but a path rule still forwards over
    HTTP and a host rule redirects to HTTP (only the default action used to be rewritten)."""
    return _elb_seed(where, http_default="redirect-https")


# --------------------------------------------------------------------------- CloudFront


def _distribution(where: Where, reference: str, comment: str, root: str = "") -> dict[str, Any]:
    cloudfront = where.client("cloudfront", "us-east-1")
    config = {
        "CallerReference": reference,
        "Comment": comment,
        "Enabled": True,
        "DefaultRootObject": root,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "app",
                    "DomainName": "app.example.com",
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "https-only",
                    },
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "app",
            "ViewerProtocolPolicy": "redirect-to-https",
            "MinTTL": 0,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
        },
    }
    return cloudfront.create_distribution(DistributionConfig=config)["Distribution"]


def _distribution_config(where: Where, distribution_id: str) -> dict[str, Any]:
    return where.client("cloudfront", "us-east-1").get_distribution_config(Id=distribution_id)["DistributionConfig"]


@seeder("CloudFront.1")
def distribution_without_root_object(where: Where) -> Seeded:
    """A distribution with no default root object (a request for the root goes to the origin's root);
    another such distribution stays as it is."""
    target = _distribution(where, "seeded-cf1", "seeded")
    other = _distribution(where, "seeded-cf1-bystander", "bystander")

    def rest(distribution_id: str) -> dict[str, Any]:
        return {k: v for k, v in _distribution_config(where, distribution_id).items() if k != "DefaultRootObject"}

    return Seeded(
        resource=Resource.of_arn(target["ARN"], "AwsCloudFrontDistribution"),
        state=lambda: _distribution_config(where, target["Id"]),
        bystanders=lambda: (rest(target["Id"]), _distribution_config(where, other["Id"])),
    )


# --------------------------------------------------------------------------- API Gateway


def _rest_stage(where: Where, name: str, patches: list[dict[str, str]], **create: Any) -> str:
    """REST API ``name`` with GET and POST on its root (MOCK integrations), deployed to stage ``prod``,
    then ``patches`` applied to the stage. Returns the API id."""
    apigateway = where.client("apigateway")
    api = apigateway.create_rest_api(name=name)["id"]
    root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
    for method in ("GET", "POST"):
        apigateway.put_method(restApiId=api, resourceId=root, httpMethod=method, authorizationType="NONE")
        apigateway.put_integration(restApiId=api, resourceId=root, httpMethod=method, type="MOCK")
    deployment = apigateway.create_deployment(restApiId=api)["id"]
    apigateway.create_stage(restApiId=api, stageName="prod", deploymentId=deployment, **create)
    if patches:
        apigateway.update_stage(restApiId=api, stageName="prod", patchOperations=patches)
    return api


def _stage(where: Where, api: str) -> dict[str, Any]:
    out = where.client("apigateway").get_stage(restApiId=api, stageName="prod")
    for key in ("ResponseMetadata", "lastUpdatedDate", "createdDate"):
        out.pop(key, None)
    return out


def _stage_arn(where: Where, api: str) -> str:
    return f"arn:{where.partition}:apigateway:{where.region}::/restapis/{api}/stages/prod"


def _without(settings: dict[str, Any], field: str) -> dict[str, Any]:
    return {key: {k: v for k, v in value.items() if k != field} for key, value in settings.items()}


def _logging_seed(where: Where, patches: list[dict[str, str]]) -> Seeded:
    apigateway = where.client("apigateway")
    iam = where.client("iam")
    trust = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
        '"Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
    )
    role = iam.create_role(RoleName="seeded-apigateway-logs", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    # The account's CloudWatch Logs role for API Gateway: execution logs need it (the runbook refuses without).
    apigateway.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}])
    common = [
        {"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"},
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "50"},
    ]
    api = _rest_stage(where, "seeded-apigw1", common + patches, variables={"color": "blue"})
    other = _rest_stage(where, "seeded-apigw1-bystander", common + patches)

    def rest() -> dict[str, Any]:
        stage = _stage(where, api)
        return {**stage, "methodSettings": _without(stage.get("methodSettings") or {}, "loggingLevel")}

    return Seeded(
        resource=Resource.of_arn(_stage_arn(where, api), "AwsApiGatewayStage"),
        state=lambda: _stage(where, api),
        bystanders=lambda: (rest(), _stage(where, other), apigateway.get_account().get("cloudwatchRoleArn")),
    )


@seeder("APIGateway.1")
def stage_without_execution_logs(where: Where) -> Seeded:
    """A REST API stage with metrics and throttling set but execution logging off (stage-wide)."""
    return _logging_seed(where, [])


@seeder("APIGateway.1", shape="method-override-off")
def method_override_turns_logging_off(where: Where) -> Seeded:
    """Stage-wide logging at ERROR, but a per-method override turns it OFF for GET."""
    return _logging_seed(
        where,
        [
            {"op": "replace", "path": "/*/*/logging/loglevel", "value": "ERROR"},
            {"op": "replace", "path": "/~1/GET/logging/loglevel", "value": "OFF"},
        ],
    )


@seeder("APIGateway.5")
def cache_not_encrypted(where: Where) -> Seeded:
    """A REST API stage with a cache cluster, caching on for every method and a POST override with a TTL,
    the cached data not encrypted; another such stage stays as it is."""
    patches = [
        {"op": "replace", "path": "/*/*/caching/enabled", "value": "true"},
        {"op": "replace", "path": "/*/*/caching/dataEncrypted", "value": "false"},
        {"op": "replace", "path": "/~1/POST/caching/enabled", "value": "true"},
        {"op": "replace", "path": "/~1/POST/caching/ttlInSeconds", "value": "60"},
        {"op": "replace", "path": "/~1/POST/caching/dataEncrypted", "value": "false"},
    ]
    cache = {"cacheClusterEnabled": True, "cacheClusterSize": "0.5"}
    api = _rest_stage(where, "seeded-apigw5", patches, **cache)
    other = _rest_stage(where, "seeded-apigw5-bystander", patches, **cache)

    def rest() -> dict[str, Any]:
        stage = _stage(where, api)
        return {**stage, "methodSettings": _without(stage.get("methodSettings") or {}, "cacheDataEncrypted")}

    return Seeded(
        resource=Resource.of_arn(_stage_arn(where, api), "AwsApiGatewayStage"),
        state=lambda: _stage(where, api),
        bystanders=lambda: (rest(), _stage(where, other)),
    )


# --------------------------------------------------------------------------- CloudFront.12


def _s3_origin(origin_id: str, bucket: str, **extra: Any) -> dict[str, Any]:
    return {
        "Id": origin_id,
        "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
        **extra,
    }


def _custom_origin(origin_id: str, domain: str) -> dict[str, Any]:
    return {
        "Id": origin_id,
        "DomainName": domain,
        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"},
    }


def _multi_origin_distribution(where: Where, reference: str, origins: list[dict[str, Any]]) -> dict[str, Any]:
    """A distribution whose default behavior uses the first origin and a ``/<id>/*`` behavior each other one."""
    behavior = {
        "ViewerProtocolPolicy": "redirect-to-https",
        "MinTTL": 0,
        "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
        "TrustedSigners": {"Enabled": False, "Quantity": 0},
    }
    extra = [{"PathPattern": f"/{o['Id']}/*", "TargetOriginId": o["Id"], **behavior} for o in origins[1:]]
    config = {
        "CallerReference": reference,
        "Comment": reference,
        "Enabled": True,
        "DefaultRootObject": "index.html",
        "Origins": {"Quantity": len(origins), "Items": origins},
        "DefaultCacheBehavior": {"TargetOriginId": origins[0]["Id"], **behavior},
        "CacheBehaviors": {"Quantity": len(extra), "Items": extra},
    }
    return where.client("cloudfront", "us-east-1").create_distribution(DistributionConfig=config)["Distribution"]


def _deleted_bucket(where: Where, name: str) -> str:
    """A bucket that existed and was deleted: the origin still names it."""
    s3 = where.client("s3", "us-east-1")
    s3.create_bucket(Bucket=name)
    s3.delete_bucket(Bucket=name)
    return name


def _dangling_origin_seed(where: Where, name: str, origins: list[dict[str, Any]], dangling: set[str]) -> Seeded:
    """Seeded for a distribution built from ``origins`` whose ``dangling`` ids point at missing buckets; a
    twin distribution with the same origins is the bystander. The rewritten origins keep their Id, path,
    custom headers, connection settings and Origin Shield."""
    target = _multi_origin_distribution(where, name, copy.deepcopy(origins))
    other = _multi_origin_distribution(where, f"{name}-bystander", copy.deepcopy(origins))
    kept_fields = ("Id", "OriginPath", "CustomHeaders", "ConnectionAttempts", "ConnectionTimeout", "OriginShield")

    def origins_of(distribution_id: str) -> list[dict[str, Any]]:
        return _distribution_config(where, distribution_id)["Origins"]["Items"]

    def rest() -> Any:
        config = _distribution_config(where, target["Id"])
        return (
            {k: v for k, v in config.items() if k != "Origins"},
            [o for o in origins_of(target["Id"]) if o["Id"] not in dangling],
            [{k: o.get(k) for k in kept_fields} for o in origins_of(target["Id"]) if o["Id"] in dangling],
        )

    return Seeded(
        resource=Resource.of_arn(target["ARN"], "AwsCloudFrontDistribution"),
        state=lambda: origins_of(target["Id"]),
        bystanders=lambda: (rest(), _distribution_config(where, other["Id"])),
    )


@seeder("CloudFront.12")
def distribution_with_deleted_bucket_origin(where: Where) -> Seeded:
    """A distribution serving its site from an S3 bucket and, under /legacy/*, from a second S3 origin whose
    bucket was deleted (anyone could create that bucket and serve content through the distribution)."""
    s3 = where.client("s3", "us-east-1")
    s3.create_bucket(Bucket="seeded-cf12-site")
    legacy = _deleted_bucket(where, "seeded-cf12-legacy")
    origins = [
        _s3_origin("site", "seeded-cf12-site"),
        _s3_origin(
            "legacy",
            legacy,
            OriginPath="/v1",
            CustomHeaders={"Quantity": 1, "Items": [{"HeaderName": "x-origin", "HeaderValue": "legacy"}]},
            ConnectionAttempts=2,
            ConnectionTimeout=5,
        ),
    ]
    return _dangling_origin_seed(where, "seeded-cf12", origins, {"legacy"})


@seeder("CloudFront.12", shape="several-origins")
def distribution_with_several_origins(where: Where) -> Seeded:
    """Five origins: an existing S3 bucket behind an origin access control, a custom (ALB-like) origin, the
    website endpoint of an existing bucket (a custom origin, not evaluated), and two S3 origins whose buckets
    are gone -- one of them behind the origin access control, which a custom origin cannot keep."""
    s3 = where.client("s3", "us-east-1")
    cloudfront = where.client("cloudfront", "us-east-1")
    for bucket in ("seeded-cf12-media", "seeded-cf12-www"):
        s3.create_bucket(Bucket=bucket)
    oac = cloudfront.create_origin_access_control(
        OriginAccessControlConfig={
            "Name": "seeded-cf12-oac",
            "SigningProtocol": "sigv4",
            "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3",
        }
    )["OriginAccessControl"]["Id"]
    origins = [
        _s3_origin("media", "seeded-cf12-media", OriginAccessControlId=oac),
        _custom_origin("api", "api.example.com"),
        _custom_origin("www", "seeded-cf12-www.s3-website-us-east-1.amazonaws.com"),
        _s3_origin("archive", _deleted_bucket(where, "seeded-cf12-archive"), OriginAccessControlId=oac),
        _s3_origin(
            "downloads",
            _deleted_bucket(where, "seeded-cf12-downloads"),
            OriginShield={"Enabled": True, "OriginShieldRegion": "us-east-1"},
        ),
    ]
    return _dangling_origin_seed(where, "seeded-cf12-many", origins, {"archive", "downloads"})
