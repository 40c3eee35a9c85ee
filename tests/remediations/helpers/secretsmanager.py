"""Secrets Manager builders and read-backs on moto, and dates moto cannot be asked to set."""

from __future__ import annotations

import io
import time
import zipfile

import boto3
from moto.secretsmanager.models import secretsmanager_backends

from tests.conftest import ACCOUNT, REGION

DAY = 86400


def timestamp_days_ago(days: int) -> int:
    """An epoch timestamp ``days`` days before now."""
    return int(time.time()) - days * DAY


def backdate_secret(name: str, attribute: str, days: int) -> None:
    """Set a date moto's API never lets a caller set (``created_date``, ``last_rotation_date``) on
    secret ``name`` in moto's backend to ``days`` days ago."""
    setattr(secretsmanager_backends[ACCOUNT][REGION].secrets[name], attribute, timestamp_days_ago(days))


def rotation_function() -> str:
    """A rotation Lambda function in moto; its ARN."""
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="rotator", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return None\n")
    return boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="rotator", Runtime="python3.11", Role=role, Handler="index.handler",
        Code={"ZipFile": code.getvalue()},
    )["FunctionArn"]


def secret_with_function(sm, name: str, function: str, enabled: bool = False, days: int = 30) -> str:
    """A secret whose rotation function is configured; rotation off unless ``enabled``."""
    arn = sm.create_secret(Name=name, SecretString="s3cr3t", Tags=[{"Key": "team", "Value": "sec"}])["ARN"]
    sm.rotate_secret(SecretId=arn, RotationLambdaARN=function,
                     RotationRules={"AutomaticallyAfterDays": days}, RotateImmediately=False)
    if not enabled:
        sm.cancel_rotate_secret(SecretId=arn)
    return arn


def rotation(sm, arn: str) -> tuple[bool, int | None, str | None]:
    """(RotationEnabled, AutomaticallyAfterDays, RotationLambdaARN) of the secret."""
    secret = sm.describe_secret(SecretId=arn)
    return (secret.get("RotationEnabled", False), (secret.get("RotationRules") or {}).get("AutomaticallyAfterDays"),
            secret.get("RotationLambdaARN"))
