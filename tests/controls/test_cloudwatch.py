"""CloudWatch.1-14 and CloudWatch.16 evaluators on moto: the shapes the control documentation names."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate
from asr.controls.cloudwatch import METRIC_FILTER_CONTROLS, MetricFilterControl, pattern_matches
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, REGION

SPECS = {spec.control_id: spec for spec in METRIC_FILTER_CONTROLS}
ACCOUNT_RESOURCE = Resource.account_level(ACCOUNT, REGION)
LOG_GROUP = "cloudtrail/management"
TOPIC = "cis-alarms"
ALL_MANAGEMENT = [{"ReadWriteType": "All", "IncludeManagementEvents": True}]
# One session for every evaluation: a new boto3.Session loads each service model again (~50 ms a client).
SESSION = boto3.Session()


class StubbedSession:
    """A boto3 session whose clients for some services are given (wrapped in a Stubber) and the rest real."""

    def __init__(self, **clients: Any) -> None:
        self._session = SESSION
        self._clients = clients

    def client(self, service: str, region_name: str | None = None) -> Any:
        return self._clients.get(service) or self._session.client(service, region_name=region_name)


@pytest.fixture
def aws():
    with mock_aws():
        yield


def build(
    spec: MetricFilterControl,
    *,
    pattern: str | None = None,
    trail_region: str = REGION,
    multi_region: bool = True,
    logging: bool = True,
    selectors: list[dict[str, Any]] | None = None,
    advanced_selectors: list[dict[str, Any]] | None = None,
    log_group: bool = True,
    alarm: bool = True,
    alarm_actions: bool = True,
    subscribe: bool = True,
) -> dict[str, str]:
    """The documented remediation: a trail delivering to a log group, a filter, an alarm, a subscribed topic."""
    s3 = boto3.client("s3", region_name=trail_region)
    bucket = f"trail-logs-{trail_region}"
    if trail_region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": trail_region})
    logs = boto3.client("logs", region_name=trail_region)
    logs.create_log_group(logGroupName=LOG_GROUP)
    group_arn = logs.describe_log_groups(logGroupNamePrefix=LOG_GROUP)["logGroups"][0]["arn"]
    cloudtrail = boto3.client("cloudtrail", region_name=trail_region)
    extra = {"CloudWatchLogsLogGroupArn": group_arn, "CloudWatchLogsRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ct"}
    trail = cloudtrail.create_trail(
        Name="management-trail", S3BucketName=bucket, IsMultiRegionTrail=multi_region, **(extra if log_group else {})
    )["TrailARN"]
    if logging:
        cloudtrail.start_logging(Name=trail)
    # moto starts a trail with no event selectors (AWS adds the all-management-events default): set them.
    if advanced_selectors is not None:
        cloudtrail.put_event_selectors(TrailName=trail, AdvancedEventSelectors=advanced_selectors)
    else:
        cloudtrail.put_event_selectors(TrailName=trail, EventSelectors=selectors or ALL_MANAGEMENT)
    logs.put_metric_filter(
        logGroupName=LOG_GROUP,
        filterName=f"{spec.control_id}-filter",
        filterPattern=spec.patterns[0] if pattern is None else pattern,
        metricTransformations=[{"metricName": spec.control_id, "metricNamespace": "LogMetrics", "metricValue": "1"}],
    )
    sns = boto3.client("sns", region_name=trail_region)
    topic = sns.create_topic(Name=TOPIC)["TopicArn"]
    if subscribe:
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="security@example.com")
    if alarm:
        boto3.client("cloudwatch", region_name=trail_region).put_metric_alarm(
            AlarmName=f"{spec.control_id}-alarm",
            MetricName=spec.control_id,
            Namespace="LogMetrics",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            AlarmActions=[topic] if alarm_actions else [],
        )
    return {"trail": trail, "topic": topic, "log_group_arn": group_arn}


def verdict(control_id: str, session: Any = None):
    return evaluate(control_id, session or SESSION, ACCOUNT_RESOURCE)


# -- each of the 14 controls -------------------------------------------------------------------


@pytest.mark.parametrize("control_id", list(SPECS))
def test_documented_pattern_with_alarm_and_subscribed_topic_passes(aws, control_id):
    build(SPECS[control_id])
    result = verdict(control_id)
    assert result.status is Status.PASSED, result.reason
    assert f"{control_id}-filter" in result.reason and TOPIC in result.reason


@pytest.mark.parametrize("control_id", list(SPECS))
def test_another_controls_pattern_fails(aws, control_id):
    ids = list(SPECS)
    other = SPECS[ids[(ids.index(control_id) + 1) % len(ids)]]
    build(SPECS[control_id], pattern=other.patterns[0])
    result = verdict(control_id)
    assert result.status is Status.FAILED
    assert "no metric filter whose filterPattern" in result.reason


# -- the trail ---------------------------------------------------------------------------------


def test_no_trail_fails(aws):
    result = verdict("CloudWatch.1")
    assert result.status is Status.FAILED
    assert "no CloudTrail trail" in result.reason


def test_single_region_trail_fails(aws):
    build(SPECS["CloudWatch.4"], multi_region=False)
    result = verdict("CloudWatch.4")
    assert result.status is Status.FAILED
    assert "IsMultiRegionTrail is false" in result.reason


def test_trail_not_logging_fails(aws):
    build(SPECS["CloudWatch.5"], logging=False)
    result = verdict("CloudWatch.5")
    assert result.status is Status.FAILED
    assert "IsLogging is false" in result.reason


@pytest.mark.parametrize(
    ("selectors", "reason"),
    [
        ([{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}], "ReadWriteType is 'WriteOnly'"),
        ([{"ReadWriteType": "All", "IncludeManagementEvents": False}], "IncludeManagementEvents is false"),
    ],
)
def test_trail_without_all_management_events_fails(aws, selectors, reason):
    build(SPECS["CloudWatch.10"], selectors=selectors)
    result = verdict("CloudWatch.10")
    assert result.status is Status.FAILED
    assert reason in result.reason


def test_advanced_selector_of_all_management_events_passes(aws):
    management = [{"Name": "all", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]
    build(SPECS["CloudWatch.11"], advanced_selectors=management)
    result = verdict("CloudWatch.11")
    assert result.status is Status.PASSED, result.reason


def test_advanced_selector_of_read_only_management_events_fails(aws):
    read_only = [
        {
            "Name": "reads",
            "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Management"]},
                {"Field": "readOnly", "Equals": ["true"]},
            ],
        }
    ]
    build(SPECS["CloudWatch.11"], advanced_selectors=read_only)
    result = verdict("CloudWatch.11")
    assert result.status is Status.FAILED
    assert "restricts readOnly" in result.reason


def test_cloudwatch7_fails_when_the_trail_excludes_kms_events(aws):
    # The CloudWatch.7 page: "The control also fails if ExcludeManagementEventSources contains kms.amazonaws.com".
    selectors = [{**ALL_MANAGEMENT[0], "ExcludeManagementEventSources": ["kms.amazonaws.com"]}]
    build(SPECS["CloudWatch.7"], selectors=selectors)
    result = verdict("CloudWatch.7")
    assert result.status is Status.FAILED
    assert "ExcludeManagementEventSources contains 'kms.amazonaws.com'" in result.reason


def test_kms_exclusion_does_not_decide_other_controls(aws):
    selectors = [{**ALL_MANAGEMENT[0], "ExcludeManagementEventSources": ["kms.amazonaws.com"]}]
    build(SPECS["CloudWatch.1"], selectors=selectors)
    result = verdict("CloudWatch.1")
    assert result.status is Status.PASSED, result.reason


def test_cloudwatch7_fails_when_an_advanced_selector_excludes_kms(aws):
    no_kms = [
        {
            "Name": "no-kms",
            "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Management"]},
                {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]},
            ],
        }
    ]
    build(SPECS["CloudWatch.7"], advanced_selectors=no_kms)
    result = verdict("CloudWatch.7")
    assert result.status is Status.FAILED
    assert "excludes eventSource 'kms.amazonaws.com'" in result.reason


def test_trail_without_cloudwatch_logs_fails(aws):
    build(SPECS["CloudWatch.2"], log_group=False)
    result = verdict("CloudWatch.2")
    assert result.status is Status.FAILED
    assert "CloudWatchLogsLogGroupArn is not set" in result.reason


def test_multi_region_trail_based_in_another_region_is_not_applicable(aws):
    # The page: a multi-Region trail based in a different Region gives NO_DATA in this Region.
    build(SPECS["CloudWatch.1"], trail_region="eu-west-1")
    result = verdict("CloudWatch.1")
    assert result.status is Status.NOT_APPLICABLE
    assert "NO_DATA" in result.reason and "eu-west-1" in result.reason
    # evaluated where the trail is based, it passes
    home = evaluate("CloudWatch.1", SESSION, Resource.account_level(ACCOUNT, "eu-west-1"))
    assert home.status is Status.PASSED, home.reason


def test_organization_trail_of_another_account_is_not_applicable(aws):
    # moto cannot hold another account's organization trail in this account's view: stub describe_trails.
    cloudtrail = boto3.client("cloudtrail", region_name=REGION)
    org_trail = {
        "Name": "org-trail",
        "TrailARN": f"arn:aws:cloudtrail:{REGION}:{OTHER_ACCOUNT}:trail/org-trail",
        "HomeRegion": REGION,
        "IsMultiRegionTrail": True,
        "IsOrganizationTrail": True,
    }
    with Stubber(cloudtrail) as stub:
        stub.add_response("describe_trails", {"trailList": [org_trail]}, {"includeShadowTrails": True})
        result = verdict("CloudWatch.3", StubbedSession(cloudtrail=cloudtrail))
    assert result.status is Status.NOT_APPLICABLE
    assert OTHER_ACCOUNT in result.reason


def test_cloudtrail_api_error_raises(aws):
    cloudtrail = boto3.client("cloudtrail", region_name=REGION)
    with Stubber(cloudtrail) as stub:
        stub.add_client_error("describe_trails", "AccessDeniedException", "not authorized")
        with pytest.raises(EvaluationError, match="cannot describe CloudTrail trails.*not authorized"):
            verdict("CloudWatch.1", StubbedSession(cloudtrail=cloudtrail))


# -- the alarm and its topic ---------------------------------------------------------------------


def test_filter_without_alarm_fails(aws):
    build(SPECS["CloudWatch.6"], alarm=False)
    result = verdict("CloudWatch.6")
    assert result.status is Status.FAILED
    assert "no alarm on metric" in result.reason


def test_alarm_without_action_fails(aws):
    build(SPECS["CloudWatch.8"], alarm_actions=False)
    result = verdict("CloudWatch.8")
    assert result.status is Status.FAILED
    assert "AlarmActions has no SNS topic" in result.reason


def test_alarm_topic_without_subscription_fails(aws):
    build(SPECS["CloudWatch.9"], subscribe=False)
    result = verdict("CloudWatch.9")
    assert result.status is Status.FAILED
    assert "no confirmed subscription (0 PendingConfirmation)" in result.reason


def test_alarm_topic_that_does_not_exist_fails(aws):
    made = build(SPECS["CloudWatch.12"])
    boto3.client("sns", region_name=REGION).delete_topic(TopicArn=made["topic"])
    result = verdict("CloudWatch.12")
    assert result.status is Status.FAILED
    assert "does not exist" in result.reason


def test_unconfirmed_subscription_fails_and_a_confirmed_one_passes(aws):
    # moto confirms every subscription at once (an email subscription is PendingConfirmation until the
    # recipient confirms it): stub ListSubscriptionsByTopic to show the unconfirmed state.
    made = build(SPECS["CloudWatch.13"])
    pending = {
        "SubscriptionArn": "PendingConfirmation",
        "Owner": ACCOUNT,
        "Protocol": "email",
        "Endpoint": "security@example.com",
        "TopicArn": made["topic"],
    }
    sns = boto3.client("sns", region_name=REGION)
    with Stubber(sns) as stub:
        stub.add_response("list_subscriptions_by_topic", {"Subscriptions": [pending]}, {"TopicArn": made["topic"]})
        result = verdict("CloudWatch.13", StubbedSession(sns=sns))
    assert result.status is Status.FAILED
    assert "no confirmed subscription (1 PendingConfirmation)" in result.reason

    confirmed = {**pending, "SubscriptionArn": f"{made['topic']}:2b7c3f0e-0000-4000-8000-000000000000"}
    with Stubber(sns) as stub:
        stub.add_response(
            "list_subscriptions_by_topic", {"Subscriptions": [pending, confirmed]}, {"TopicArn": made["topic"]}
        )
        result = verdict("CloudWatch.13", StubbedSession(sns=sns))
    assert result.status is Status.PASSED, result.reason


def test_topic_access_denied_raises(aws):
    # The page: without ListSubscriptionsByTopic access Security Hub reports WARNING, not a verdict.
    made = build(SPECS["CloudWatch.14"])
    sns = boto3.client("sns", region_name=REGION)
    with Stubber(sns) as stub:
        stub.add_client_error("list_subscriptions_by_topic", "AuthorizationError", "not authorized")
        with pytest.raises(EvaluationError, match=made["topic"]):
            verdict("CloudWatch.14", StubbedSession(sns=sns))


# -- the pattern comparison -------------------------------------------------------------------------

ROOT = SPECS["CloudWatch.1"]
KMS = SPECS["CloudWatch.7"]
POLICY = SPECS["CloudWatch.4"]


@pytest.mark.parametrize(
    ("spec", "pattern"),
    [
        # whitespace and grouping parentheses (the CIS text writes the patterns this way)
        (
            ROOT,
            '{ ($.userIdentity.type = "Root") && ($.userIdentity.invokedBy NOT EXISTS) && '
            '($.eventType != "AwsServiceEvent") }',
        ),
        (
            KMS,
            "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || "
            "($.eventName = ScheduleKeyDeletion)) }",
        ),
        # order of the operands of one && or || chain
        (
            KMS,
            "{((($.eventName=ScheduleKeyDeletion) || ($.eventName=DisableKey))) && ($.eventSource=kms.amazonaws.com)}",
        ),
        (
            ROOT,
            '{$.eventType !="AwsServiceEvent" && $.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS}',
        ),
        # double quotes around a plain value
        (
            KMS,
            '{($.eventSource="kms.amazonaws.com") && '
            '(($.eventName="DisableKey") || ($.eventName="ScheduleKeyDeletion"))}',
        ),
        (SPECS["CloudWatch.6"], '{ ($.eventName = "ConsoleLogin") && ($.errorMessage = "Failed authentication") }'),
        # CloudWatch.3: the CIS v1.2.0 3.2 audit pattern as well as the page's longer one
        (SPECS["CloudWatch.3"], '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }'),
    ],
)
def test_pattern_variants_that_match_the_same_events_are_accepted(spec, pattern):
    assert pattern_matches(pattern, spec)


@pytest.mark.parametrize(
    ("spec", "pattern"),
    [
        # an added term ("Additional fields or terms cannot be added")
        (POLICY, POLICY.patterns[0][:-1] + " || ($.eventName=TagPolicy)}"),
        (ROOT, ROOT.patterns[0][:-1] + ' && $.sourceIPAddress != "1.2.3.4"}'),
        # a missing term
        (ROOT, '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS}'),
        (SPECS["CloudWatch.3"], '{ ($.eventName = "ConsoleLogin") && ($.userIdentity.type = "IAMUser") }'),
        # a repeated term
        (
            KMS,
            "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=DisableKey) || "
            "($.eventName=ScheduleKeyDeletion))}",
        ),
        # other grouping: an ungrouped && / || mix is not the documented pattern
        (KMS, "{($.eventSource=kms.amazonaws.com) && ($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion)}"),
        # another operator, another value case, quotes that change a wildcard value
        (
            KMS,
            "{($.eventSource!=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}",
        ),
        (KMS, "{($.eventSource=kms.amazonaws.com) && (($.eventName=disablekey) || ($.eventName=ScheduleKeyDeletion))}"),
        (SPECS["CloudWatch.2"], "{($.errorCode=*UnauthorizedOperation) || ($.errorCode=AccessDenied*)}"),
        # not a JSON filter pattern at all
        (SPECS["CloudWatch.6"], "ConsoleLogin Failed authentication"),
        (SPECS["CloudWatch.6"], ""),
    ],
)
def test_pattern_variants_with_other_terms_are_refused(spec, pattern):
    assert not pattern_matches(pattern, spec)


def test_reordered_whitespace_variant_passes_end_to_end(aws):
    build(POLICY, pattern=" { " + " || ".join(reversed(POLICY.patterns[0][1:-1].split(" || "))) + " } ")
    result = verdict("CloudWatch.4")
    assert result.status is Status.PASSED, result.reason


# -- CloudWatch.16 ---------------------------------------------------------------------------------


def _log_group(name: str, retention: int | None) -> Resource:
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName=name)
    if retention is not None:
        logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
    arn = next(
        g["arn"] for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] if g["logGroupName"] == name
    )
    return Resource.of_arn(arn, "AwsLogsLogGroup")


@pytest.mark.parametrize(
    ("retention", "parameters", "status"),
    [
        (30, None, Status.FAILED),
        (365, None, Status.PASSED),
        (3653, None, Status.PASSED),
        (None, None, Status.PASSED),  # never expires
        (365, {"minRetentionTime": 400}, Status.FAILED),
        (400, {"minRetentionTime": 400}, Status.PASSED),
        (1827, {"minRetentionTime": 3653}, Status.FAILED),
    ],
)
def test_log_group_retention(aws, retention, parameters, status):
    group = _log_group("/aws/lambda/handler", retention)
    result = evaluate("CloudWatch.16", SESSION, group, parameters)
    assert result.status is status, result.reason
    assert ("retentionInDays is not set" if retention is None else f"retentionInDays is {retention}") in result.reason


def test_log_group_arn_without_wildcard_suffix_and_prefix_siblings(aws):
    _log_group("app/logs-archive", 30)
    group = _log_group("app/logs", 731)
    bare = Resource.of_arn(group.id.removesuffix(":*"), "AwsLogsLogGroup")
    assert evaluate("CloudWatch.16", SESSION, bare).status is Status.PASSED


def test_retention_parameter_outside_the_documented_values_raises(aws):
    group = _log_group("short", 90)
    with pytest.raises(EvaluationError, match="minRetentionTime"):
        evaluate("CloudWatch.16", SESSION, group, {"minRetentionTime": 90})


def test_missing_log_group_raises(aws):
    missing = Resource.of_arn(f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:gone:*", "AwsLogsLogGroup")
    with pytest.raises(EvaluationError, match="gone"):
        evaluate("CloudWatch.16", SESSION, missing)
