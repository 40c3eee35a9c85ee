"""ASR-CreateLogMetricFilterAndAlarm: a CloudTrail metric filter and an alarm that notifies an SNS topic."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
TOPIC_PARAMETER = "/Solutions/SO0111/SNS_Topic_CIS3.x"
ALARM_SHAPE = {
    "Statistic": "Sum",
    "Period": 300,
    "EvaluationPeriods": 1,
    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    "TreatMissingData": "notBreaching",
}


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _check_log_group(logs: Any, name: str) -> None:
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
        if any(group["logGroupName"] == name for group in page["logGroups"]):
            return
    raise RemediationError(
        f"LogGroupName {name}: no such log group in this account and Region "
        "(it must be the log group that receives CloudTrail events; see /Solutions/SO0111/Metrics_LogGroupName)"
    )


def _check_key(key_arn: str) -> None:
    kms = boto3.client("kms", config=BOTO_CONFIG)
    try:
        state = kms.describe_key(KeyId=key_arn)["KeyMetadata"]["KeyState"]
    except kms.exceptions.NotFoundException:
        raise RemediationError(f"KMSKeyArn {key_arn}: no such KMS key") from None
    if state != "Enabled":
        raise RemediationError(f"KMSKeyArn {key_arn}: key is {state}, not Enabled")


def _ensure_topic(name: str, key_arn: str) -> tuple[str, bool]:
    """ARN of topic ``name``, created encrypted with ``key_arn`` if missing; an existing topic is kept as is."""
    caller = boto3.client("sts", config=BOTO_CONFIG).get_caller_identity()
    sns = boto3.client("sns", config=BOTO_CONFIG)
    partition = caller["Arn"].split(":")[1]
    arn = f"arn:{partition}:sns:{sns.meta.region_name}:{caller['Account']}:{name}"
    try:
        sns.get_topic_attributes(TopicArn=arn)
        return arn, False
    except sns.exceptions.NotFoundException:
        pass
    _check_key(key_arn)
    return sns.create_topic(Name=name, Attributes={"KmsMasterKeyId": key_arn})["TopicArn"], True


def _record_topic(topic_arn: str) -> None:
    ssm = boto3.client("ssm", config=BOTO_CONFIG)
    try:
        if ssm.get_parameter(Name=TOPIC_PARAMETER)["Parameter"]["Value"] == topic_arn:
            return
    except ssm.exceptions.ParameterNotFound:
        pass
    ssm.put_parameter(Name=TOPIC_PARAMETER, Value=topic_arn, Type="String", Overwrite=True)


def _ensure_filter(logs: Any, event: dict[str, Any]) -> bool:
    wanted = {
        "filterPattern": event["FilterPattern"],
        "metricTransformations": [
            {"metricName": event["MetricName"], "metricNamespace": event["MetricNamespace"],
             "metricValue": str(event["MetricValue"])}
        ],
    }
    found = logs.describe_metric_filters(logGroupName=event["LogGroupName"], filterNamePrefix=event["FilterName"])
    for existing in found["metricFilters"]:
        if existing["filterName"] == event["FilterName"]:
            transforms = [{k: t.get(k) for k in ("metricName", "metricNamespace", "metricValue")}
                          for t in existing.get("metricTransformations", [])]
            same_pattern = existing.get("filterPattern") == wanted["filterPattern"]
            if same_pattern and transforms == wanted["metricTransformations"]:
                return False
    logs.put_metric_filter(logGroupName=event["LogGroupName"], filterName=event["FilterName"], **wanted)
    return True


def _ensure_alarm(event: dict[str, Any], topic_arn: str) -> bool:
    """Creates or completes the alarm; keeps any actions it already had."""
    cloudwatch = boto3.client("cloudwatch", config=BOTO_CONFIG)
    existing = next(iter(cloudwatch.describe_alarms(AlarmNames=[event["AlarmName"]])["MetricAlarms"]), {})
    wanted = {
        "AlarmName": event["AlarmName"],
        "AlarmDescription": event["AlarmDesc"],
        "MetricName": event["MetricName"],
        "Namespace": event["MetricNamespace"],
        "Threshold": float(event["AlarmThreshold"]),
        "ActionsEnabled": True,
        "AlarmActions": sorted(set(existing.get("AlarmActions", [])) | {topic_arn}),
        "OKActions": existing.get("OKActions", []),
        "InsufficientDataActions": existing.get("InsufficientDataActions", []),
        **ALARM_SHAPE,
    }
    current = {key: existing.get(key) for key in wanted}
    current["AlarmActions"] = sorted(current["AlarmActions"] or [])
    if current == wanted:
        return False
    cloudwatch.put_metric_alarm(**wanted)
    return True


def create_log_metric_filter_and_alarm(event: dict[str, Any], _context: Any) -> dict[str, str]:
    logs = boto3.client("logs", config=BOTO_CONFIG)
    _check_log_group(logs, event["LogGroupName"])
    topic_arn, topic_created = _ensure_topic(event["SNSTopicName"], event["KMSKeyArn"])
    _record_topic(topic_arn)
    filter_changed = _ensure_filter(logs, event)
    alarm_changed = _ensure_alarm(event, topic_arn)
    changes = [what for what, done in (
        (f"topic {event['SNSTopicName']} created", topic_created),
        (f"metric filter {event['FilterName']} set", filter_changed),
        (f"alarm {event['AlarmName']} set", alarm_changed),
    ) if done]
    return {
        "LogGroupName": event["LogGroupName"],
        "FilterName": event["FilterName"],
        "AlarmName": event["AlarmName"],
        "TopicArn": topic_arn,
        "Message": "; ".join(changes) + "."
        if changes
        else "Metric filter and alarm already in place; nothing changed.",
    }
