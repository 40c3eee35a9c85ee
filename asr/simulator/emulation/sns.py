"""Amazon SNS delivery status logging attributes, which moto 5.2 accepts in SetTopicAttributes (and
CreateTopic) but never returns from GetTopicAttributes; moto also accepts any attribute name.

Amazon SNS API Reference:
* SetTopicAttributes (https://docs.aws.amazon.com/sns/latest/api/API_SetTopicAttributes.html): the
  attribute names it accepts are DeliveryPolicy, DisplayName, Policy, TracingConfig, KmsMasterKeyId,
  SignatureVersion, ContentBasedDeduplication, ArchivePolicy, FifoThroughputScope and, per protocol
  (HTTP, Firehose, Lambda, SQS, Application), ``<Protocol>SuccessFeedbackRoleArn``,
  ``<Protocol>SuccessFeedbackSampleRate`` (an integer percentage, 0-100) and
  ``<Protocol>FailureFeedbackRoleArn`` (an IAM role ARN). Anything else is InvalidParameter (HTTP 400).
* GetTopicAttributes (https://docs.aws.amazon.com/sns/latest/api/API_GetTopicAttributes.html) returns
  those delivery status attributes once set.
* Delivery status logging: https://docs.aws.amazon.com/sns/latest/dg/sns-topic-attributes.html
"""

from __future__ import annotations

import re

from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import camelcase_to_underscores, ensure_boolean
from moto.sns.exceptions import SNSInvalidParameter
from moto.sns.models import Topic
from moto.sns.responses import SNSResponse

from asr.simulator.emulation import extends

PROTOCOLS = ("HTTP", "Firehose", "Lambda", "SQS", "Application")
DELIVERY_STATUS = tuple(
    f"{protocol}{suffix}"
    for protocol in PROTOCOLS
    for suffix in ("SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate", "FailureFeedbackRoleArn")
)
OTHER_ATTRIBUTES = (
    "DeliveryPolicy",
    "DisplayName",
    "Policy",
    "TracingConfig",
    "KmsMasterKeyId",
    "SignatureVersion",
    "ContentBasedDeduplication",
    "ArchivePolicy",
    "FifoThroughputScope",
)
ROLE_ARN = re.compile(r"^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:role/[\w+=,.@/-]+$")


def _validated(name: str, value: str | None) -> str:
    if name not in DELIVERY_STATUS + OTHER_ATTRIBUTES:
        raise SNSInvalidParameter(f"Invalid parameter: AttributeName {name!r}")
    if name.endswith("SampleRate"):
        if value is None or not value.isdigit() or not 0 <= int(value) <= 100:
            raise SNSInvalidParameter(
                f"Invalid parameter: Attributes Reason: {name}: {value!r} is not an integer percentage (0-100)"
            )
    elif name.endswith("FeedbackRoleArn") and value and not ROLE_ARN.match(value):
        raise SNSInvalidParameter(f"Invalid parameter: Attributes Reason: {name}: {value!r} is not an IAM role ARN")
    return value or ""


def _delivery_status(topic: Topic) -> dict[str, str]:
    found = {}
    for name in DELIVERY_STATUS:
        value = getattr(topic, camelcase_to_underscores(name), "")
        if value:
            found[name] = str(value)
    return found


@extends(SNSResponse, replaces=True)
def set_topic_attributes(self: SNSResponse) -> EmptyResult:
    """moto's SetTopicAttributes with the documented attribute names and values only."""
    topic_arn = self._get_param("TopicArn")
    name = self._get_param("AttributeName")
    value = _validated(name, self._get_param("AttributeValue"))
    if name == "ContentBasedDeduplication":
        value = ensure_boolean(value)
    self.backend.set_topic_attribute(topic_arn, camelcase_to_underscores(name), value)
    return EmptyResult()


@extends(SNSResponse, replaces=True)
def get_topic_attributes(self: SNSResponse) -> ActionResult:
    """moto's GetTopicAttributes plus the delivery status attributes the topic has."""
    topic = self.backend.get_topic(self._get_param("TopicArn"))
    attributes = {
        "Owner": topic.account_id,
        "Policy": topic.policy,
        "TopicArn": topic.arn,
        "DisplayName": topic.display_name,
        "SubscriptionsPending": topic.subscriptions_pending,
        "SubscriptionsConfirmed": topic.subscriptions_confimed,
        "SubscriptionsDeleted": topic.subscriptions_deleted,
        "DeliveryPolicy": topic.delivery_policy,
        "EffectiveDeliveryPolicy": topic.effective_delivery_policy,
    }
    if topic.kms_master_key_id:
        attributes["KmsMasterKeyId"] = topic.kms_master_key_id
    if topic.fifo_topic:
        attributes["FifoTopic"] = topic.fifo_topic
        attributes["ContentBasedDeduplication"] = topic.content_based_deduplication
    attributes.update(_delivery_status(topic))
    return ActionResult({"Attributes": attributes})
