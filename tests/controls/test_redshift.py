"""Redshift.1, .3, .4, .6 evaluators on moto."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate

ACCOUNT, REGION = "111111111111", "us-east-1"


@pytest.fixture
def redshift():
    with mock_aws():
        yield boto3.client("redshift", region_name=REGION)


def _cluster(redshift, ident: str = "rc1", **kwargs) -> Resource:
    redshift.create_cluster(
        ClusterIdentifier=ident,
        NodeType="dc2.large",
        MasterUsername="admin",
        MasterUserPassword="Not-a-real-password-1",
        ClusterType="single-node",
        **kwargs,
    )
    return Resource.of_arn(f"arn:aws:redshift:{REGION}:{ACCOUNT}:cluster:{ident}", "AwsRedshiftCluster")


def _verdict(control_id: str, resource: Resource, parameters=None):
    return evaluate(control_id, boto3.Session(), resource, parameters)


def test_redshift1_public_cluster_fails_private_one_passes(redshift):
    public = _cluster(redshift, "public", PubliclyAccessible=True)
    private = _cluster(redshift, "private", PubliclyAccessible=False)
    verdict = _verdict("Redshift.1", public)
    assert verdict.status is Status.FAILED
    assert verdict.reason == "PubliclyAccessible is true"
    assert _verdict("Redshift.1", private).status is Status.PASSED


def test_redshift1_missing_cluster_is_an_evaluation_error(redshift):
    gone = Resource.of_arn(f"arn:aws:redshift:{REGION}:{ACCOUNT}:cluster:gone", "AwsRedshiftCluster")
    with pytest.raises(EvaluationError, match="gone"):
        _verdict("Redshift.1", gone)


def test_redshift3_retention_below_seven_days_fails_then_passes(redshift):
    cluster = _cluster(redshift, AutomatedSnapshotRetentionPeriod=3)
    verdict = _verdict("Redshift.3", cluster)
    assert verdict.status is Status.FAILED
    assert "AutomatedSnapshotRetentionPeriod is 3" in verdict.reason
    redshift.modify_cluster(ClusterIdentifier="rc1", AutomatedSnapshotRetentionPeriod=7)
    assert _verdict("Redshift.3", cluster).status is Status.PASSED


def test_redshift3_automated_snapshots_off_fails(redshift):
    cluster = _cluster(redshift)
    # moto's CreateCluster turns a retention period of 0 into its default 1; ModifyCluster keeps 0.
    redshift.modify_cluster(ClusterIdentifier="rc1", AutomatedSnapshotRetentionPeriod=0)
    verdict = _verdict("Redshift.3", cluster, {"MinRetentionPeriod": 1})
    assert verdict.status is Status.FAILED
    assert "automated snapshots are off" in verdict.reason


def test_redshift3_min_retention_period_parameter_is_honoured(redshift):
    cluster = _cluster(redshift, AutomatedSnapshotRetentionPeriod=10)
    assert _verdict("Redshift.3", cluster).status is Status.PASSED
    verdict = _verdict("Redshift.3", cluster, {"MinRetentionPeriod": 14})
    assert verdict.status is Status.FAILED
    assert "MinRetentionPeriod 14" in verdict.reason


def test_redshift4_audit_logging_off_fails_on_passes(redshift):
    cluster = _cluster(redshift)
    verdict = _verdict("Redshift.4", cluster)
    assert verdict.status is Status.FAILED
    assert "LoggingEnabled is false" in verdict.reason
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="audit-logs-for-redshift")
    redshift.enable_logging(ClusterIdentifier="rc1", BucketName="audit-logs-for-redshift")
    assert _verdict("Redshift.4", cluster).status is Status.PASSED


def test_redshift4_cloudwatch_log_destination_counts(redshift):
    cluster = _cluster(redshift)
    redshift.enable_logging(ClusterIdentifier="rc1", LogDestinationType="cloudwatch", LogExports=["connectionlog"])
    verdict = _verdict("Redshift.4", cluster)
    assert verdict.status is Status.PASSED
    assert "cloudwatch" in verdict.reason


def test_redshift4_missing_cluster_is_an_evaluation_error(redshift):
    gone = Resource.of_arn(f"arn:aws:redshift:{REGION}:{ACCOUNT}:cluster:gone", "AwsRedshiftCluster")
    with pytest.raises(EvaluationError, match="gone"):
        _verdict("Redshift.4", gone)


def test_redshift6_major_version_upgrades(redshift):
    off = _cluster(redshift, "off", AllowVersionUpgrade=False)
    on = _cluster(redshift, "on", AllowVersionUpgrade=True)
    verdict = _verdict("Redshift.6", off)
    assert verdict.status is Status.FAILED
    assert "AllowVersionUpgrade is false" in verdict.reason
    assert _verdict("Redshift.6", on).status is Status.PASSED
