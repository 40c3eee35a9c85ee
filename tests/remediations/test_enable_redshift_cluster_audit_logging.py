"""ASR-EnableRedshiftClusterAuditLogging: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import boto3
import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_redshift_cluster_audit_logging import (
    RemediationError,
    enable_audit_logging,
)
from tests.conftest import REGION
from tests.remediations.helpers import output
from tests.remediations.helpers.redshift import MALFORMED_CLUSTER_IDENTIFIERS, cluster_state, make_cluster

DOC = "EnableRedshiftClusterAuditLogging"


def test_document_missing_cluster_fails_naming_it(run_runbook, redshift_doc):
    make_cluster(redshift_doc, "ghost2")
    bystander_before = cluster_state(redshift_doc, "ghost2")
    execution = run_runbook(DOC, ClusterIdentifier="ghost", BucketName="audit-logs-bucket")
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "ghost" in execution["FailureMessage"]
    assert cluster_state(redshift_doc, "ghost2") == bystander_before


@pytest.mark.parametrize("bad", MALFORMED_CLUSTER_IDENTIFIERS)
def test_document_malformed_identifier_is_rejected_by_the_pattern(run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="parameter 'ClusterIdentifier'"):
        run_runbook(DOC, ClusterIdentifier=bad, BucketName="audit-logs-bucket")


def logging(redshift, name: str) -> dict:
    status = redshift.describe_logging_status(ClusterIdentifier=name)
    return {k: status.get(k) for k in ("LoggingEnabled", "BucketName", "S3KeyPrefix")}


def test_script_enables_logging_on_the_named_cluster_only(redshift):
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="audit-logs-bucket")
    make_cluster(redshift, "analytics")
    make_cluster(redshift, "analytics2")
    out = enable_audit_logging({"ClusterIdentifier": "analytics", "BucketName": "audit-logs-bucket",
                                "S3KeyPrefix": "redshift/"}, None)
    assert logging(redshift, "analytics") == {"LoggingEnabled": True, "BucketName": "audit-logs-bucket",
                                              "S3KeyPrefix": "redshift/"}
    assert logging(redshift, "analytics2")["LoggingEnabled"] is False
    assert out["Destination"] == "s3://audit-logs-bucket/redshift/"


def test_script_keeps_an_existing_destination(redshift):
    make_cluster(redshift, "analytics")
    redshift.enable_logging(ClusterIdentifier="analytics", BucketName="team-bucket", S3KeyPrefix="mine/")
    out = enable_audit_logging({"ClusterIdentifier": "analytics", "BucketName": "audit-logs-bucket",
                                "S3KeyPrefix": ""}, None)
    assert logging(redshift, "analytics")["BucketName"] == "team-bucket"
    assert "nothing changed" in out["Message"]


def test_script_missing_cluster_names_the_input(redshift):
    with pytest.raises(RemediationError, match="ClusterIdentifier ghost: no such Redshift cluster"):
        enable_audit_logging({"ClusterIdentifier": "ghost", "BucketName": "audit-logs-bucket"}, None)


def test_document_enables_logging_and_changes_nothing_else(run_runbook, redshift_doc):
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="audit-logs-bucket")
    make_cluster(redshift_doc, "analytics", PubliclyAccessible=True, AllowVersionUpgrade=False)
    make_cluster(redshift_doc, "analytics-bystander")
    before = cluster_state(redshift_doc, "analytics")

    execution = run_runbook(DOC, ClusterIdentifier="analytics", BucketName="audit-logs-bucket")

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert logging(redshift_doc, "analytics")["LoggingEnabled"] is True
    assert logging(redshift_doc, "analytics")["BucketName"] == "audit-logs-bucket"
    assert cluster_state(redshift_doc, "analytics") == before
    assert logging(redshift_doc, "analytics-bystander")["LoggingEnabled"] is False
    assert output(execution, "VerifyAuditLogging.Output")["LoggingEnabled"] == "true"


def test_document_second_run_changes_nothing(run_runbook, redshift_doc):
    make_cluster(redshift_doc, "twice")
    first = run_runbook(DOC, ClusterIdentifier="twice", BucketName="audit-logs-bucket", S3KeyPrefix="rs/")
    after_first = logging(redshift_doc, "twice")
    second = run_runbook(DOC, ClusterIdentifier="twice", BucketName="other-bucket")
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert logging(redshift_doc, "twice") == after_first
    assert "nothing changed" in output(second, "EnableAuditLogging.Output")["Message"]


@pytest.mark.parametrize("param, bad", [
    ("BucketName", "Audit_Logs"),
    ("BucketName", "s3://audit-logs-bucket"),
    ("S3KeyPrefix", "has space/"),
    ("S3KeyPrefix", 'quote"/'),
])
def test_document_bad_bucket_or_prefix_is_rejected_naming_the_parameter(run_runbook, param, bad):
    params = {"ClusterIdentifier": "analytics", "BucketName": "audit-logs-bucket", param: bad}
    with pytest.raises(ParameterValidationError, match=f"parameter '{param}'"):
        run_runbook(DOC, **params)
