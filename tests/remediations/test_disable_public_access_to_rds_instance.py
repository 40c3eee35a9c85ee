"""ASR-DisablePublicAccessToRDSInstance: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.disable_public_access_to_rds_instance import (
    RemediationError,
    disable_public_access,
)
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, REGION

DOC = "DisablePublicAccessToRDSInstance"


def instance_arn(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:rds:{region}:{account}:db:{name}"


def make_instance(rds, name: str, public: bool = True, **extra) -> str:
    rds.create_db_instance(
        DBInstanceIdentifier=name, Engine="postgres", DBInstanceClass="db.t3.micro", AllocatedStorage=20,
        MasterUsername="admin1", MasterUserPassword="password123", PubliclyAccessible=public, **extra,
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


def test_script_makes_the_named_instance_private_only(rds):
    make_instance(rds, "orders")
    make_instance(rds, "orders2")
    out = disable_public_access({"DBInstanceIdentifier": "orders"}, None)
    assert state(rds, "orders")["PubliclyAccessible"] is False
    assert state(rds, "orders2")["PubliclyAccessible"] is True
    assert out["PubliclyAccessibleBefore"] == "true"


def test_script_private_instance_is_left_alone(rds):
    make_instance(rds, "quiet", public=False)
    out = disable_public_access({"DBInstanceIdentifier": "quiet"}, None)
    assert "nothing changed" in out["Message"]


def test_script_refuses_a_multi_az_db_cluster_member(rds):
    rds.create_db_cluster(DBClusterIdentifier="maz", Engine="postgres", MasterUsername="admin1",
                          MasterUserPassword="password123", DBClusterInstanceClass="db.m6gd.large",
                          AllocatedStorage=100, StorageType="io1", Iops=1000)
    make_instance(rds, "maz-1", DBClusterIdentifier="maz")
    with pytest.raises(RemediationError, match="Multi-AZ DB cluster maz"):
        disable_public_access({"DBInstanceIdentifier": "maz-1"}, None)
    assert state(rds, "maz-1")["PubliclyAccessible"] is True


# --- document ------------------------------------------------------------------


def test_document_resolves_the_arn_and_changes_only_that_instance(run_runbook, rds_doc):
    arn = make_instance(rds_doc, "billing", MultiAZ=True, DeletionProtection=True)
    make_instance(rds_doc, "billing-replica")
    before = state(rds_doc, "billing")

    execution = run_runbook(DOC, RDSInstanceARN=arn)

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert state(rds_doc, "billing") == {**before, "PubliclyAccessible": False}
    assert state(rds_doc, "billing-replica")["PubliclyAccessible"] is True
    assert output(execution, "DisablePublicAccess.Output")["PubliclyAccessibleBefore"] == "true"


def test_document_second_run_changes_nothing(run_runbook, rds_doc):
    arn = make_instance(rds_doc, "twice")
    first = run_runbook(DOC, RDSInstanceARN=arn)
    after_first = state(rds_doc, "twice")
    second = run_runbook(DOC, RDSInstanceARN=arn)
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert state(rds_doc, "twice") == after_first
    assert "nothing changed" in output(second, "DisablePublicAccess.Output")["Message"]


def test_document_missing_instance_fails_naming_the_arn(run_runbook, rds_doc):
    make_instance(rds_doc, "ghost2")
    execution = run_runbook(DOC, RDSInstanceARN=instance_arn("ghost"))
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "db:ghost" in execution["FailureMessage"]
    assert state(rds_doc, "ghost2")["PubliclyAccessible"] is True


@pytest.mark.parametrize("arn", [
    instance_arn("elsewhere", OTHER_ACCOUNT), instance_arn("elsewhere", region="eu-west-1"),
])
def test_document_arn_of_another_account_or_region_changes_nothing(run_runbook, rds_doc, arn):
    make_instance(rds_doc, "elsewhere")
    execution = run_runbook(DOC, RDSInstanceARN=arn)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert state(rds_doc, "elsewhere")["PubliclyAccessible"] is True


@pytest.mark.parametrize("bad", [
    "orders",
    "arn:aws:rds:us-east-1:111111111111:cluster:orders",
    "arn:aws:rds:us-east-1:111111111111:db:orders--x",
    "arn:aws:rds:us-east-1:1111:db:orders",
])
def test_document_malformed_arn_is_rejected_by_the_pattern(run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="parameter 'RDSInstanceARN'"):
        run_runbook(DOC, RDSInstanceARN=bad)
