"""ASR-CreateLogMetricFilterAndAlarm: a CloudTrail metric filter and an alarm that notifies an SNS topic."""

from __future__ import annotations

import re
from typing import Any

import boto3

from remediation_runbooks.scripts._member_key import (  # %%INLINE%%
    BOTO_CONFIG,
    KEY_PARAMETER,  # noqa: F401 -- the tests read it
    RemediationError,
    configured_key,
)

# The alarm topic: recorded here on the first run; an operator may set it beforehand (at deployment) to a
# topic of this account and Region that already has subscribers, which is then used as it is.
TOPIC_PARAMETER = "/Solutions/SO0111/SNS_Topic_CIS3.x"
# ASCII only and used with fullmatch: a Unicode digit ("\u0661") or a trailing newline is refused.
_TOPIC_ARN = re.compile(
    r"arn:[a-z-]+:sns:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):(?P<name>[A-Za-z0-9_-]{1,256})", re.ASCII
)
ALARM_SHAPE = {
    "Statistic": "Sum",
    "Period": 300,
    "EvaluationPeriods": 1,
    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    "TreatMissingData": "notBreaching",
}


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


def _configured_topic(account: str, region: str) -> str | None:
    """The topic named by TOPIC_PARAMETER, if set; it must be a topic of this account and Region."""
    ssm = boto3.client("ssm", config=BOTO_CONFIG)
    try:
        value = ssm.get_parameter(Name=TOPIC_PARAMETER)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None
    match = _TOPIC_ARN.fullmatch(value)
    if not match or match["account"] != account or match["region"] != region:
        raise RemediationError(
            f"{TOPIC_PARAMETER} {value!r}: not the ARN of an SNS topic of account {account} in {region}; "
            "set it to such a topic (or delete it to use SNSTopicName)"
        )
    sns = boto3.client("sns", config=BOTO_CONFIG)
    try:
        sns.get_topic_attributes(TopicArn=value)
    except sns.exceptions.NotFoundException:
        raise RemediationError(f"{TOPIC_PARAMETER} {value}: no such SNS topic") from None
    return value


def _ensure_topic(name: str, key_arn: str) -> tuple[str, bool]:
    """ARN of the alarm topic: the one TOPIC_PARAMETER names, else topic ``name``, created if missing
    (encrypted with ``key_arn`` or the member's key, unencrypted without one); an existing topic is kept."""
    caller = boto3.client("sts", config=BOTO_CONFIG).get_caller_identity()
    sns = boto3.client("sns", config=BOTO_CONFIG)
    partition, region = caller["Arn"].split(":")[1], sns.meta.region_name
    configured = _configured_topic(caller["Account"], region)
    if configured:
        return configured, False
    arn = f"arn:{partition}:sns:{region}:{caller['Account']}:{name}"
    try:
        sns.get_topic_attributes(TopicArn=arn)
        return arn, False
    except sns.exceptions.NotFoundException:
        pass
    key = configured_key(key_arn)
    if not key:
        # RemediationKeyMode None: CloudWatch alarms publish as cloudwatch.amazonaws.com, which cannot use the
        # AWS managed key alias/aws/sns (its key policy cannot be changed), so a topic encrypted with it would
        # drop every alarm notification
        # (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
        # The topic is created without SSE; a customer managed key (RemediationKeyMode Existing/PerStack) whose
        # policy admits cloudwatch.amazonaws.com encrypts it.
        return sns.create_topic(Name=name)["TopicArn"], True
    _check_key(key)
    return sns.create_topic(Name=name, Attributes={"KmsMasterKeyId": key})["TopicArn"], True


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
            {
                "metricName": event["MetricName"],
                "metricNamespace": event["MetricNamespace"],
                "metricValue": str(event["MetricValue"]),
            }
        ],
    }
    found = logs.describe_metric_filters(logGroupName=event["LogGroupName"], filterNamePrefix=event["FilterName"])
    for existing in found["metricFilters"]:
        if existing["filterName"] == event["FilterName"]:
            transforms = [
                {k: t.get(k) for k in ("metricName", "metricNamespace", "metricValue")}
                for t in existing.get("metricTransformations", [])
            ]
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


# --- what CloudWatch.1-14 ask besides the filter and the alarm -------------------------------------
#
# The controls are custom Security Hub checks that follow the CIS audit steps
# (https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html): a multi-Region trail
# of this account, homed in this Region, logging all (read and write) management events into the log group
# that has the filter, an alarm on the filter's metric, and an SNS topic behind the alarm with at least one
# confirmed subscriber. Without a subscriber the control stays failed: this remediation then fails too.


def _log_group_of(trail: dict[str, Any]) -> str | None:
    arn = str(trail.get("CloudWatchLogsLogGroupArn") or "")
    _, _, name = arn.partition(":log-group:")
    return name.removesuffix(":*") or None


def _records_management_events(selectors: dict[str, Any], pattern: str) -> bool:
    """Read and write management events, no excluded event source that the filter pattern looks for."""
    for sel in selectors.get("EventSelectors") or []:
        excluded = sel.get("ExcludeManagementEventSources") or []
        if (
            sel.get("IncludeManagementEvents")
            and sel.get("ReadWriteType") == "All"
            and not any(source in pattern for source in excluded)
        ):
            return True
    for sel in selectors.get("AdvancedEventSelectors") or []:
        fields = {f.get("Field"): f for f in sel.get("FieldSelectors") or []}
        if fields.pop("eventCategory", {}).get("Equals") != ["Management"]:
            continue
        source = fields.pop("eventSource", None)
        if fields or (source and (set(source) - {"Field", "NotEquals"})):
            continue
        if not any(s in pattern for s in (source or {}).get("NotEquals") or []):
            return True
    return False


def trail_gap(log_group: str, pattern: str, account: str, region: str) -> str | None:
    """Why no trail feeds the log group as the controls require (None when one does)."""
    cloudtrail = boto3.client("cloudtrail", config=BOTO_CONFIG)
    trails = cloudtrail.describe_trails(includeShadowTrails=False)["trailList"]
    feeding = [
        t
        for t in trails
        if t["TrailARN"].split(":")[4] == account
        and t.get("HomeRegion", region) == region
        and _log_group_of(t) == log_group
    ]
    if not feeding:
        return f"no trail of this account homed in {region} delivers to log group {log_group}"
    problems = []
    for trail in feeding:
        if not trail.get("IsMultiRegionTrail"):
            problems.append(f"trail {trail['Name']} is not multi-Region")
        elif not cloudtrail.get_trail_status(Name=trail["TrailARN"]).get("IsLogging"):
            problems.append(f"trail {trail['Name']} is not logging")
        elif not _records_management_events(cloudtrail.get_event_selectors(TrailName=trail["TrailARN"]), pattern):
            problems.append(f"trail {trail['Name']} does not record all read and write management events")
        else:
            return None
    return "; ".join(problems)


def confirmed_subscriptions(topic_arn: str) -> int:
    """Subscriptions of the topic that are confirmed (a pending one has no subscription ARN yet). Nothing
    here changed them, so one read decides."""
    sns = boto3.client("sns", config=BOTO_CONFIG)
    pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
    arns = [str(sub.get("SubscriptionArn", "")) for page in pages for sub in page["Subscriptions"]]
    return sum(1 for arn in arns if arn.startswith("arn:"))


def create_log_metric_filter_and_alarm(event: dict[str, Any], _context: Any) -> dict[str, str]:
    logs = boto3.client("logs", config=BOTO_CONFIG)
    _check_log_group(logs, event["LogGroupName"])
    caller = boto3.client("sts", config=BOTO_CONFIG).get_caller_identity()
    gap = trail_gap(event["LogGroupName"], event["FilterPattern"], caller["Account"], logs.meta.region_name)
    if gap:
        raise RemediationError(
            f"LogGroupName {event['LogGroupName']}: {gap}. The metric filter would see no events; make a "
            "multi-Region trail that logs all management events deliver to this log group (CloudTrail.1, "
            "CloudTrail.5; see /Solutions/SO0111/Metrics_LogGroupName), then run again. Nothing was changed."
        )
    topic_arn, topic_created = _ensure_topic(event["SNSTopicName"], event.get("KMSKeyArn", ""))
    _record_topic(topic_arn)
    filter_changed = _ensure_filter(logs, event)
    alarm_changed = _ensure_alarm(event, topic_arn)
    changes = [
        what
        for what, done in (
            (f"topic {event['SNSTopicName']} created", topic_created),
            (f"metric filter {event['FilterName']} set", filter_changed),
            (f"alarm {event['AlarmName']} set", alarm_changed),
        )
        if done
    ]
    if not confirmed_subscriptions(topic_arn):
        done = "; ".join(changes) + ". " if changes else ""
        raise RemediationError(
            f"{done}Metric filter {event['FilterName']} and alarm {event['AlarmName']} are in place, but the alarm's "
            f"SNS topic {topic_arn} has no confirmed subscription: nobody would be notified, and the control stays "
            f"failed. Subscribe the security team to {topic_arn} and confirm it (or set {TOPIC_PARAMETER} to a "
            "topic that has subscribers), then run again."
        )
    return {
        "LogGroupName": event["LogGroupName"],
        "FilterName": event["FilterName"],
        "AlarmName": event["AlarmName"],
        "TopicArn": topic_arn,
        "Message": "; ".join(changes) + "."
        if changes
        else "Metric filter and alarm already in place; nothing changed.",
    }
