"""Amazon SNS controls (topics)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from asr.controls.base import Context, EvaluationError, Resource, Verdict, control, failed, passed

DOC = "https://docs.aws.amazon.com/securityhub/latest/userguide/sns-controls.html"

# The endpoint protocols whose message delivery status SNS can log, by attribute prefix.
DELIVERY_STATUS_PROTOCOLS = ("HTTP", "SQS", "Lambda", "Firehose", "Application")


def _attributes(control_id: str, ctx: Context, resource: Resource) -> dict[str, str]:
    sns = ctx.client("sns")
    try:
        return sns.get_topic_attributes(TopicArn=resource.id)["Attributes"]
    except (ClientError, BotoCoreError) as err:
        raise EvaluationError(f"{control_id}: get_topic_attributes failed for {resource.id!r}: {err}") from None


@control("SNS.1", doc=f"{DOC}#sns-1", resource_types=("AwsSnsTopic",))
def topic_encrypted_with_kms(ctx: Context, resource: Resource) -> Verdict:
    """SNS.1 (Config rule sns-encrypted-kms): NON_COMPLIANT if the topic is not encrypted
    with an AWS KMS key, that is, it has no ``KmsMasterKeyId`` attribute. An AWS managed
    key (``alias/aws/sns``) and a customer managed key both count."""
    key = _attributes("SNS.1", ctx, resource).get("KmsMasterKeyId", "")
    if key:
        return passed(f"KmsMasterKeyId is {key!r}")
    return failed("KmsMasterKeyId is not set: the topic is not encrypted with AWS KMS")


@control("SNS.2", doc=f"{DOC}#sns-2", resource_types=("AwsSnsTopic",))
def topic_delivery_status_logging(ctx: Context, resource: Resource) -> Verdict:
    """SNS.2 (Config rule sns-topic-message-delivery-notification-enabled): NON_COMPLIANT if
    delivery status logging is not enabled for the topic's notification messages. Logging
    is enabled for an endpoint protocol (HTTP/S, Amazon SQS, Lambda, Firehose, platform
    application) when the topic has that protocol's success or failure feedback role
    (``<Protocol>SuccessFeedbackRoleArn`` / ``<Protocol>FailureFeedbackRoleArn``)."""
    attributes = _attributes("SNS.2", ctx, resource)
    configured = sorted(
        f"{protocol}{outcome}FeedbackRoleArn"
        for protocol in DELIVERY_STATUS_PROTOCOLS
        for outcome in ("Success", "Failure")
        if attributes.get(f"{protocol}{outcome}FeedbackRoleArn")
    )
    if configured:
        return passed(f"delivery status logging is enabled: {', '.join(configured)} set")
    return failed("no <Protocol>SuccessFeedbackRoleArn or <Protocol>FailureFeedbackRoleArn attribute is set")
