"""ASR-EnableRedshiftClusterAuditLogging: turn on audit logging of one Redshift cluster to S3."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
# EnableLogging errors that are about the bucket, not the cluster.
BUCKET_ERRORS = {"BucketNotFoundFault", "InsufficientS3BucketPolicyFault", "InvalidS3BucketNameFault",
                 "InvalidS3KeyPrefixFault"}


class RemediationError(Exception):
    """Raised with a message meant for the security engineer reading the output."""


def _status(redshift: Any, identifier: str) -> dict[str, Any]:
    try:
        return redshift.describe_logging_status(ClusterIdentifier=identifier)
    except redshift.exceptions.ClusterNotFoundFault:
        raise RemediationError(
            f"ClusterIdentifier {identifier}: no such Redshift cluster in this account and Region"
        ) from None


def _destination(status: dict[str, Any]) -> str:
    if status.get("LogDestinationType") == "cloudwatch":
        return "CloudWatch Logs"
    return f"s3://{status.get('BucketName', '')}/{status.get('S3KeyPrefix', '')}"


def enable_audit_logging(event: dict[str, Any], _context: Any) -> dict[str, str]:
    """Enable logging to BucketName/S3KeyPrefix unless audit logging is already on (anywhere)."""
    identifier, bucket = event["ClusterIdentifier"], event["BucketName"]
    prefix = event.get("S3KeyPrefix") or ""
    redshift = boto3.client("redshift", config=BOTO_CONFIG)
    before = _status(redshift, identifier)
    if before.get("LoggingEnabled"):
        return {
            "ClusterIdentifier": identifier,
            "LoggingEnabledBefore": "true",
            "Destination": _destination(before),
            "Message": "Audit logging was already on; its destination was kept and nothing changed.",
        }
    args = {"ClusterIdentifier": identifier, "BucketName": bucket}
    if prefix:
        args["S3KeyPrefix"] = prefix
    try:
        redshift.enable_logging(**args)
    except ClientError as err:
        if err.response["Error"]["Code"] in BUCKET_ERRORS:
            raise RemediationError(
                f"BucketName {bucket} (S3KeyPrefix {prefix!r}): Redshift cannot log there: "
                f"{err.response['Error'].get('Message', err.response['Error']['Code'])}"
            ) from None
        raise
    return {
        "ClusterIdentifier": identifier,
        "LoggingEnabledBefore": "false",
        "Destination": f"s3://{bucket}/{prefix}",
        "Message": f"Audit logging enabled to s3://{bucket}/{prefix}.",
    }


def verify_audit_logging(event: dict[str, Any], _context: Any) -> dict[str, str]:
    identifier = event["ClusterIdentifier"]
    status = _status(boto3.client("redshift", config=BOTO_CONFIG), identifier)
    if not status.get("LoggingEnabled"):
        raise RemediationError(f"Redshift cluster {identifier} still has audit logging off after EnableLogging")
    return {"ClusterIdentifier": identifier, "LoggingEnabled": "true", "Destination": _destination(status)}
