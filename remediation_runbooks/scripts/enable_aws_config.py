"""ASR-EnableAWSConfig: a Config recorder that records everything, delivering to the solution's bucket and topic."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
DEFAULT_ROLE = "aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
TOPIC_PARAMETER = "/Solutions/SO0111/SNS_Topic_Config.1"
# Config.1 wants every supported resource type recorded, by the service-linked role
# (https://docs.aws.amazon.com/securityhub/latest/userguide/config-controls.html#config-1).
# Global resource types (IAM users, roles, groups, policies) recorded in several Regions give one
# configuration item per Region for each change; AWS records the global types onboarded since
# February 2022 only in the partition's home Region
# (https://docs.aws.amazon.com/config/latest/APIReference/API_RecordingGroup.html). So an existing
# recorder keeps its choice, and a new recorder records global types only in that one Region.
RECORD_EVERYTHING = {"allSupported": True}
GLOBAL_TYPES_HOME_REGION = {"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}
BLOCK_ALL = dict.fromkeys(("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True)


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


# The member's key (RemediationKeyMode PerStack/Existing); absent with None (docs/encryption.md).
KEY_PARAMETER = "/Solutions/SO0111/CMK_REMEDIATION_ARN"


def configured_key(given: str) -> str:
    """``given``, else the member's key, else ""."""
    if given.strip():
        return given.strip()
    ssm = boto3.client("ssm", config=BOTO_CONFIG)
    try:
        value = ssm.get_parameter(Name=KEY_PARAMETER)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return ""
    if not value.startswith("arn:"):
        raise RemediationError(f"{KEY_PARAMETER} {value!r}: not a KMS key ARN")
    return value


def _where() -> tuple[str, str, str]:
    """(partition, account, region) of the execution."""
    caller = boto3.client("sts", config=BOTO_CONFIG).get_caller_identity()
    return caller["Arn"].split(":")[1], caller["Account"], boto3.client("config", config=BOTO_CONFIG).meta.region_name


def _recorders(config: Any) -> list[dict[str, Any]]:
    return config.describe_configuration_recorders()["ConfigurationRecorders"]


def _check_key(key_arn: str) -> None:
    kms = boto3.client("kms", config=BOTO_CONFIG)
    try:
        state = kms.describe_key(KeyId=key_arn)["KeyMetadata"]["KeyState"]
    except kms.exceptions.NotFoundException:
        raise RemediationError(f"KMSKeyArn {key_arn}: no such KMS key") from None
    if state != "Enabled":
        raise RemediationError(f"KMSKeyArn {key_arn}: key is {state}, not Enabled")


def _check_service_role(iam: Any, path_and_name: str) -> bool:
    """True if the role exists; False if it is the Config service-linked role, which can be created."""
    try:
        iam.get_role(RoleName=path_and_name.rsplit("/", 1)[-1])
        return True
    except iam.exceptions.NoSuchEntityException:
        if path_and_name == DEFAULT_ROLE:
            return False
        raise RemediationError(f"AWSServiceRoleForConfig {path_and_name}: no such IAM role in this account") from None


def _create_service_linked_role(iam: Any, role_arn: str) -> str:
    """Create the Config service-linked role (its documented ARN is ``role_arn``); one created
    meanwhile by a concurrent run is fine."""
    try:
        iam.create_service_linked_role(AWSServiceName="config.amazonaws.com")
    except ClientError as err:
        # AWS answers InvalidInput ("...has been taken in this account"); others EntityAlreadyExists.
        if err.response["Error"]["Code"] not in ("InvalidInput", "EntityAlreadyExists"):
            raise
    return role_arn


# --- step 1: look before changing anything ------------------------------------------


def plan(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    partition, account, region = _where()
    config = boto3.client("config", config=BOTO_CONFIG)
    needs_channel = not config.describe_delivery_channels()["DeliveryChannels"]
    if not _recorders(config):
        _check_service_role(boto3.client("iam", config=BOTO_CONFIG), event["AWSServiceRoleForConfig"])
    if needs_channel:
        key = configured_key(event.get("KMSKeyArn", ""))
        if key:
            _check_key(key)
    return {
        "NeedsDeliveryChannel": needs_channel,
        "AccessLogBucket": f"so0111-accesslogs-{account}-{region}",
        "ConfigBucket": f"so0111-aws-config-{region}-{account}",
        "AccessLogBucketRole": f"arn:{partition}:iam::{account}:role/{event['AccessLogBucketRoleName']}",
    }


# --- step 2: the recorder --------------------------------------------------------------


def records_global_types(partition: str, region: str, chosen: str = "") -> bool:
    """Whether a new recorder in ``region`` records global resource types: only in ``chosen`` (the
    GlobalResourceTypesRegion input), else the partition's home Region for them."""
    return region == (chosen or GLOBAL_TYPES_HOME_REGION.get(partition, "us-east-1"))


def set_recorder(event: dict[str, Any], _context: Any) -> dict[str, str]:
    """Creates the recorder, or makes the existing one (same name) record everything as the service-linked
    role, keeping its recording mode and its choice of global resource types."""
    partition, account, region = _where()
    config = boto3.client("config", config=BOTO_CONFIG)
    existing = next(iter(_recorders(config)), None)
    iam = boto3.client("iam", config=BOTO_CONFIG)
    role_arn = f"arn:{partition}:iam::{account}:role/{event['AWSServiceRoleForConfig']}"
    group = (existing or {}).get("recordingGroup", {})
    if existing and group.get("allSupported") is True and existing.get("roleARN") == role_arn:
        message = "Recorder already records all resource types as the service-linked role; nothing changed."
        return {"Recorder": existing["name"], "Message": message}
    if not _check_service_role(iam, event["AWSServiceRoleForConfig"]):
        role_arn = _create_service_linked_role(iam, role_arn)
    chosen = event.get("GlobalResourceTypesRegion", "") or GLOBAL_TYPES_HOME_REGION.get(partition, "us-east-1")
    if existing:
        include_global = bool(group.get("includeGlobalResourceTypes", False))
    else:
        include_global = records_global_types(partition, region, chosen)
    recording = {**RECORD_EVERYTHING, "includeGlobalResourceTypes": include_global}
    recorder = {"name": existing["name"] if existing else "default", "roleARN": role_arn, "recordingGroup": recording}
    if existing and existing.get("recordingMode"):
        recorder["recordingMode"] = existing["recordingMode"]  # keep the customer's frequency and overrides
    config.put_configuration_recorder(ConfigurationRecorder=recorder)
    what = (
        "updated to record all resource types as the service-linked role"
        if existing
        else "created" + ("" if include_global else f" (global resource types are recorded only in {chosen})")
    )
    return {"Recorder": recorder["name"], "Message": f"Recorder {recorder['name']} {what}."}


# --- step 4 (after the access-log bucket): topic, bucket, delivery channel ------------------


def _ensure_topic(partition: str, account: str, region: str, name: str, key_arn: str) -> str:
    sns = boto3.client("sns", config=BOTO_CONFIG)
    arn = f"arn:{partition}:sns:{region}:{account}:{name}"
    try:
        sns.get_topic_attributes(TopicArn=arn)
        return arn
    except sns.exceptions.NotFoundException:
        pass
    # No customer managed key: no SSE (not alias/aws/sns, docs/encryption.md).
    key = configured_key(key_arn)
    attributes = {"KmsMasterKeyId": key} if key else {}
    return sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]


def config_bucket_policy(partition: str, account: str, bucket: str) -> dict[str, Any]:
    arn = f"arn:{partition}:s3:::{bucket}"
    from_this_account = {"StringEquals": {"aws:SourceAccount": account}}
    config_service = {"Service": "config.amazonaws.com"}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSConfigBucketPermissionsCheck",
                "Effect": "Allow",
                "Principal": config_service,
                "Action": "s3:GetBucketAcl",
                "Resource": arn,
                "Condition": from_this_account,
            },
            {
                "Sid": "AWSConfigBucketExistenceCheck",
                "Effect": "Allow",
                "Principal": config_service,
                "Action": "s3:ListBucket",
                "Resource": arn,
                "Condition": from_this_account,
            },
            {
                "Sid": "AWSConfigBucketDelivery",
                "Effect": "Allow",
                "Principal": config_service,
                "Action": "s3:PutObject",
                "Resource": f"{arn}/AWSLogs/{account}/Config/*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account, "s3:x-amz-acl": "bucket-owner-full-control"}
                },
            },
            {
                "Sid": "AllowSSLRequestsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


def _bucket_exists(s3: Any, bucket: str, account: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
        return True
    except ClientError as err:
        if str(err.response.get("Error", {}).get("Code")) in ("404", "NoSuchBucket"):
            return False
        raise RemediationError(
            f"bucket {bucket} exists but is not owned by account {account}; refusing to use it"
        ) from None


def _create_config_bucket(partition: str, account: str, region: str, bucket: str, log_bucket: str) -> bool:
    """Creates the bucket fully configured; an existing bucket of this account is used as it is."""
    s3 = boto3.client("s3", config=BOTO_CONFIG)
    if _bucket_exists(s3, bucket, account):
        return False
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, ObjectOwnership="BucketOwnerEnforced", **location)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=BLOCK_ALL)
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]
        },
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(config_bucket_policy(partition, account, bucket)))
    s3.put_bucket_logging(
        Bucket=bucket,
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": log_bucket, "TargetPrefix": f"{bucket}/"}},
    )
    return True


def create_delivery_channel(event: dict[str, Any], _context: Any) -> dict[str, str]:
    partition, account, region = _where()
    topic_arn = _ensure_topic(partition, account, region, event["SNSTopicName"], event.get("KMSKeyArn", ""))
    boto3.client("ssm", config=BOTO_CONFIG).put_parameter(
        Name=TOPIC_PARAMETER, Value=topic_arn, Type="String", Overwrite=True
    )
    created = _create_config_bucket(partition, account, region, event["ConfigBucket"], event["AccessLogBucket"])
    boto3.client("config", config=BOTO_CONFIG).put_delivery_channel(
        DeliveryChannel={"name": "default", "s3BucketName": event["ConfigBucket"], "snsTopicARN": topic_arn}
    )
    return {
        "ConfigBucket": event["ConfigBucket"],
        "TopicArn": topic_arn,
        "Message": f"Delivery channel created (bucket {event['ConfigBucket']}"
        f"{' created' if created else ' reused'}, topic {event['SNSTopicName']}).",
    }


# --- last step ---------------------------------------------------------------------------


# The recorder status is read back for up to a minute after StartConfigurationRecorder.
VERIFY_ATTEMPTS = 6
VERIFY_INTERVAL_SECONDS = 10


def _recording(config: Any, name: str) -> bool:
    status = config.describe_configuration_recorder_status(ConfigurationRecorderNames=[name])
    return bool(status["ConfigurationRecordersStatus"][0].get("recording"))


def start_recorder(
    _event: dict[str, Any], _context: Any, sleep: Callable[[float], None] = time.sleep
) -> dict[str, str]:
    config = boto3.client("config", config=BOTO_CONFIG)
    (recorder,) = _recorders(config)
    name = recorder["name"]
    was_recording = _recording(config, name)
    if not was_recording:
        config.start_configuration_recorder(ConfigurationRecorderName=name)
        for attempt in range(VERIFY_ATTEMPTS):
            if _recording(config, name):
                break
            if attempt == VERIFY_ATTEMPTS - 1:
                raise RemediationError(
                    f"recorder {name} is still not recording {VERIFY_ATTEMPTS} reads after StartConfigurationRecorder"
                )
            sleep(VERIFY_INTERVAL_SECONDS)
    return {
        "Recorder": name,
        "Message": f"Recorder {name} was already recording; nothing changed."
        if was_recording
        else f"Recorder {name} started.",
    }
