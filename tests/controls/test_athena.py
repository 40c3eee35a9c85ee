"""Athena.4 evaluator on moto: the shapes the control page names."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate

ACCOUNT, REGION = "111111111111", "us-east-1"


@pytest.fixture
def athena():
    with mock_aws():
        yield boto3.client("athena", region_name=REGION)


def _workgroup(athena, name: str, metrics: bool) -> Resource:
    athena.create_work_group(Name=name, Configuration={"PublishCloudWatchMetricsEnabled": metrics})
    return Resource.of_arn(f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/{name}", "AwsAthenaWorkGroup")


def test_workgroup_without_cloudwatch_metrics_fails(athena):
    verdict = evaluate("Athena.4", boto3.Session(), _workgroup(athena, "asr-quiet", metrics=False))
    assert verdict.status is Status.FAILED
    assert verdict.reason == "PublishCloudWatchMetricsEnabled is false"


def test_workgroup_publishing_cloudwatch_metrics_passes(athena):
    verdict = evaluate("Athena.4", boto3.Session(), _workgroup(athena, "asr-loud", metrics=True))
    assert verdict.status is Status.PASSED
    assert verdict.reason == "PublishCloudWatchMetricsEnabled is true"


def test_unknown_workgroup_is_an_evaluation_error(athena):
    # moto answers GetWorkGroup for an unknown name with an empty body instead of
    # InvalidRequestException; either way the evaluator must not decide.
    ghost = Resource.of_arn(f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/asr-ghost", "AwsAthenaWorkGroup")
    with pytest.raises(EvaluationError, match="asr-ghost"):
        evaluate("Athena.4", boto3.Session(), ghost)
