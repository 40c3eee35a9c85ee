"""ASR-EnableMinorVersionUpgradeOnRDSDBInstance: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_minor_version_upgrade_on_rds_db_instance import (
    enable_minor_version_upgrade,
)
from tests.conftest import ACCOUNT, REGION

DOC = "EnableMinorVersionUpgradeOnRDSDBInstance"


def instance_arn(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:rds:{region}:{account}:db:{name}"


def make_instance(rds, name: str, **extra) -> str:
    extra.setdefault("AutoMinorVersionUpgrade", False)
    rds.create_db_instance(
        DBInstanceIdentifier=name, Engine="postgres", DBInstanceClass="db.t3.micro", AllocatedStorage=20,
        MasterUsername="admin1", MasterUserPassword="password123", **extra,
    )
    return instance_arn(name)


def make_multi_az_cluster(rds, name: str) -> str:
    rds.create_db_cluster(DBClusterIdentifier=name, Engine="postgres", MasterUsername="admin1",
                          MasterUserPassword="password123", DBClusterInstanceClass="db.m6gd.large",
                          AllocatedStorage=100, StorageType="io1", Iops=1000, AutoMinorVersionUpgrade=False)
    return make_instance(rds, f"{name}-1", DBClusterIdentifier=name)


def state(rds, name: str) -> dict:
    db = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    keys = ("PubliclyAccessible", "MultiAZ", "DeletionProtection", "AutoMinorVersionUpgrade",
            "MonitoringInterval", "BackupRetentionPeriod", "DBInstanceClass")
    return {k: db.get(k) for k in keys}


def cluster_upgrades(rds, name: str) -> bool:
    return rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0].get("AutoMinorVersionUpgrade")


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


def test_script_enables_upgrades_on_the_named_instance_only(rds):
    make_instance(rds, "orders")
    make_instance(rds, "orders2")
    out = enable_minor_version_upgrade({"DBInstanceIdentifier": "orders"}, None)
    assert state(rds, "orders")["AutoMinorVersionUpgrade"] is True
    assert state(rds, "orders2")["AutoMinorVersionUpgrade"] is False
    assert out["ChangedResourceArn"] == instance_arn("orders")


def test_script_sets_a_multi_az_db_cluster_member_on_its_cluster(rds):
    make_multi_az_cluster(rds, "maz")
    make_multi_az_cluster(rds, "other")
    out = enable_minor_version_upgrade({"DBInstanceIdentifier": "maz-1"}, None)
    assert cluster_upgrades(rds, "maz") is True
    assert cluster_upgrades(rds, "other") is False
    assert out["ChangedResourceArn"].endswith(":cluster:maz")


# --- document ------------------------------------------------------------------


def test_document_enables_upgrades_and_changes_nothing_else(run_runbook, rds_doc):
    arn = make_instance(rds_doc, "billing", MultiAZ=True, DeletionProtection=True)
    make_instance(rds_doc, "billing-bystander")
    before = state(rds_doc, "billing")

    execution = run_runbook(DOC, RDSInstanceARN=arn)

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert state(rds_doc, "billing") == {**before, "AutoMinorVersionUpgrade": True}
    assert state(rds_doc, "billing-bystander")["AutoMinorVersionUpgrade"] is False
    assert output(execution, "EnableMinorVersionUpgrade.Output")["ChangedResourceArn"] == arn


def test_document_multi_az_cluster_member_changes_its_cluster(run_runbook, rds_doc):
    arn = make_multi_az_cluster(rds_doc, "maz")
    make_multi_az_cluster(rds_doc, "other")
    execution = run_runbook(DOC, RDSInstanceARN=arn)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert cluster_upgrades(rds_doc, "maz") is True
    assert cluster_upgrades(rds_doc, "other") is False


def test_document_second_run_changes_nothing(run_runbook, rds_doc):
    arn = make_instance(rds_doc, "twice")
    first = run_runbook(DOC, RDSInstanceARN=arn)
    after_first = state(rds_doc, "twice")
    second = run_runbook(DOC, RDSInstanceARN=arn)
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert state(rds_doc, "twice") == after_first
    out = output(second, "EnableMinorVersionUpgrade.Output")
    assert "nothing changed" in out["Message"] and out["ChangedResourceArn"] == ""


def test_document_missing_instance_fails_naming_the_arn(run_runbook, rds_doc):
    make_instance(rds_doc, "ghost2")
    execution = run_runbook(DOC, RDSInstanceARN=instance_arn("ghost"))
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "db:ghost" in execution["FailureMessage"]
    assert state(rds_doc, "ghost2")["AutoMinorVersionUpgrade"] is False


@pytest.mark.parametrize("bad", [
    "arn:aws:rds:us-east-1:111111111111:cluster:maz",
    "arn:aws:rds:us-east-1:111111111111:db:-bad",
    "arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0",
])
def test_document_malformed_arn_is_rejected_by_the_pattern(run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="parameter 'RDSInstanceARN'"):
        run_runbook(DOC, RDSInstanceARN=bad)
