"""Every control runbook whose resource is the account or an S3 bucket, run to its real
remediation on moto (the remediation changes the account or the bucket).

One moto world per module (account-level remediations are idempotent; each bucket
test has its own bucket); the remediations' own tests prove what each change is --
here the proof is that the control runbook reaches the real document with parameters
it accepts, the remediation succeeds, and the finding is RESOLVED.
"""

from __future__ import annotations

import itertools

import pytest

from asr.playbooks import data
from asr.simulator.execution import Status
from tests.conftest import ACCOUNT, REGION
from tests.playbooks.harness import (
    client,
    finding_for,
    import_finding,
    real_registry,
    remediation_runs,
    run_control,
    stored_finding,
)

_BUCKETS = itertools.count(1)
#: Remediations moto cannot run to the end (an API it lacks), with the reason.
NOT_ON_MOTO: dict[str, str] = {}


def _cases(regex: str) -> list[tuple[str, str]]:
    return [
        (s.key, c.control_id)
        for s in data.standards()
        for c in s.own()
        if data.remediations()[c.remediation].regex.name == regex and c.remediation not in NOT_ON_MOTO
    ]


ACCOUNT_CASES = _cases("account")


@pytest.fixture(scope="module")
def _managed_policies():
    """moto knows AWS managed policies (AWSSupportAccess for CreateIAMSupportRole) only when asked,
    before the moto world starts."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        yield


BUCKET_CASES = _cases("s3_bucket_arn")


@pytest.fixture(scope="module")
def kms_key(_managed_policies, shared_aws):
    """A real key behind /Solutions/SO0111/CMK_REMEDIATION_ARN (trails, topics and logs use it)."""
    arn = client("kms").create_key()["KeyMetadata"]["Arn"]
    client("ssm").put_parameter(Name="/Solutions/SO0111/CMK_REMEDIATION_ARN", Value=arn, Type="String", Overwrite=True)
    logs = client("logs")
    logs.create_log_group(logGroupName="CloudTrail/DefaultLogGroup")
    # What the CIS alarm controls (CloudWatch.1-14) need besides the filter and alarm the remediation
    # makes: a multi-Region trail logging every management event into that group, and an alarm topic
    # someone receives (the operator's, named by /Solutions/SO0111/SNS_Topic_CIS3.x).
    group = logs.describe_log_groups(logGroupNamePrefix="CloudTrail/DefaultLogGroup")["logGroups"][0]["arn"]
    client("s3").create_bucket(Bucket="org-trail-bucket")
    trail = client("cloudtrail")
    trail.create_trail(
        Name="org-trail",
        S3BucketName="org-trail-bucket",
        IsMultiRegionTrail=True,
        CloudWatchLogsLogGroupArn=group,
        CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCOUNT}:role/trail-to-logs",
    )
    trail.put_event_selectors(
        TrailName="org-trail", EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    )
    trail.start_logging(Name="org-trail")
    topic = client("sns").create_topic(Name="security-alarms")["TopicArn"]
    queue = client("sqs").create_queue(QueueName="security-inbox")["QueueUrl"]
    queue_arn = client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    client("ssm").put_parameter(Name="/Solutions/SO0111/SNS_Topic_CIS3.x", Value=topic, Type="String", Overwrite=True)
    return arn


def _run(key, control_id, resource_id, resource_type):
    std = data.load_standard(key)
    control = std.control(control_id)
    finding = finding_for(std, control_id, resource_id, account=ACCOUNT, region=REGION, resource_type=resource_type)
    import_finding(finding)
    runner, execution = run_control(real_registry(), std, control_id, finding)
    assert execution.status is Status.SUCCESS, execution.failure_message
    rem = data.remediations()[control.remediation]
    (run,) = remediation_runs(runner, rem.document)
    assert run.status is Status.SUCCESS
    assert stored_finding(finding["Id"])["Workflow"]["Status"] == "RESOLVED"
    return run


@pytest.mark.parametrize(("key", "control_id"), ACCOUNT_CASES, ids=[f"{k}-{c}" for k, c in ACCOUNT_CASES])
def test_account_level_control_lands(kms_key, key, control_id):
    _run(key, control_id, f"AWS::::Account:{ACCOUNT}", "AwsAccount")


@pytest.mark.parametrize(("key", "control_id"), BUCKET_CASES, ids=[f"{k}-{c}" for k, c in BUCKET_CASES])
def test_bucket_control_lands(kms_key, key, control_id):
    bucket = f"finding-bucket-{next(_BUCKETS)}"
    client("s3").create_bucket(Bucket=bucket)
    _run(key, control_id, f"arn:aws:s3:::{bucket}", "AwsS3Bucket")


@pytest.mark.parametrize(
    ("key", "control_id", "runbook", "filter_name"),
    [
        ("SC", "CloudWatch.2", "CloudWatch.1", "UnauthorizedAPICalls"),
        ("CIS140", "4.2", "4.1", "ConsoleSigninWithoutMFA"),
        ("CIS120", "3.14", "3.1", "VPCChanges"),
    ],
)
def test_remapped_metric_filter_control_creates_its_own_filter(kms_key, key, control_id, runbook, filter_name):
    std = data.load_standard(key)
    finding = finding_for(std, control_id, f"AWS::::Account:{ACCOUNT}", resource_type="AwsAccount")
    import_finding(finding)
    _, execution = run_control(real_registry(), std, runbook, finding)
    assert execution.status is Status.SUCCESS, execution.failure_message
    filters = client("logs").describe_metric_filters(logGroupName="CloudTrail/DefaultLogGroup")["metricFilters"]
    assert filter_name in {f["filterName"] for f in filters}
    alarms = client("cloudwatch").describe_alarms(AlarmNames=[filter_name])["MetricAlarms"]
    assert len(alarms) == 1
