"""ASR-DisablePublicAccessToRedshiftCluster: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.disable_public_access_to_redshift_cluster import (
    RemediationError,
    disable_public_access,
)
from tests.conftest import REGION

DOC = "DisablePublicAccessToRedshiftCluster"


def make_cluster(redshift, name: str, **extra) -> str:
    redshift.create_cluster(ClusterIdentifier=name, NodeType="dc2.large", MasterUsername="admin1",
                            MasterUserPassword="Password123", **extra)
    return name


def state(redshift, name: str) -> dict:
    cluster = redshift.describe_clusters(ClusterIdentifier=name)["Clusters"][0]
    keys = ("PubliclyAccessible", "AutomatedSnapshotRetentionPeriod", "AllowVersionUpgrade", "NodeType",
            "Encrypted", "NumberOfNodes", "PreferredMaintenanceWindow")
    return {k: cluster.get(k) for k in keys}


def output(execution: dict, name: str) -> dict:
    return json.loads(execution["Outputs"][name][0])


@pytest.fixture
def redshift():
    with mock_aws():
        yield boto3.client("redshift", region_name=REGION)


@pytest.fixture
def redshift_doc(run_runbook):
    return boto3.client("redshift", region_name=REGION)


def test_document_missing_cluster_fails_naming_it(run_runbook, redshift_doc):
    make_cluster(redshift_doc, "ghost2", PubliclyAccessible=True)
    bystander_before = state(redshift_doc, "ghost2")
    execution = run_runbook(DOC, ClusterIdentifier="ghost")
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "ghost" in execution["FailureMessage"]
    assert state(redshift_doc, "ghost2") == bystander_before


@pytest.mark.parametrize("bad", [
    "Analytics", "analytics-", "a--b", "arn:aws:redshift:us-east-1:111111111111:cluster:analytics",
])
def test_document_malformed_identifier_is_rejected_by_the_pattern(run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="parameter 'ClusterIdentifier'"):
        run_runbook(DOC, ClusterIdentifier=bad)


def test_script_makes_the_named_cluster_private_only(redshift):
    make_cluster(redshift, "analytics", PubliclyAccessible=True)
    make_cluster(redshift, "analytics2", PubliclyAccessible=True)
    out = disable_public_access({"ClusterIdentifier": "analytics"}, None)
    assert state(redshift, "analytics")["PubliclyAccessible"] is False
    assert state(redshift, "analytics2")["PubliclyAccessible"] is True
    assert out["PubliclyAccessibleBefore"] == "true"


def test_script_missing_cluster_names_the_input(redshift):
    with pytest.raises(RemediationError, match="ClusterIdentifier ghost: no such Redshift cluster"):
        disable_public_access({"ClusterIdentifier": "ghost"}, None)


def test_document_makes_the_cluster_private_and_changes_nothing_else(run_runbook, redshift_doc):
    make_cluster(redshift_doc, "analytics", PubliclyAccessible=True, AllowVersionUpgrade=False,
                 AutomatedSnapshotRetentionPeriod=3)
    make_cluster(redshift_doc, "analytics-bystander", PubliclyAccessible=True)
    before = state(redshift_doc, "analytics")

    execution = run_runbook(DOC, ClusterIdentifier="analytics")

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert state(redshift_doc, "analytics") == {**before, "PubliclyAccessible": False}
    assert state(redshift_doc, "analytics-bystander")["PubliclyAccessible"] is True
    assert output(execution, "VerifyPublicAccessDisabled.Output")["PubliclyAccessible"] == "false"


def test_document_second_run_changes_nothing(run_runbook, redshift_doc):
    make_cluster(redshift_doc, "twice", PubliclyAccessible=True)
    first = run_runbook(DOC, ClusterIdentifier="twice")
    after_first = state(redshift_doc, "twice")
    second = run_runbook(DOC, ClusterIdentifier="twice")
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert state(redshift_doc, "twice") == after_first
    assert "nothing changed" in output(second, "DisablePublicAccess.Output")["Message"]
