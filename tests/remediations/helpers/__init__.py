"""Helpers shared by the remediation tests: builders and read-backs for moto resources."""

from __future__ import annotations

import json
from typing import Any

import boto3

from tests.conftest import REGION


def output(execution: dict[str, Any], name: str) -> dict[str, Any]:
    """A step output that must be JSON text, decoded, e.g. ``output(execution, "EnableMultiAZ.Output")``."""
    return json.loads(execution["Outputs"][name][0])


def step_output(execution: dict[str, Any], name: str) -> Any:
    """A step output as the document returns it: JSON text decoded, anything else as given."""
    value = execution["Outputs"][name][0]
    return json.loads(value) if isinstance(value, str) else value


def new_kms_key(**create: Any) -> str:
    """A customer managed KMS key in moto (``create`` goes to CreateKey); its ARN."""
    return boto3.client("kms", region_name=REGION).create_key(**create)["KeyMetadata"]["Arn"]
