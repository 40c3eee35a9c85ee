"""Seeders for the messaging and secrets controls: Amazon SNS, Amazon SQS, AWS Secrets Manager.

Not seeded here:

* SecretsManager.3 -- seeded in secrets.py (the secret stays, judged FAILED, until its deletion date).
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from fnmatch import fnmatchcase
from typing import Any

from asr import solution
from asr.controls import Resource
from asr.simulator.seeds import Seeded, Where, seeder

DAY = 86400

# The statement the member stack's remediation key carries for AWS services (asr/member/stack.py).
_MEMBER_KEY_SERVICES = ("sns.amazonaws.com", "s3.amazonaws.com", "logs.amazonaws.com", "cloudtrail.amazonaws.com",
                        "cloudwatch.amazonaws.com")


# --------------------------------------------------------------------------- SNS


def _policy_principals(policy: dict[str, Any]) -> list[str]:
    """Service principals a topic policy lets publish."""
    found = []
    for statement in policy.get("Statement", []):
        principal = statement.get("Principal")
        if statement.get("Effect") == "Allow" and isinstance(principal, dict) and "Service" in principal:
            services = principal["Service"]
            found += [services] if isinstance(services, str) else services
    return sorted(found)


def _key_admits(kms: Any, key: str, service: str) -> bool:
    """The key policy allows ``service`` kms:GenerateDataKey* and kms:Decrypt, what a publisher to an
    encrypted topic needs (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html)."""
    policy = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    allowed: set[str] = set()
    for statement in policy.get("Statement", []):
        principal = statement.get("Principal")
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = [services] if isinstance(services, str) else services
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if statement.get("Effect") == "Allow" and service in services:
            allowed |= {need for need in ("kms:GenerateDataKey", "kms:Decrypt")
                        if any(fnmatchcase(need.lower(), a.lower()) for a in actions)}
    return allowed == {"kms:GenerateDataKey", "kms:Decrypt"}


def _stranded_publishers(sns: Any, kms: Any, cloudwatch: Any, topic: str) -> list[str]:
    """AWS services that publish to the topic (its policy, CloudWatch alarms) but cannot use its key:
    their messages would be refused once the topic is encrypted."""
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    key = attributes.get("KmsMasterKeyId")
    if not key:
        return []
    publishers = set(_policy_principals(json.loads(attributes["Policy"])))
    alarms = cloudwatch.describe_alarms()["MetricAlarms"]
    if any(topic in a.get("AlarmActions", []) + a.get("OKActions", []) for a in alarms):
        publishers.add("cloudwatch.amazonaws.com")
    return sorted(p for p in publishers if not _key_admits(kms, key, p))


def _topic_state(sns: Any, topic: str) -> dict[str, Any]:
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    keep = ("DisplayName", "Policy", "DeliveryPolicy", "SubscriptionsConfirmed", "KmsMasterKeyId")
    return {k: attributes.get(k) for k in keep}


def _topic_shape(where: Where, name: str, changed: str, policy: dict[str, Any] | None = None) -> Seeded:
    sns, sqs = where.client("sns"), where.client("sqs")
    kms, cloudwatch = where.client("kms"), where.client("cloudwatch")
    topics = []
    for ident in (name, f"{name}-bystander"):
        arn = sns.create_topic(Name=ident, Attributes={"DisplayName": ident},
                               Tags=[{"Key": "team", "Value": "ops"}])["TopicArn"]
        if policy is not None:
            sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy",
                                     AttributeValue=json.dumps(policy).replace("{topic}", arn))
        queue = sqs.create_queue(QueueName=f"{ident}-inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
        topics.append(arn)
    topic, other = topics

    def subscriptions(arn: str) -> list[tuple[str, str]]:
        found = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        return sorted((s["Protocol"], s["Endpoint"]) for s in found)

    return Seeded(
        resource=Resource.of_arn(topic, "AwsSnsTopic"),
        state=lambda: sns.get_topic_attributes(TopicArn=topic)["Attributes"].get(changed),
        bystanders=lambda: (
            {k: v for k, v in _topic_state(sns, topic).items() if k != changed},
            _topic_state(sns, other),
            subscriptions(topic),
            sns.list_tags_for_resource(ResourceArn=topic)["Tags"],
            _stranded_publishers(sns, kms, cloudwatch, topic),
        ),
    )


@seeder("SNS.1")
def unencrypted_topic(where: Where) -> Seeded:
    """A topic (default access policy, an SQS subscription) not encrypted with KMS."""
    return _topic_shape(where, "seeded-sns1", "KmsMasterKeyId")


@seeder("SNS.1", shape="service-publishers")
def unencrypted_topic_with_service_publishers(where: Where) -> Seeded:
    """A topic that S3 event notifications and a CloudWatch alarm publish to; the remediation key is
    the member stack's, whose policy admits both services. Bystander: no publisher is left unable to
    use the topic's key."""
    kms = where.client("kms")
    key = where.client("ssm").get_parameter(Name=solution.SSM_CMK_REMEDIATION_ARN)["Parameter"]["Value"]
    kms.put_key_policy(
        KeyId=key,
        PolicyName="default",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:{where.partition}:iam::{where.account}:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": list(_MEMBER_KEY_SERVICES)},
                        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                                   "kms:Describe*"],
                        "Resource": "*",
                    },
                ],
            }
        ),
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "S3Events",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": "{topic}",
                "Condition": {"StringEquals": {"aws:SourceAccount": where.account}},
            }
        ],
    }
    seeded = _topic_shape(where, "seeded-sns1-services", "KmsMasterKeyId", policy)
    where.client("cloudwatch").put_metric_alarm(
        AlarmName="seeded-sns1-errors",
        MetricName="Errors",
        Namespace="AWS/Lambda",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[seeded.resource.id],
    )
    return seeded


# --------------------------------------------------------------------------- SQS


def _queue_attributes(sqs: Any, url: str) -> dict[str, str]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    volatile = {"LastModifiedTimestamp", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"}
    return {k: v for k, v in attributes.items() if k not in volatile}


@seeder("SQS.1")
def unencrypted_queue(where: Where) -> Seeded:
    """A queue with server-side encryption off (SSE-SQS disabled, no KMS key), holding a message; a
    second unencrypted queue is the bystander. (The queue has no access policy: moto 5.2's
    SetQueueAttributes drops the policy of a queue whenever another attribute is set, which AWS does
    not do.)"""
    sqs = where.client("sqs")
    urls = []
    for name in ("seeded-sqs1", "seeded-sqs1-bystander"):
        url = sqs.create_queue(
            QueueName=name,
            Attributes={"SqsManagedSseEnabled": "false", "VisibilityTimeout": "45"},
            tags={"team": "jobs"},
        )["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="job-1")
        urls.append(url)
    url, other = urls
    # SSE-SQS is what the remediation may turn on. A KMS key is a bystander: with SSE-KMS every producer
    # and consumer of the queue would need kms:GenerateDataKey / kms:Decrypt on that key, which the
    # queue's existing users do not have (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html).
    encryption = ("SqsManagedSseEnabled",)
    return Seeded(
        resource=Resource.of_arn(
            f"arn:{where.partition}:sqs:{where.region}:{where.account}:seeded-sqs1", "AwsSqsQueue"
        ),
        state=lambda: {k: v for k, v in _queue_attributes(sqs, url).items() if k in encryption},
        bystanders=lambda: (
            {k: v for k, v in _queue_attributes(sqs, url).items() if k not in encryption},
            _queue_attributes(sqs, other),
            sqs.list_queue_tags(QueueUrl=url).get("Tags"),
        ),
    )


# --------------------------------------------------------------------------- Secrets Manager


def _rotation_function(where: Where, name: str) -> str:
    """A rotation Lambda function (its code never runs in the emulation)."""
    role = where.client("iam").create_role(
        RoleName=f"{name}-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return None\n")
    return where.client("lambda").create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="index.handler", Code={"ZipFile": code.getvalue()}
    )["FunctionArn"]


def _secret(sm: Any, name: str, function: str, days: int, enabled: bool) -> str:
    arn = sm.create_secret(Name=name, SecretString=f"{name}-value", Tags=[{"Key": "team", "Value": "db"}])["ARN"]
    sm.rotate_secret(SecretId=arn, RotationLambdaARN=function, RotationRules={"AutomaticallyAfterDays": days},
                     RotateImmediately=False)
    if not enabled:
        sm.cancel_rotate_secret(SecretId=arn)
    return arn


def _backdate(where: Where, name: str, days: int, *attributes: str) -> None:
    """Move dates moto's API never lets a caller set (creation, last rotation) ``days`` into the past."""
    from moto.secretsmanager.models import secretsmanager_backends

    secret = secretsmanager_backends[where.account][where.region].secrets[name]
    for attribute in attributes:
        setattr(secret, attribute, int(time.time()) - days * DAY)


def _rotation(sm: Any, arn: str) -> dict[str, Any]:
    secret = sm.describe_secret(SecretId=arn)
    return {
        "RotationEnabled": secret.get("RotationEnabled", False),
        "RotationRules": secret.get("RotationRules"),
        "RotationLambdaARN": secret.get("RotationLambdaARN"),
        "LastRotatedDate": secret.get("LastRotatedDate"),
    }


def _secret_shape(where: Where, name: str, *, enabled: bool, days: int, age: int | None = None) -> Seeded:
    sm = where.client("secretsmanager")
    function = _rotation_function(where, f"{name}-rotator")
    arn = _secret(sm, name, function, days, enabled)
    other = _secret(sm, f"{name}-bystander", function, days, enabled)
    if age is not None:
        for ident in (name, f"{name}-bystander"):
            _backdate(where, ident, age, "created_date", "last_rotation_date")

    def kept(secret: str) -> dict[str, Any]:
        described = sm.describe_secret(SecretId=secret)
        return {"Name": described["Name"], "Tags": described.get("Tags"), "Description": described.get("Description"),
                "KmsKeyId": described.get("KmsKeyId"), "DeletedDate": described.get("DeletedDate")}

    return Seeded(
        resource=Resource.of_arn(arn, "AwsSecretsManagerSecret"),
        state=lambda: _rotation(sm, arn),
        bystanders=lambda: (
            kept(arn),
            kept(other),
            _rotation(sm, other),
            sm.get_secret_value(SecretId=other)["SecretString"],
        ),
    )


@seeder("SecretsManager.1")
def secret_without_rotation(where: Where) -> Seeded:
    """A secret whose rotation function is configured but automatic rotation is off."""
    return _secret_shape(where, "seeded-sm1", enabled=False, days=30)


@seeder("SecretsManager.4")
def secret_not_rotated_for_long(where: Where) -> Seeded:
    """A secret with rotation scheduled every 30 days, last rotated (and created) 120 days ago."""
    return _secret_shape(where, "seeded-sm4", enabled=True, days=30, age=120)


# --------------------------------------------------------------------------- SNS.2 (delivery status logging)

_DELIVERY_STATUS = tuple(
    f"{protocol}{suffix}"
    for protocol in ("HTTP", "Firehose", "Lambda", "SQS", "Application")
    for suffix in ("SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate", "FailureFeedbackRoleArn")
)


def _delivery_status(sns: Any, topic: str) -> dict[str, str]:
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    return {k: v for k, v in attributes.items() if k in _DELIVERY_STATUS}


#: The namespace the simulator renders remediation roles for (DocumentRegistry.from_repo's default).
_SIM_NAMESPACE = "sim"


def _delivery_logging_role(where: Where) -> str:
    """The role the member-roles stack creates for SNS to write delivery status logs
    (permissions/EnableDeliveryStatusLoggingForSNSTopic.yaml service_roles), trusting its principal."""
    from asr import documents

    [declared] = documents.permissions("EnableDeliveryStatusLoggingForSNSTopic").service_roles
    name = solution.service_role(declared.name, _SIM_NAMESPACE)
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": declared.principal}, "Action": "sts:AssumeRole"}],
    }
    iam = where.client("iam")
    existing = [r["Arn"] for r in iam.list_roles()["Roles"] if r["RoleName"] == name]
    if existing:
        return str(existing[0])
    return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])


def _logging_seed(where: Where, name: str, preset: dict[str, str]) -> Seeded:
    """A topic (display name, tags, an SQS and an HTTPS subscription, the ``preset`` delivery-status
    attributes) without any delivery status feedback role, and a bystander topic like it. The member-roles
    stack's logging role exists."""
    _delivery_logging_role(where)
    sns, sqs = where.client("sns"), where.client("sqs")
    topics = []
    for ident in (name, f"{name}-bystander"):
        tags = [{"Key": "team", "Value": "ops"}]
        arn = sns.create_topic(Name=ident, Attributes={"DisplayName": ident}, Tags=tags)["TopicArn"]
        for attribute, value in preset.items():
            sns.set_topic_attributes(TopicArn=arn, AttributeName=attribute, AttributeValue=value)
        queue = sqs.create_queue(QueueName=f"{ident}-inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
        sns.subscribe(TopicArn=arn, Protocol="https", Endpoint=f"https://hooks.example.com/{ident}")
        topics.append(arn)
    topic, other = topics

    def subscriptions(arn: str) -> list[tuple[str, str]]:
        found = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        return sorted((s["Protocol"], s["Endpoint"]) for s in found)

    def everything(arn: str) -> dict[str, Any]:
        return {**_topic_state(sns, arn), **_delivery_status(sns, arn)}

    return Seeded(
        resource=Resource.of_arn(topic, "AwsSnsTopic"),
        state=lambda: _delivery_status(sns, topic),
        bystanders=lambda: (
            _topic_state(sns, topic),
            {k: v for k, v in _delivery_status(sns, topic).items() if k in preset},
            everything(other),
            subscriptions(topic),
            sns.list_tags_for_resource(ResourceArn=topic)["Tags"],
        ),
    )


@seeder("SNS.2")
def topic_without_delivery_status_logging(where: Where) -> Seeded:
    """A topic with SQS and HTTPS subscribers whose delivery status is logged for no protocol."""
    return _logging_seed(where, "seeded-sns2", {})


@seeder("SNS.2", shape="sample-rate-only")
def topic_with_sample_rate_but_no_role(where: Where) -> Seeded:
    """A success sample rate of 25% was set for SQS and HTTP deliveries, but no feedback role: nothing is
    logged. The remediation adds the roles and must keep those sample rates."""
    return _logging_seed(
        where, "seeded-sns2-rate", {"SQSSuccessFeedbackSampleRate": "25", "HTTPSuccessFeedbackSampleRate": "25"}
    )
