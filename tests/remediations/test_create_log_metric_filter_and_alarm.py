"""ASR-CreateLogMetricFilterAndAlarm: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import re

import boto3
import pytest
from moto import mock_aws

from asr import documents, solution
from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.create_log_metric_filter_and_alarm import (
    TOPIC_PARAMETER,
    RemediationError,
    create_log_metric_filter_and_alarm,
)
from tests.conftest import ACCOUNT, REGION
from tests.remediations.helpers import new_kms_key

DOC = "CreateLogMetricFilterAndAlarm"
TOPIC = "SO0111-ASR-LocalAlarmNotification"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC}"
LOG_GROUP = "CloudTrail/org-trail"

#: The CIS AWS Foundations Benchmark filter patterns (CloudWatch.1-14 / CIS 1.4 4.1-4.14, CIS 1.2 3.1-3.14 variants).
CIS_PATTERNS = {
    "UnauthorizedAPICalls": '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
    "ConsoleSigninWithoutMFA": '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }',
    "ConsoleSigninWithoutMFA12": (
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
        '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }'
    ),
    "RootAccountUsage": '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && '
    '$.eventType != "AwsServiceEvent" }',
    "IAMPolicyChanges": (
        "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||"
        "($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||"
        "($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||"
        "($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||"
        "($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||"
        "($.eventName=DetachGroupPolicy)}"
    ),
    "CloudTrailChanges": "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) "
    "|| ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
    "ConsoleAuthenticationFailure": '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
    "DisableOrDeleteCMK": "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||"
    "($.eventName=ScheduleKeyDeletion)) }",
    "S3BucketPolicyChanges": (
        "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) "
        "|| ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || "
        "($.eventName = PutBucketReplication) "
        "|| ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || "
        "($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }"
    ),
    "AWSConfigChanges": "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||"
    "($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }",
    "SecurityGroupChanges": (
        "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || "
        "($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || "
        "($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }"
    ),
    "NACLChanges": (
        "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || "
        "($.eventName = DeleteNetworkAcl) "
        "|| ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || "
        "($.eventName = ReplaceNetworkAclAssociation) }"
    ),
    "NetworkGatewayChanges": (
        "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || "
        "($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || "
        "($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }"
    ),
    "RouteTableChanges": (
        "{ ($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || "
        "($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || "
        "($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }"
    ),
    "VPCChanges": (
        "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || "
        "($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || "
        "($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || "
        "($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || "
        "($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }"
    ),
}


def params(name: str = "UnauthorizedAPICalls", **overrides) -> dict:
    return {
        "LogGroupName": LOG_GROUP,
        "FilterName": name,
        "FilterPattern": CIS_PATTERNS[name],
        "MetricName": name,
        "MetricValue": 1,
        "MetricNamespace": "LogMetrics",
        "AlarmName": name,
        "AlarmDesc": f"Alarm for {name} > 0",
        "AlarmThreshold": 1,
        "SNSTopicName": TOPIC,
        **overrides,
    }


ALL_MANAGEMENT = [{"ReadWriteType": "All", "IncludeManagementEvents": True}]


def org_trail(multi_region: bool = True, selectors: list | None = None, logging: bool = True) -> str:
    """The trail that delivers to LOG_GROUP (CloudTrail.1 / CloudTrail.5 already remediated)."""
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="org-trail-bucket")
    cloudtrail = boto3.client("cloudtrail", region_name=REGION)
    arn = cloudtrail.create_trail(
        Name="org-trail", S3BucketName="org-trail-bucket", IsMultiRegionTrail=multi_region,
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{LOG_GROUP}:*",
        CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCOUNT}:role/trail-to-logs",
    )["TrailARN"]
    cloudtrail.put_event_selectors(TrailName=arn, EventSelectors=selectors or ALL_MANAGEMENT)
    if logging:
        cloudtrail.start_logging(Name=arn)
    return arn


def setup_account(trail: bool = True) -> str:
    """The CloudTrail log group (with an unrelated filter), the trail feeding it and the remediation key;
    returns the key ARN."""
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName=LOG_GROUP)
    logs.put_metric_filter(
        logGroupName=LOG_GROUP, filterName="team-filter", filterPattern="ERROR",
        metricTransformations=[{"metricName": "Errors", "metricNamespace": "Team", "metricValue": "1"}],
    )
    if trail:
        org_trail()
    return new_kms_key()


def subscribe_soc(topic_arn: str = TOPIC_ARN) -> str:
    """The security team subscribes a queue of this account to the alarm topic (confirmed at once)."""
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="soc-alarms")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return boto3.client("sns", region_name=REGION).subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue)[
        "SubscriptionArn"
    ]


NO_SUBSCRIBER = "has no confirmed subscription"


def filters() -> dict[str, str]:
    found = boto3.client("logs", region_name=REGION).describe_metric_filters(logGroupName=LOG_GROUP)["metricFilters"]
    return {f["filterName"]: f["filterPattern"] for f in found}


def alarm(name: str) -> dict:
    (found,) = boto3.client("cloudwatch", region_name=REGION).describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return found


@pytest.fixture
def key():
    with mock_aws():
        yield setup_account()


def test_allowed_pattern_accepts_every_cis_filter_pattern():
    pattern = documents.runbook_source(DOC)["parameters"]["FilterPattern"]["allowedPattern"]
    for name, filter_pattern in CIS_PATTERNS.items():
        assert re.search(pattern, filter_pattern), name


def test_default_topic_is_the_asr_name():
    assert documents.runbook_source(DOC)["parameters"]["SNSTopicName"]["default"] == TOPIC


# --- script --------------------------------------------------------------------


def test_creates_topic_filter_and_alarm(key):
    # A new topic has no subscriber: everything is set up, but the remediation fails (the control would
    # stay failed) and says what to do.
    with pytest.raises(RemediationError, match=f"SNS topic {TOPIC_ARN} {NO_SUBSCRIBER}: nobody would be notified"):
        create_log_metric_filter_and_alarm(params(KMSKeyArn=key), None)
    assert filters() == {"team-filter": "ERROR", "UnauthorizedAPICalls": CIS_PATTERNS["UnauthorizedAPICalls"]}
    got = alarm("UnauthorizedAPICalls")
    assert got["AlarmActions"] == [TOPIC_ARN] and got["Namespace"] == "LogMetrics" and got["Threshold"] == 1.0
    attrs = boto3.client("sns").get_topic_attributes(TopicArn=TOPIC_ARN)["Attributes"]
    assert attrs["KmsMasterKeyId"] == key
    assert boto3.client("ssm").get_parameter(Name=TOPIC_PARAMETER)["Parameter"]["Value"] == TOPIC_ARN
    subscribe_soc()
    out = create_log_metric_filter_and_alarm(params(KMSKeyArn=key), None)
    assert out["TopicArn"] == TOPIC_ARN and "nothing changed" in out["Message"]


def test_existing_topic_and_alarm_actions_are_kept(key):
    sns = boto3.client("sns")
    sns.create_topic(Name=TOPIC)
    sns.subscribe(TopicArn=TOPIC_ARN, Protocol="email", Endpoint="soc@example.com")
    pager = sns.create_topic(Name="pager")["TopicArn"]
    boto3.client("cloudwatch").put_metric_alarm(
        AlarmName="RootAccountUsage", MetricName="RootAccountUsage", Namespace="LogMetrics", Statistic="Sum",
        Period=300, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[pager],
    )
    create_log_metric_filter_and_alarm(params("RootAccountUsage", KMSKeyArn=key), None)
    assert alarm("RootAccountUsage")["AlarmActions"] == sorted([pager, TOPIC_ARN])
    assert "KmsMasterKeyId" not in sns.get_topic_attributes(TopicArn=TOPIC_ARN)["Attributes"]
    assert len(sns.list_subscriptions_by_topic(TopicArn=TOPIC_ARN)["Subscriptions"]) == 1


def test_missing_log_group_names_the_input(key):
    with pytest.raises(RemediationError, match="LogGroupName CloudTrail/none: no such log group"):
        create_log_metric_filter_and_alarm(params(KMSKeyArn=key, LogGroupName="CloudTrail/none"), None)
    assert boto3.client("sns").list_topics()["Topics"] == []


# --- document ------------------------------------------------------------------


@pytest.fixture
def account(run_runbook):
    key = setup_account()
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name=solution.SSM_CMK_REMEDIATION_ARN, Value=key, Type="String")
    ssm.put_parameter(Name=solution.SSM_METRICS_LOG_GROUP_NAME, Value=LOG_GROUP, Type="String")
    return key


@pytest.mark.parametrize(
    "name", ["UnauthorizedAPICalls", "ConsoleSigninWithoutMFA12", "IAMPolicyChanges", "VPCChanges"]
)
def test_document_creates_filter_and_alarm_with_solution_defaults(run_runbook, account, name):
    inputs = {k: v for k, v in params(name).items() if k not in {"LogGroupName", "SNSTopicName", "MetricNamespace"}}
    execution = run_runbook(DOC, **inputs)
    # First run: filter, alarm and topic are created; nobody subscribes to the topic yet, so it fails.
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert NO_SUBSCRIBER in execution["FailureMessage"]
    assert filters() == {"team-filter": "ERROR", name: CIS_PATTERNS[name]}
    assert alarm(name)["AlarmActions"] == [TOPIC_ARN]
    attrs = boto3.client("sns", region_name=REGION).get_topic_attributes(TopicArn=TOPIC_ARN)["Attributes"]
    assert attrs["KmsMasterKeyId"] == account
    subscribe_soc()
    execution = run_runbook(DOC, **inputs)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")


def test_document_second_run_changes_nothing(run_runbook, account):
    assert run_runbook(DOC, **params())["AutomationExecutionStatus"] == "Failed"  # no subscriber yet
    subscribe_soc()
    assert run_runbook(DOC, **params())["AutomationExecutionStatus"] == "Success"
    second = run_runbook(DOC, **params())
    assert second["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in str(second["Outputs"])
    assert len(boto3.client("sns", region_name=REGION).list_topics()["Topics"]) == 1


def test_document_controls_share_one_topic(run_runbook, account):
    names = ["RootAccountUsage", "DisableOrDeleteCMK", "S3BucketPolicyChanges"]
    assert run_runbook(DOC, **params(names[0]))["AutomationExecutionStatus"] == "Failed"  # no subscriber yet
    subscribe_soc()
    for name in names:
        execution = run_runbook(DOC, **params(name))
        assert execution["AutomationExecutionStatus"] == "Success", (name, execution.get("FailureMessage"))
    assert set(filters()) == {"team-filter", *names}
    assert len(boto3.client("sns", region_name=REGION).list_topics()["Topics"]) == 1


@pytest.mark.parametrize(
    ("param", "value"),
    [("FilterPattern", "ERROR"), ("FilterPattern", "{ $.a = 1\n }"), ("MetricNamespace", "AWS/Logs"),
     ("AlarmThreshold", 0), ("LogGroupName", "bad group"), ("KMSKeyArn", "key-1"), ("SNSTopicName", "a.b")],
)
def test_document_rejects_malformed_input(run_runbook, account, param, value):
    with pytest.raises(ParameterValidationError, match=param):
        run_runbook(DOC, **params(**{param: value}))
    assert filters() == {"team-filter": "ERROR"}


def test_document_fails_on_a_missing_log_group_and_changes_nothing(run_runbook, account):
    execution = run_runbook(DOC, **params(LogGroupName="CloudTrail/missing"))
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "LogGroupName CloudTrail/missing: no such log group" in execution["FailureMessage"]
    assert boto3.client("sns", region_name=REGION).list_topics()["Topics"] == []
    assert boto3.client("cloudwatch", region_name=REGION).describe_alarms()["MetricAlarms"] == []


# --- the control's other requirements: a trail feeding the log group, a subscribed topic ---------


@pytest.fixture
def bare():
    """The log group and the key, but no trail yet."""
    with mock_aws():
        yield setup_account(trail=False)


def test_no_trail_feeding_the_log_group_is_refused_before_any_change(bare):
    with pytest.raises(RemediationError, match=f"LogGroupName {LOG_GROUP}: no trail of this account homed in"):
        create_log_metric_filter_and_alarm(params(KMSKeyArn=bare), None)
    assert filters() == {"team-filter": "ERROR"}
    assert boto3.client("sns", region_name=REGION).list_topics()["Topics"] == []


@pytest.mark.parametrize(
    ("trail", "why"),
    [
        ({"multi_region": False}, "trail org-trail is not multi-Region"),
        ({"logging": False}, "trail org-trail is not logging"),
        ({"selectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]},
         "trail org-trail does not record all read and write management events"),
    ],
)
def test_a_trail_that_misses_events_is_refused_naming_it(bare, trail, why):
    org_trail(**trail)
    with pytest.raises(RemediationError, match=why):
        create_log_metric_filter_and_alarm(params(KMSKeyArn=bare), None)
    assert filters() == {"team-filter": "ERROR"}


def test_kms_events_excluded_from_the_trail_refuse_the_kms_control_only(bare):
    # CloudWatch.7 watches kms.amazonaws.com events: a trail excluding them feeds the filter nothing.
    org_trail(selectors=[{**ALL_MANAGEMENT[0], "ExcludeManagementEventSources": ["kms.amazonaws.com"]}])
    with pytest.raises(RemediationError, match="does not record all read and write management events"):
        create_log_metric_filter_and_alarm(params("DisableOrDeleteCMK", KMSKeyArn=bare), None)
    boto3.client("sns", region_name=REGION).create_topic(Name=TOPIC)
    subscribe_soc()
    out = create_log_metric_filter_and_alarm(params("RootAccountUsage", KMSKeyArn=bare), None)
    assert "alarm RootAccountUsage set" in out["Message"]


def test_operator_topic_from_the_parameter_is_used_as_it_is(key):
    sns = boto3.client("sns", region_name=REGION)
    soc = sns.create_topic(Name="soc-pager")["TopicArn"]
    subscribe_soc(soc)
    boto3.client("ssm", region_name=REGION).put_parameter(Name=TOPIC_PARAMETER, Value=soc, Type="String")
    out = create_log_metric_filter_and_alarm(params(KMSKeyArn=key), None)
    assert out["TopicArn"] == soc and alarm("UnauthorizedAPICalls")["AlarmActions"] == [soc]
    assert [t["TopicArn"] for t in sns.list_topics()["Topics"]] == [soc]  # no solution topic created
    assert "KmsMasterKeyId" not in sns.get_topic_attributes(TopicArn=soc)["Attributes"]  # kept as it is


@pytest.mark.parametrize(
    "value",
    [f"arn:aws:sns:eu-west-1:{ACCOUNT}:soc", f"arn:aws:sns:{REGION}:222222222222:soc", "soc",
     f"arn:aws:sns:{REGION}:{ACCOUNT}:missing"],
)
def test_a_parameter_naming_no_usable_topic_is_refused_naming_it(key, value):
    boto3.client("ssm", region_name=REGION).put_parameter(Name=TOPIC_PARAMETER, Value=value, Type="String")
    with pytest.raises(RemediationError, match=re.escape(TOPIC_PARAMETER)):
        create_log_metric_filter_and_alarm(params(KMSKeyArn=key), None)
    assert boto3.client("cloudwatch", region_name=REGION).describe_alarms()["MetricAlarms"] == []


@pytest.fixture
def control_world(monkeypatch):
    """The playbook tests' world: moto with accounts apart, BatchUpdateFindings, solution parameters."""
    from tests.conftest import multi_account_moto
    from tests.playbooks import securityhub
    from tests.playbooks.harness import CLIENTS, solution_parameters

    CLIENTS.clear()
    securityhub.install(monkeypatch)
    with multi_account_moto(monkeypatch):
        solution_parameters(ACCOUNT, REGION)
        yield
    CLIENTS.clear()


@pytest.mark.parametrize(("key_", "control_id"), [("SC", "CloudWatch.1"), ("SC", "CloudWatch.8"), ("CIS140", "4.3")])
def test_control_runbook_without_a_subscriber_fails_and_leaves_the_finding_open(control_world, key_, control_id):
    from asr.playbooks import data
    from tests.playbooks.harness import client, finding_for, import_finding, real_registry, run_control, stored_finding

    ssm = client("ssm")
    ssm.put_parameter(Name=solution.SSM_CMK_REMEDIATION_ARN, Value=client("kms").create_key()["KeyMetadata"]["Arn"],
                      Type="String", Overwrite=True)
    log_group = ssm.get_parameter(Name=solution.SSM_METRICS_LOG_GROUP_NAME)["Parameter"]["Value"]
    client("logs").create_log_group(logGroupName=log_group)
    client("s3").create_bucket(Bucket="org-trail-bucket")
    trail = client("cloudtrail").create_trail(
        Name="org-trail", S3BucketName="org-trail-bucket", IsMultiRegionTrail=True,
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{log_group}:*",
    )["TrailARN"]
    client("cloudtrail").put_event_selectors(TrailName=trail, EventSelectors=ALL_MANAGEMENT)
    client("cloudtrail").start_logging(Name=trail)
    std = data.load_standard(key_)
    finding = finding_for(std, control_id, f"AWS::::Account:{ACCOUNT}", resource_type="AwsAccount")
    import_finding(finding)
    _, execution = run_control(real_registry(), std, std.control(control_id).remap or control_id, finding)
    assert execution.status == "Failed"
    assert NO_SUBSCRIBER in execution.failure_message
    assert stored_finding(finding["Id"])["Workflow"]["Status"] == "NEW"
    found = client("logs").describe_metric_filters(logGroupName=log_group)["metricFilters"]
    assert len(found) == 1  # the filter and the alarm are in place for when someone subscribes
