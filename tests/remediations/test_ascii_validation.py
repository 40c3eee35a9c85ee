"""Issue 14, item 2: runbook scripts validate ids, Regions and ARNs ASCII-only and whole.

``\\d`` and ``\\w`` match Unicode digits and letters in Python (``"\\u0661"``, ARABIC-INDIC DIGIT
ONE, is a ``\\d``), and ``re.match`` with ``$`` accepts a trailing newline. Each case below was
accepted by the script before (and then reached AWS, or a message that did not say what was wrong);
now the script refuses it before any change, naming the parameter and the value.
"""

from __future__ import annotations

import importlib

import boto3
import pytest

from remediation_runbooks.scripts import (
    enable_api_gateway_cache_data_encryption,
    enable_api_gateway_execution_logs,
    enable_cloudtrail_encryption,
    enable_cloudtrail_to_cloudwatch_logging,
    s3_block_denylist,
    set_cloudfront_origin_domain,
    set_log_group_retention_days,
    tag_guardduty_resource,
)
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, REGION

ARABIC = "\u0661" * 12  # twelve ARABIC-INDIC DIGIT ONE: "\d{12}" and str.isdigit() accept it
ARABIC_REGION = "us-east-\u0661"
DETECTOR = "0123456789abcdef0123456789abcdef"


# --- S3BlockDenylist: the accounts a bucket policy names ---------------------------------------


@pytest.mark.parametrize(
    "principal",
    [ARABIC, f"{ACCOUNT}\n", f"arn:aws:iam::{ARABIC}:root", f"arn:aws:iam::{OTHER_ACCOUNT}:root\n"],
    ids=["arabic-account", "account-newline", "arabic-arn", "arn-newline"],
)
def test_s3_block_denylist_principal_account_is_ascii_and_whole(principal):
    assert s3_block_denylist.principal_account(principal) is None


def test_s3_block_denylist_principal_account_still_reads_real_principals():
    assert s3_block_denylist.principal_account(OTHER_ACCOUNT) == OTHER_ACCOUNT
    assert s3_block_denylist.principal_account(f"arn:aws:iam::{OTHER_ACCOUNT}:role/partner") == OTHER_ACCOUNT
    assert s3_block_denylist.principal_account(f"arn:aws-cn:sts::{OTHER_ACCOUNT}:assumed-role/r/s") == OTHER_ACCOUNT
    assert s3_block_denylist.principal_account("*") is None


# --- EnableCloudTrailEncryption -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "region"),
    [
        (f"arn:aws:cloudtrail:{REGION}:{ARABIC}:trail/t", REGION),
        (f"arn:aws:cloudtrail:{ARABIC_REGION}:{ACCOUNT}:trail/t", ARABIC_REGION),
        (f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/t\n", REGION),
    ],
    ids=["arabic-account", "arabic-region", "trailing-newline"],
)
def test_cloudtrail_encryption_trail_arn_is_ascii_and_whole(arn, region):
    with pytest.raises(enable_cloudtrail_encryption.RemediationError) as err:
        enable_cloudtrail_encryption._trail_region(arn, region)
    assert str(err.value) == f"TrailArn {arn}: not a CloudTrail trail ARN"


def test_cloudtrail_encryption_trail_arn_still_reads_real_arns():
    arn = f"arn:aws-us-gov:cloudtrail:us-gov-west-1:{ACCOUNT}:trail/management-events"
    assert enable_cloudtrail_encryption._trail_region(arn, "us-gov-west-1") == "us-gov-west-1"


def test_cloudtrail_encryption_bucket_readers_are_ascii_accounts():
    principal = {"AWS": [ARABIC, f"{OTHER_ACCOUNT}\n", f"arn:aws:iam::{ARABIC}:root", f"arn:aws:iam::{ACCOUNT}:root"]}
    assert enable_cloudtrail_encryption._accounts(principal) == {ACCOUNT}


@pytest.mark.parametrize(
    "key",
    [
        f"arn:aws:kms:{REGION}:{ARABIC}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        f"arn:aws:kms:{ARABIC_REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab\n",
    ],
    ids=["arabic-account", "arabic-region", "trailing-newline"],
)
def test_cloudtrail_encryption_key_arn_is_ascii_and_whole(aws, key):
    with pytest.raises(enable_cloudtrail_encryption.RemediationError) as err:
        enable_cloudtrail_encryption._usable_key(key)
    assert str(err.value) == f"KMSKeyArn {key}: not a KMS key or alias ARN"


# --- TagGuardDutyResource -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "account", "region"),
    [
        (f"arn:aws:guardduty:{REGION}:{ARABIC}:detector/{DETECTOR}", ARABIC, REGION),
        (f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/{DETECTOR}\n", ACCOUNT, REGION),
        (f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/{DETECTOR}/filter/abc\n", ACCOUNT, REGION),
    ],
    ids=["arabic-account", "detector-newline", "filter-newline"],
)
def test_tag_guardduty_resource_arn_is_ascii_and_whole(arn, account, region):
    with pytest.raises(tag_guardduty_resource.RemediationError) as err:
        tag_guardduty_resource._parse(arn, account, region)
    assert str(err.value) == f"ResourceArn {arn}: not a GuardDuty detector or filter ARN"


def test_tag_guardduty_resource_still_reads_real_arns():
    match = tag_guardduty_resource._parse(
        f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/{DETECTOR}/filter/my-filter", ACCOUNT, REGION
    )
    assert (match["detector"], match["filter"]) == (DETECTOR, "my-filter")


# --- SetLogGroupRetentionDays -------------------------------------------------------------------


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:logs:{REGION}:{ARABIC}:log-group:/aws/lambda/fn",
        f"arn:aws:logs:{ARABIC_REGION}:{ACCOUNT}:log-group:/aws/lambda/fn",
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/fn\n",
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/f\u0661n:*",
    ],
    ids=["arabic-account", "arabic-region", "trailing-newline", "unicode-name"],
)
def test_set_log_group_retention_arn_is_ascii_and_whole(arn):
    with pytest.raises(set_log_group_retention_days.RemediationError) as err:
        set_log_group_retention_days._parse_arn(arn)
    assert str(err.value) == f"LogGroupArn {arn}: not a CloudWatch Logs log group ARN"


def test_set_log_group_retention_still_reads_real_arns():
    match = set_log_group_retention_days._parse_arn(f"arn:aws-cn:logs:cn-north-1:{ACCOUNT}:log-group:/a/b#c.d_e-f:*")
    assert (match["account"], match["region"], match["name"]) == (ACCOUNT, "cn-north-1", "/a/b#c.d_e-f")


# --- the member's key parameter (five scripts share configured_key) -----------------------------

KEY_SCRIPTS = [
    "enable_kms_encryption",
    "create_log_metric_filter_and_alarm",
    "create_cloudtrail_multi_region_trail",
    "enable_vpc_flow_logs",
    "enable_bucket_event_notifications",
]


@pytest.mark.parametrize("script", KEY_SCRIPTS)
@pytest.mark.parametrize("where", ["account", "region"])
def test_configured_key_parameter_is_ascii(aws, script, where):
    module = importlib.import_module(f"remediation_runbooks.scripts.{script}")
    account, region = (ARABIC, REGION) if where == "account" else (ACCOUNT, ARABIC_REGION)
    value = f"arn:aws:kms:{region}:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    boto3.client("ssm", region_name=REGION).put_parameter(Name=module.KEY_PARAMETER, Value=value, Type="String")
    with pytest.raises(module.RemediationError) as err:
        module.configured_key("", REGION)
    assert f"{module.KEY_PARAMETER} {value!r}: not a KMS key or alias ARN" in str(err.value)


@pytest.mark.parametrize("script", KEY_SCRIPTS)
def test_configured_key_parameter_still_reads_real_keys(aws, script):
    module = importlib.import_module(f"remediation_runbooks.scripts.{script}")
    value = f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/SO0111-ASR-Remediation"
    boto3.client("ssm", region_name=REGION).put_parameter(Name=module.KEY_PARAMETER, Value=value, Type="String")
    assert module.configured_key("", REGION) == value


# --- CreateLogMetricFilterAndAlarm: the alarm topic parameter -----------------------------------


@pytest.mark.parametrize(
    ("value", "account"),
    [
        (f"arn:aws:sns:{REGION}:{ARABIC}:alarms", ARABIC),
        (f"arn:aws:sns:{REGION}:{ACCOUNT}:alarms\n", ACCOUNT),
    ],
    ids=["arabic-account", "trailing-newline"],
)
def test_alarm_topic_parameter_is_ascii_and_whole(aws, value, account):
    from remediation_runbooks.scripts import create_log_metric_filter_and_alarm as script

    boto3.client("ssm", region_name=REGION).put_parameter(Name=script.TOPIC_PARAMETER, Value=value, Type="String")
    boto3.client("sns", region_name=REGION).create_topic(Name="alarms")
    with pytest.raises(script.RemediationError) as err:
        script._configured_topic(account, REGION)
    assert f"{script.TOPIC_PARAMETER} {value!r}: not the ARN of an SNS topic of account {account}" in str(err.value)


# --- EnableCloudTrailToCloudWatchLogging: the role it passes ------------------------------------


@pytest.mark.parametrize(
    ("arn", "account"),
    [(f"arn:aws:iam::{ARABIC}:role/logs", ARABIC), (f"arn:aws:iam::{ACCOUNT}:role/logs\n", ACCOUNT)],
    ids=["arabic-account", "trailing-newline"],
)
def test_cloudtrail_logs_role_arn_is_ascii_and_whole(aws, arn, account):
    boto3.client("iam").create_role(RoleName="logs", AssumeRolePolicyDocument="{}")
    with pytest.raises(enable_cloudtrail_to_cloudwatch_logging.RemediationError) as err:
        enable_cloudtrail_to_cloudwatch_logging._check_role(arn, account)
    assert str(err.value) == f"CloudWatchLogsRole {arn}: not a role ARN of account {account}"


# --- SetCloudFrontOriginDomain ------------------------------------------------------------------


@pytest.mark.parametrize("distribution", ["E1234567890AB\n", "E1234567890A\u0661"], ids=["newline", "arabic-digit"])
def test_cloudfront_distribution_id_is_ascii_and_whole(aws, distribution):
    with pytest.raises(set_cloudfront_origin_domain.RemediationError) as err:
        set_cloudfront_origin_domain.set_origin_domain({"DistributionId": distribution}, None)
    assert str(err.value) == f"DistributionId {distribution}: not a CloudFront distribution ID"


def test_cloudfront_s3_origin_domain_is_ascii_and_whole():
    assert set_cloudfront_origin_domain.bucket_of({"DomainName": "b-1.s3.us-east-1.amazonaws.com"}) == "b-1"
    assert set_cloudfront_origin_domain.bucket_of({"DomainName": "b-1.s3.us-east-\u0661.amazonaws.com"}) == ""
    assert set_cloudfront_origin_domain.bucket_of({"DomainName": "b-1.s3.amazonaws.com\n"}) == ""


# --- API Gateway stage ARNs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "suffix", ["/restapis/abcdefghij/stages/prod\n", "/apis/abcdefghij/stages/$default\n"], ids=["rest", "http"]
)
def test_execution_logs_stage_suffix_is_whole(suffix):
    with pytest.raises(enable_api_gateway_execution_logs.RemediationError) as err:
        enable_api_gateway_execution_logs.parse_suffix(suffix)
    assert str(err.value).startswith(f"APIGatewayStageArnSuffix {suffix}: not /restapis/")


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:apigateway:{REGION}::/restapis/abcdefghij/stages/prod\n",
        f"arn:aws:apigateway:{ARABIC_REGION}::/restapis/abcdefghij/stages/prod",
        f"arn:aws:apigateway:{REGION}::/restapis/abcdefghij/stages/pr\u0661d",
    ],
    ids=["trailing-newline", "arabic-region", "unicode-stage"],
)
def test_cache_encryption_stage_arn_is_ascii_and_whole(aws, arn):
    script = enable_api_gateway_cache_data_encryption
    with pytest.raises(script.RemediationError) as err:
        script.enable_cache_encryption({"APIGatewayStageArn": arn}, None)
    assert str(err.value) == f"APIGatewayStageArn {arn}: not a REST API stage ARN"
