"""ASR-EnableRDSInstanceDeletionProtection: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_rds_instance_deletion_protection import (
    RemediationError,
    enable_deletion_protection,
)
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, REGION

DOC = "EnableRDSInstanceDeletionProtection"


def instance_arn(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:rds:{region}:{account}:db:{name}"


def make_instance(rds, name: str, **extra) -> str:
    rds.create_db_instance(
        DBInstanceIdentifier=name, Engine="mysql", DBInstanceClass="db.t3.micro", AllocatedStorage=20,
        MasterUsername="admin1", MasterUserPassword="password123", **extra,
    )
    return instance_arn(name)


def state(rds, name: str) -> dict:
    db = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    keys = ("PubliclyAccessible", "MultiAZ", "DeletionProtection", "AutoMinorVersionUpgrade",
            "MonitoringInterval", "BackupRetentionPeriod", "DBInstanceClass")
    return {k: db.get(k) for k in keys}


def output(execution: dict, name: str) -> dict:
    return json.loads(execution["Outputs"][name][0])


@pytest.fixture
def rds():
    with mock_aws():
        yield boto3.client("rds", region_name=REGION)


@pytest.fixture
def rds_doc(run_runbook):
    return boto3.client("rds", region_name=REGION)


# --- script --------------------------------------------------------------------


def test_script_protects_the_named_instance_only(rds):
    make_instance(rds, "orders")
    make_instance(rds, "orders2")
    out = enable_deletion_protection({"DBInstanceIdentifier": "orders", "ApplyImmediately": False}, None)
    assert state(rds, "orders")["DeletionProtection"] is True
    assert state(rds, "orders2")["DeletionProtection"] is False
    assert out["DeletionProtectionBefore"] == "false"


def test_script_refuses_an_aurora_instance_and_points_to_the_cluster_runbook(rds):
    rds.create_db_cluster(DBClusterIdentifier="aur", Engine="aurora-postgresql", MasterUsername="admin1",
                          MasterUserPassword="password123")
    rds.create_db_instance(DBInstanceIdentifier="aur-1", Engine="aurora-postgresql", DBInstanceClass="db.r5.large",
                           DBClusterIdentifier="aur")
    with pytest.raises(RemediationError, match="ASR-EnableRDSClusterDeletionProtection"):
        enable_deletion_protection({"DBInstanceIdentifier": "aur-1"}, None)
    assert rds.describe_db_clusters(DBClusterIdentifier="aur")["DBClusters"][0]["DeletionProtection"] is False


# --- document ------------------------------------------------------------------


def test_document_protects_the_instance_and_changes_nothing_else(run_runbook, rds_doc):
    arn = make_instance(rds_doc, "billing", MultiAZ=True, PubliclyAccessible=True)
    make_instance(rds_doc, "billing-bystander")
    before = state(rds_doc, "billing")

    execution = run_runbook(DOC, RDSInstanceARN=arn)

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert state(rds_doc, "billing") == {**before, "DeletionProtection": True}
    assert state(rds_doc, "billing-bystander")["DeletionProtection"] is False
    assert output(execution, "VerifyDeletionProtection.Output")["DeletionProtection"] == "true"


def test_document_second_run_changes_nothing(run_runbook, rds_doc):
    arn = make_instance(rds_doc, "twice")
    first = run_runbook(DOC, RDSInstanceARN=arn, ApplyImmediately=True)
    after_first = state(rds_doc, "twice")
    second = run_runbook(DOC, RDSInstanceARN=arn)
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert state(rds_doc, "twice") == after_first
    assert "nothing changed" in output(second, "EnableDeletionProtection.Output")["Message"]


@pytest.mark.parametrize("arn", [instance_arn("ghost"), instance_arn("billing", OTHER_ACCOUNT)])
def test_document_missing_instance_fails_naming_the_arn(run_runbook, rds_doc, arn):
    make_instance(rds_doc, "billing")
    execution = run_runbook(DOC, RDSInstanceARN=arn)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert arn in execution["FailureMessage"]
    assert state(rds_doc, "billing")["DeletionProtection"] is False


@pytest.mark.parametrize("param, bad", [
    ("RDSInstanceARN", "arn:aws:rds:us-east-1:111111111111:cluster:billing"),
    ("RDSInstanceARN", "db-ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    ("ApplyImmediately", "later"),
])
def test_document_malformed_input_is_rejected_naming_the_parameter(run_runbook, param, bad):
    params = {"RDSInstanceARN": instance_arn("billing"), param: bad}
    with pytest.raises(ParameterValidationError, match=f"parameter '{param}'"):
        run_runbook(DOC, **params)
