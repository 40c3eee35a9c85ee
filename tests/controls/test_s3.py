"""S3 control evaluators on moto: the shapes the control pages and their Config rules name."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate

ACCOUNT, OTHER, REGION = "111111111111", "222222222222", "us-east-1"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
BPA_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


@pytest.fixture
def s3():
    with mock_aws():
        yield boto3.client("s3", region_name=REGION)


def _bucket(s3, name: str = "asr-test-bucket") -> Resource:
    s3.create_bucket(Bucket=name)
    return Resource(f"arn:aws:s3:::{name}", "AwsS3Bucket", ACCOUNT, REGION)


def _policy(s3, bucket: Resource, *statements: dict) -> None:
    s3.put_bucket_policy(
        Bucket=bucket.name, Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    )


def _account_bpa(**settings: bool) -> None:
    boto3.client("s3control", region_name=REGION).put_public_access_block(
        AccountId=ACCOUNT, PublicAccessBlockConfiguration=settings
    )


def _grant_all_users(s3, bucket: Resource, permission: str) -> None:
    owner = s3.get_bucket_acl(Bucket=bucket.name)["Owner"]
    grants = [{"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": permission}]
    s3.put_bucket_acl(Bucket=bucket.name, AccessControlPolicy={"Owner": owner, "Grants": grants})


def _status(control_id: str, resource: Resource, **parameters) -> Status:
    verdict = evaluate(control_id, boto3.Session(), resource, parameters)
    return verdict.status


class _StubbedSession:
    """A session whose clients are given (already stubbed) clients, for APIs moto mis-models."""

    def __init__(self, **clients) -> None:
        self._clients = clients

    def client(self, service: str, region_name: str | None = None):
        return self._clients[service]


# --------------------------------------------------------------------------- S3.1


def test_s3_1_account_without_block_public_access_fails(s3):
    verdict = evaluate("S3.1", boto3.Session(), Resource.account_level(ACCOUNT, REGION))
    assert verdict.status is Status.FAILED
    assert "no account-level" in verdict.reason


def test_s3_1_all_four_settings_pass_and_one_missing_fails(s3):
    account = Resource.account_level(ACCOUNT, REGION)
    _account_bpa(**BPA_ON)
    verdict = evaluate("S3.1", boto3.Session(), account)
    assert verdict.status is Status.PASSED, verdict.reason
    _account_bpa(**{**BPA_ON, "RestrictPublicBuckets": False})
    verdict = evaluate("S3.1", boto3.Session(), account)
    assert verdict.status is Status.FAILED
    assert verdict.reason == "RestrictPublicBuckets is false at the account level"


def test_s3_1_a_setting_whose_parameter_is_false_is_not_required(s3):
    account = Resource.account_level(ACCOUNT, REGION)
    _account_bpa(**{**BPA_ON, "RestrictPublicBuckets": False})
    assert _status("S3.1", account, restrictPublicBuckets=False) is Status.PASSED
    assert _status("S3.1", account, restrictPublicBuckets="false") is Status.PASSED  # Config-style string


# --------------------------------------------------------------------------- S3.2 / S3.3

PUBLIC_READ = {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}


def _public_read_policy(s3, bucket: Resource, **extra) -> None:
    _policy(s3, bucket, {**PUBLIC_READ, "Resource": f"{bucket.id}/*", **extra})


def test_s3_2_private_bucket_passes(s3):
    verdict = evaluate("S3.2", boto3.Session(), _bucket(s3))
    assert verdict.status is Status.PASSED, verdict.reason


def test_s3_2_public_read_acl_fails(s3):
    bucket = _bucket(s3)
    s3.put_bucket_acl(Bucket=bucket.name, ACL="public-read")
    verdict = evaluate("S3.2", boto3.Session(), bucket)
    assert verdict.status is Status.FAILED
    assert "READ to AllUsers" in verdict.reason and "IgnorePublicAcls is false" in verdict.reason


def test_s3_2_public_read_policy_fails(s3):
    bucket = _bucket(s3)
    _public_read_policy(s3, bucket)
    verdict = evaluate("S3.2", boto3.Session(), bucket)
    assert verdict.status is Status.FAILED
    assert "'Public' allows s3:GetObject" in verdict.reason


@pytest.mark.parametrize("level", ["account", "bucket"])
def test_s3_2_restrict_public_buckets_at_either_level_neutralises_a_public_policy(s3, level):
    bucket = _bucket(s3)
    _public_read_policy(s3, bucket)
    if level == "account":
        _account_bpa(RestrictPublicBuckets=True)
    else:
        s3.put_public_access_block(Bucket=bucket.name, PublicAccessBlockConfiguration={"RestrictPublicBuckets": True})
    verdict = evaluate("S3.2", boto3.Session(), bucket)
    assert verdict.status is Status.PASSED, verdict.reason
    assert f"RestrictPublicBuckets is true at the {level} level" in verdict.reason


def test_s3_2_account_level_ignore_public_acls_neutralises_a_public_acl(s3):
    bucket = _bucket(s3)
    s3.put_bucket_acl(Bucket=bucket.name, ACL="public-read")
    _account_bpa(IgnorePublicAcls=True)
    verdict = evaluate("S3.2", boto3.Session(), bucket)
    assert verdict.status is Status.PASSED, verdict.reason


def test_s3_2_block_public_policy_alone_does_not_restrict_an_existing_public_policy(s3):
    # BlockPublicPolicy/BlockPublicAcls only reject new public grants; existing ones stay effective.
    bucket = _bucket(s3)
    _public_read_policy(s3, bucket)
    s3.put_public_access_block(
        Bucket=bucket.name, PublicAccessBlockConfiguration={"BlockPublicPolicy": True, "BlockPublicAcls": True}
    )
    assert _status("S3.2", bucket) is Status.FAILED


def test_s3_2_policy_fixed_to_a_vpc_endpoint_is_not_public(s3):
    bucket = _bucket(s3)
    _public_read_policy(s3, bucket, Condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})
    assert _status("S3.2", bucket) is Status.PASSED
    _public_read_policy(s3, bucket, Condition={"StringLike": {"aws:SourceVpce": "vpce-*"}})
    assert _status("S3.2", bucket) is Status.FAILED
    _public_read_policy(s3, bucket, Condition={"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b3c4d"}})
    assert _status("S3.2", bucket) is Status.FAILED  # requests without the key stay unconstrained


def test_s3_3_public_write_acl_and_policy_fail_but_public_read_passes(s3):
    bucket = _bucket(s3)
    _public_read_policy(s3, bucket)
    assert _status("S3.3", bucket) is Status.PASSED  # read is not write
    _grant_all_users(s3, bucket, "WRITE")
    verdict = evaluate("S3.3", boto3.Session(), bucket)
    assert verdict.status is Status.FAILED
    assert "WRITE to AllUsers" in verdict.reason


def test_s3_3_public_put_policy_fails_until_restricted(s3):
    bucket = _bucket(s3)
    _policy(
        s3, bucket, {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:Put*", "Resource": f"{bucket.id}/*"}
    )
    assert _status("S3.3", bucket) is Status.FAILED
    s3.put_public_access_block(Bucket=bucket.name, PublicAccessBlockConfiguration=BPA_ON)
    assert _status("S3.3", bucket) is Status.PASSED


# --------------------------------------------------------------------------- S3.4


def test_s3_4_bucket_without_default_encryption_fails_and_passes_once_encrypted(s3):
    # moto does not apply the SSE-S3 default that AWS gives every bucket since January 2023,
    # which is what lets the FAILED shape exist here.
    bucket = _bucket(s3)
    verdict = evaluate("S3.4", boto3.Session(), bucket)
    assert verdict.status is Status.FAILED
    assert "ServerSideEncryptionConfiguration is absent" in verdict.reason
    s3.put_bucket_encryption(
        Bucket=bucket.name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    verdict = evaluate("S3.4", boto3.Session(), bucket)
    assert verdict.status is Status.PASSED
    assert "'AES256'" in verdict.reason


def test_s3_4_policy_denying_unencrypted_puts_passes(s3):
    bucket = _bucket(s3)
    _policy(
        s3,
        bucket,
        {
            "Sid": "DenyUnencrypted",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"{bucket.id}/*",
            "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}},
        },
    )
    verdict = evaluate("S3.4", boto3.Session(), bucket)
    assert verdict.status is Status.PASSED, verdict.reason


# --------------------------------------------------------------------------- S3.5


def _deny_http(bucket: Resource, **overrides) -> dict:
    statement = {
        "Sid": "DenyHttp",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket.id, f"{bucket.id}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    statement.update(overrides)
    return statement


def test_s3_5_bucket_without_policy_fails(s3):
    verdict = evaluate("S3.5", boto3.Session(), _bucket(s3))
    assert verdict.status is Status.FAILED
    assert "no bucket policy" in verdict.reason


def test_s3_5_deny_of_insecure_transport_on_bucket_and_objects_passes(s3):
    bucket = _bucket(s3)
    _policy(s3, bucket, _deny_http(bucket))
    verdict = evaluate("S3.5", boto3.Session(), bucket)
    assert verdict.status is Status.PASSED, verdict.reason


def test_s3_5_deny_split_across_two_statements_passes(s3):
    bucket = _bucket(s3)
    _policy(
        s3,
        bucket,
        _deny_http(bucket, Sid="Bucket", Resource=bucket.id),
        _deny_http(bucket, Sid="Objects", Resource=f"{bucket.id}/*", Principal={"AWS": "*"}),
    )
    assert _status("S3.5", bucket) is Status.PASSED


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"Resource": "arn:aws:s3:::asr-test-bucket/*"}, "does not cover Resource arn:aws:s3:::asr-test-bucket"),
        ({"Resource": "arn:aws:s3:::asr-test-bucket"}, "does not cover Resource arn:aws:s3:::asr-test-bucket/*"),
        ({"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}, "not '*'"),
        ({"Action": "s3:GetObject"}, "not 's3:*'"),
        ({"Condition": {"Bool": {"aws:SecureTransport": "true"}}}, "no bucket policy statement denies"),
    ],
)
def test_s3_5_incomplete_denials_fail(s3, overrides, reason):
    bucket = _bucket(s3)
    _policy(s3, bucket, _deny_http(bucket, **overrides))
    verdict = evaluate("S3.5", boto3.Session(), bucket)
    assert verdict.status is Status.FAILED
    assert reason in verdict.reason


def test_s3_5_allow_only_on_secure_transport_is_not_enough(s3):
    bucket = _bucket(s3)
    _policy(
        s3,
        bucket,
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "s3:*",
            "Resource": [bucket.id, f"{bucket.id}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        },
    )
    assert _status("S3.5", bucket) is Status.FAILED


# --------------------------------------------------------------------------- S3.6


def _allow(bucket: Resource, principal, action, **extra) -> dict:
    return {
        "Effect": "Allow",
        "Principal": principal,
        "Action": action,
        "Resource": [bucket.id, f"{bucket.id}/*"],
        **extra,
    }


def test_s3_6_bucket_without_policy_passes(s3):
    assert _status("S3.6", _bucket(s3)) is Status.PASSED


def test_s3_6_other_account_granted_a_denylisted_action_fails_even_with_a_condition(s3):
    bucket = _bucket(s3)
    condition = {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}  # conditions are not considered
    _policy(s3, bucket, _allow(bucket, {"AWS": f"arn:aws:iam::{OTHER}:root"}, "s3:PutBucketAcl", Condition=condition))
    verdict = evaluate("S3.6", boto3.Session(), bucket)
    assert verdict.status is Status.FAILED
    assert "s3:PutBucketAcl" in verdict.reason and OTHER in verdict.reason


def test_s3_6_wildcard_action_to_everyone_fails(s3):
    bucket = _bucket(s3)
    _policy(s3, bucket, _allow(bucket, "*", "s3:*"))
    assert _status("S3.6", bucket) is Status.FAILED


def test_s3_6_reads_for_other_accounts_and_anything_for_the_owner_pass(s3):
    bucket = _bucket(s3)
    _policy(
        s3,
        bucket,
        _allow(bucket, {"AWS": OTHER}, ["s3:GetObject", "s3:ListBucket"]),
        _allow(bucket, {"AWS": f"arn:aws:iam::{ACCOUNT}:role/admin"}, "s3:*"),
    )
    verdict = evaluate("S3.6", boto3.Session(), bucket)
    assert verdict.status is Status.PASSED, verdict.reason


def test_s3_6_custom_denylist_parameter(s3):
    bucket = _bucket(s3)
    _policy(s3, bucket, _allow(bucket, {"AWS": OTHER}, "s3:GetObject"))
    assert _status("S3.6", bucket, blacklistedactionpatterns="s3:Get*, s3:DeleteObject") is Status.FAILED


# --------------------------------------------------------------------------- S3.8


def test_s3_8_bucket_without_bucket_level_block_fails_even_when_the_account_blocks(s3):
    bucket = _bucket(s3)
    _account_bpa(**BPA_ON)  # account-level settings do not satisfy a bucket-level control
    verdict = evaluate("S3.8", boto3.Session(), bucket)
    assert verdict.status is Status.FAILED
    assert "no bucket-level" in verdict.reason


def test_s3_8_all_bucket_settings_pass_and_one_off_fails(s3):
    bucket = _bucket(s3)
    s3.put_public_access_block(Bucket=bucket.name, PublicAccessBlockConfiguration=BPA_ON)
    assert _status("S3.8", bucket) is Status.PASSED
    s3.put_public_access_block(Bucket=bucket.name, PublicAccessBlockConfiguration={**BPA_ON, "IgnorePublicAcls": False})
    verdict = evaluate("S3.8", boto3.Session(), bucket)
    assert verdict.status is Status.FAILED
    assert verdict.reason == "IgnorePublicAcls is false at the bucket level"


def test_s3_8_excluded_public_bucket_passes(s3):
    bucket = _bucket(s3)
    verdict = evaluate("S3.8", boto3.Session(), bucket, {"excludedPublicBuckets": f"other,{bucket.name}"})
    assert verdict.status is Status.PASSED
    assert "excludedPublicBuckets" in verdict.reason


# --------------------------------------------------------------------------- S3.9


def _enable_access_logging(s3, bucket: Resource, target: str = "asr-test-logs") -> None:
    s3.create_bucket(Bucket=target)
    s3.put_bucket_acl(Bucket=target, ACL="log-delivery-write")
    s3.put_bucket_logging(
        Bucket=bucket.name, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": target, "TargetPrefix": "s3/"}}
    )


def test_s3_9_access_logging_off_fails_and_on_passes(s3):
    bucket = _bucket(s3)
    verdict = evaluate("S3.9", boto3.Session(), bucket)
    assert verdict.status is Status.FAILED
    assert "LoggingEnabled is not set" in verdict.reason
    _enable_access_logging(s3, bucket)
    verdict = evaluate("S3.9", boto3.Session(), bucket)
    assert verdict.status is Status.PASSED
    assert "'asr-test-logs'" in verdict.reason


# --------------------------------------------------------------------------- S3.11


def _notify(s3, bucket: Resource, *events: str) -> None:
    s3.put_bucket_notification_configuration(
        Bucket=bucket.name,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:asr-events", "Events": list(events)}]
        },
    )


def test_s3_11_no_notifications_fails_and_a_queue_notification_passes(s3):
    bucket = _bucket(s3)
    assert _status("S3.11", bucket) is Status.FAILED
    _notify(s3, bucket, "s3:ObjectCreated:*")
    verdict = evaluate("S3.11", boto3.Session(), bucket)
    assert verdict.status is Status.PASSED, verdict.reason


def test_s3_11_event_types_parameter_must_be_covered(s3):
    bucket = _bucket(s3)
    _notify(s3, bucket, "s3:ObjectCreated:*")
    assert _status("S3.11", bucket, eventTypes=["s3:ObjectCreated:Put"]) is Status.PASSED  # wildcard covers it
    verdict = evaluate("S3.11", boto3.Session(), bucket, {"eventTypes": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]})
    assert verdict.status is Status.FAILED
    assert "s3:ObjectRemoved:*" in verdict.reason


def test_s3_11_eventbridge_delivery_counts_as_notifications():
    # moto accepts EventBridgeConfiguration but drops it from GetBucketNotificationConfiguration,
    # so the read is stubbed with the shape AWS returns.
    client = boto3.client("s3", region_name=REGION)
    with Stubber(client) as stub:
        stub.add_response(
            "get_bucket_notification_configuration", {"EventBridgeConfiguration": {}}, {"Bucket": "asr-test-bucket"}
        )
        bucket = Resource("arn:aws:s3:::asr-test-bucket", "AwsS3Bucket", ACCOUNT, REGION)
        verdict = evaluate("S3.11", _StubbedSession(s3=client), bucket, {"eventTypes": "s3:ObjectRemoved:*"})
    assert verdict.status is Status.PASSED
    assert "EventBridgeConfiguration" in verdict.reason


# --------------------------------------------------------------------------- S3.13


def _lifecycle(s3, bucket: Resource, status: str = "Enabled") -> None:
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket.name,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "archive",
                    "Status": status,
                    "Filter": {"Prefix": ""},
                    "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}],
                    "Expiration": {"Days": 365},
                }
            ]
        },
    )


def test_s3_13_no_lifecycle_fails_and_an_enabled_rule_passes(s3):
    bucket = _bucket(s3)
    verdict = evaluate("S3.13", boto3.Session(), bucket)
    assert verdict.status is Status.FAILED
    assert "no lifecycle configuration" in verdict.reason
    _lifecycle(s3, bucket)
    assert _status("S3.13", bucket) is Status.PASSED


def test_s3_13_only_disabled_rules_fail(s3):
    bucket = _bucket(s3)
    _lifecycle(s3, bucket, status="Disabled")
    verdict = evaluate("S3.13", boto3.Session(), bucket)
    assert verdict.status is Status.FAILED
    assert "'Disabled'" in verdict.reason


def test_s3_13_parameters_must_match_an_enabled_rule(s3):
    bucket = _bucket(s3)
    _lifecycle(s3, bucket)
    matching = {"targetTransitionDays": 30, "targetTransitionStorageClass": "STANDARD_IA", "targetExpirationDays": 365}
    assert _status("S3.13", bucket, **matching) is Status.PASSED
    assert _status("S3.13", bucket, targetTransitionStorageClass="GLACIER") is Status.FAILED
    assert _status("S3.13", bucket, targetExpirationDays=90) is Status.FAILED
    assert _status("S3.13", bucket, targetTransitionDays="30") is Status.PASSED  # Config-style string
    with pytest.raises(EvaluationError, match="integers"):
        evaluate("S3.13", boto3.Session(), bucket, {"targetExpirationDays": "a year"})


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("control_id", ["S3.2", "S3.4", "S3.5", "S3.6", "S3.8", "S3.9", "S3.11", "S3.13"])
def test_missing_bucket_is_an_evaluation_error(s3, control_id):
    ghost = Resource("arn:aws:s3:::asr-no-such-bucket", "AwsS3Bucket", ACCOUNT, REGION)
    with pytest.raises(EvaluationError, match="asr-no-such-bucket"):
        evaluate(control_id, boto3.Session(), ghost)
