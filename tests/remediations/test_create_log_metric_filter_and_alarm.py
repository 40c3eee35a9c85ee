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


def setup_account() -> str:
    """The CloudTrail log group (with an unrelated filter) and the remediation key; returns the key ARN."""
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName=LOG_GROUP)
    logs.put_metric_filter(
        logGroupName=LOG_GROUP, filterName="team-filter", filterPattern="ERROR",
        metricTransformations=[{"metricName": "Errors", "metricNamespace": "Team", "metricValue": "1"}],
    )
    return new_kms_key()


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
    out = create_log_metric_filter_and_alarm(params(KMSKeyArn=key), None)
    assert filters() == {"team-filter": "ERROR", "UnauthorizedAPICalls": CIS_PATTERNS["UnauthorizedAPICalls"]}
    got = alarm("UnauthorizedAPICalls")
    assert got["AlarmActions"] == [TOPIC_ARN] and got["Namespace"] == "LogMetrics" and got["Threshold"] == 1.0
    attrs = boto3.client("sns").get_topic_attributes(TopicArn=TOPIC_ARN)["Attributes"]
    assert attrs["KmsMasterKeyId"] == key
    assert boto3.client("ssm").get_parameter(Name=TOPIC_PARAMETER)["Parameter"]["Value"] == TOPIC_ARN
    assert out["TopicArn"] == TOPIC_ARN


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
    execution = run_runbook(DOC, **{k: v for k, v in params(name).items()
                                    if k not in {"LogGroupName", "SNSTopicName", "MetricNamespace"}})
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert filters() == {"team-filter": "ERROR", name: CIS_PATTERNS[name]}
    assert alarm(name)["AlarmActions"] == [TOPIC_ARN]
    attrs = boto3.client("sns", region_name=REGION).get_topic_attributes(TopicArn=TOPIC_ARN)["Attributes"]
    assert attrs["KmsMasterKeyId"] == account


def test_document_second_run_changes_nothing(run_runbook, account):
    run_runbook(DOC, **params())
    second = run_runbook(DOC, **params())
    assert second["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in str(second["Outputs"])
    assert len(boto3.client("sns", region_name=REGION).list_topics()["Topics"]) == 1


def test_document_controls_share_one_topic(run_runbook, account):
    names = ["RootAccountUsage", "DisableOrDeleteCMK", "S3BucketPolicyChanges"]
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
