"""Seeders for the Amazon CloudWatch controls: the CIS metric filters and alarms (CloudWatch.1-14) and
log group retention (CloudWatch.16)."""

from __future__ import annotations

import json
from typing import Any

from asr import solution
from asr.controls import Resource
from asr.simulator.seeds import Seeded, Where, seeder

#: Set at deployment by the member stack: the log group CloudTrail delivers to.
METRICS_LOG_GROUP_PARAMETER = f"{solution.SSM_PREFIX}/Metrics_LogGroupName"
#: The alarm topic CreateLogMetricFilterAndAlarm uses; an operator may set it at deployment.
ALARM_TOPIC_PARAMETER = f"{solution.SSM_PREFIX}/SNS_Topic_CIS3.x"
#: The solution's alarm topic (the remediation's default SNSTopicName).
SOLUTION_ALARM_TOPIC = "SO0111-ASR-LocalAlarmNotification"
ALL_MANAGEMENT_EVENTS = [{"ReadWriteType": "All", "IncludeManagementEvents": True}]
METRIC_FILTER_CONTROLS = [f"CloudWatch.{n}" for n in range(1, 15)]


def _metrics_log_group(where: Where) -> str:
    return str(where.client("ssm").get_parameter(Name=METRICS_LOG_GROUP_PARAMETER)["Parameter"]["Value"])


def _trail_into(where: Where, log_group: str) -> str:
    """CloudTrail.1 and CloudTrail.5 already remediated: a logging multi-Region trail of this account, homed
    here, records all management events into ``log_group`` (a team filter on the group must stay)."""
    logs = where.client("logs")
    logs.create_log_group(logGroupName=log_group)
    logs.put_metric_filter(
        logGroupName=log_group,
        filterName="team-errors",
        filterPattern='{ $.errorCode = "ThrottlingException" }',
        metricTransformations=[{"metricName": "Throttles", "metricNamespace": "Team", "metricValue": "1"}],
    )
    where.client("s3").create_bucket(Bucket="seeded-cw-trail-bucket")
    cloudtrail = where.client("cloudtrail")
    arn = str(
        cloudtrail.create_trail(
            Name="org-trail",
            S3BucketName="seeded-cw-trail-bucket",
            IsMultiRegionTrail=True,
            CloudWatchLogsLogGroupArn=f"arn:{where.partition}:logs:{where.region}:{where.account}:log-group:{log_group}:*",
            CloudWatchLogsRoleArn=f"arn:{where.partition}:iam::{where.account}:role/trail-to-logs",
        )["TrailARN"]
    )
    cloudtrail.put_event_selectors(TrailName=arn, EventSelectors=ALL_MANAGEMENT_EVENTS)
    cloudtrail.start_logging(Name=arn)
    return arn


def _subscribed_topic(where: Where, name: str, key: str | None = None) -> str:
    """A topic the security team has subscribed a queue of this account to (confirmed at once)."""
    sns = where.client("sns")
    topic = str(sns.create_topic(Name=name, Attributes={"KmsMasterKeyId": key} if key else {})["TopicArn"])
    sqs = where.client("sqs")
    url = sqs.create_queue(QueueName=f"{name}-queue")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue)
    return topic


def _filters_and_alarms(where: Where, log_group: str) -> Any:
    logs = where.client("logs")
    filters = [
        (f["filterName"], f["filterPattern"], json.dumps(f.get("metricTransformations"), sort_keys=True))
        for page in logs.get_paginator("describe_metric_filters").paginate(logGroupName=log_group)
        for f in page["metricFilters"]
    ]
    cloudwatch = where.client("cloudwatch")
    alarms = [
        (a["AlarmName"], a.get("MetricName"), a.get("Namespace"), sorted(a.get("AlarmActions") or []))
        for page in cloudwatch.get_paginator("describe_alarms").paginate()
        for a in page["MetricAlarms"]
    ]
    return sorted(filters), sorted(alarms)


def _trail_and_topics(where: Where, trail: str) -> Any:
    cloudtrail = where.client("cloudtrail")
    settings = cloudtrail.get_trail(Name=trail)["Trail"]
    selectors = cloudtrail.get_event_selectors(TrailName=trail).get("EventSelectors")
    sns = where.client("sns")
    topics = sorted(t["TopicArn"] for t in sns.list_topics()["Topics"])
    subscriptions = {t: len(sns.list_subscriptions_by_topic(TopicArn=t)["Subscriptions"]) for t in topics}
    return settings, selectors, subscriptions


def _cis_world(where: Where, *, operator_topic: bool) -> Seeded:
    log_group = _metrics_log_group(where)
    trail = _trail_into(where, log_group)
    if operator_topic:
        topic = _subscribed_topic(where, "soc-pager")
        where.client("ssm").put_parameter(Name=ALARM_TOPIC_PARAMETER, Value=topic, Type="String", Overwrite=True)
    else:  # created by an earlier run, encrypted with the remediation key; the team subscribed since
        key = where.client("ssm").get_parameter(Name=f"{solution.SSM_PREFIX}/CMK_REMEDIATION_ARN")["Parameter"]["Value"]
        _subscribed_topic(where, SOLUTION_ALARM_TOPIC, key)
    team_filter = ("team-errors",)

    def kept_filter() -> Any:
        return [f for f in _filters_and_alarms(where, log_group)[0] if f[:1] == team_filter]

    return Seeded(
        resource=Resource.account_level(where.account, where.region, where.partition),
        state=lambda: _filters_and_alarms(where, log_group),
        bystanders=lambda: (kept_filter(), _trail_and_topics(where, trail)),
    )


def _register(control_id: str) -> None:
    @seeder(control_id)
    def no_metric_filter(where: Where) -> Seeded:
        """A multi-Region trail logs all management events into the solution's metrics log group (set at
        deployment in /Solutions/SO0111/Metrics_LogGroupName) and the solution's alarm topic has a confirmed
        subscriber (the team subscribed to it), but the log group has no metric filter with the control's
        pattern and no alarm."""
        return _cis_world(where, operator_topic=False)

    no_metric_filter.__name__ = f"no_metric_filter_{control_id.replace('.', '_').lower()}"


for _control in METRIC_FILTER_CONTROLS:
    _register(_control)


@seeder("CloudWatch.1", shape="operator-topic")
def operator_topic_from_the_parameter(where: Where) -> Seeded:
    """As the default shape, but the operator gave their own subscribed topic at deployment in
    /Solutions/SO0111/SNS_Topic_CIS3.x: the alarm must notify it, and no solution topic is created."""
    return _cis_world(where, operator_topic=True)


@seeder("CloudWatch.7", shape="operator-topic")
def operator_topic_for_kms_events(where: Where) -> Seeded:
    """CloudWatch.7 (disabling or scheduled deletion of KMS keys) with the operator's own subscribed topic."""
    return _cis_world(where, operator_topic=True)


# --------------------------------------------------------------------------- CloudWatch.16


def _log_group(where: Where, name: str, retention: int | None) -> str:
    logs = where.client("logs")
    logs.create_log_group(logGroupName=name, tags={"team": "payments"})
    if retention is not None:
        logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
    return f"arn:{where.partition}:logs:{where.region}:{where.account}:log-group:{name}:*"


def _retention(where: Where, name: str) -> Any:
    logs = where.client("logs")
    groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return next((g.get("retentionInDays") for g in groups if g["logGroupName"] == name), "absent")


@seeder("CloudWatch.16")
def log_group_with_short_retention(where: Where) -> Seeded:
    """A log group that keeps its events 30 days (less than the control's default minimum, 365); another log
    group with a short retention must keep it."""
    arn = _log_group(where, "/seeded/app/short-retention", 30)
    _log_group(where, "/seeded/app/bystander", 7)
    return Seeded(
        resource=Resource.of_arn(arn, "AwsLogsLogGroup"),
        state=lambda: _retention(where, "/seeded/app/short-retention"),
        bystanders=lambda: _retention(where, "/seeded/app/bystander"),
    )


@seeder("CloudWatch.16", shape="just-below")
def log_group_one_step_below(where: Where) -> Seeded:
    """A log group that keeps its events 180 days, the accepted value just below 365."""
    arn = _log_group(where, "/seeded/app/180-days", 180)
    return Seeded(
        resource=Resource.of_arn(arn, "AwsLogsLogGroup"),
        state=lambda: _retention(where, "/seeded/app/180-days"),
    )
