"""ASR-EnableEnhancedMonitoringOnRDSInstance: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from asr import documents, solution
from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_enhanced_monitoring_on_rds_instance import (
    RemediationError,
    enable_enhanced_monitoring,
)
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, REGION
from tests.remediations.conftest import NAMESPACE

DOC = "EnableEnhancedMonitoringOnRDSInstance"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/{solution.service_role('RDSMonitoring-remediationRole', NAMESPACE)}"


def instance_arn(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:rds:{region}:{account}:db:{name}"


def make_instance(rds, name: str, **extra) -> str:
    rds.create_db_instance(
        DBInstanceIdentifier=name, Engine="postgres", DBInstanceClass="db.t3.micro", AllocatedStorage=20,
        MasterUsername="admin1", MasterUserPassword="password123", **extra,
    )
    return instance_arn(name)


def state(rds, name: str) -> dict:
    db = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    keys = ("PubliclyAccessible", "MultiAZ", "DeletionProtection", "AutoMinorVersionUpgrade",
            "MonitoringInterval", "MonitoringRoleArn", "BackupRetentionPeriod", "DBInstanceClass")
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


def test_permissions_declare_the_monitoring_service_role_and_pass_only_it():
    perms = documents.permissions(DOC)
    (role,) = perms.service_roles
    assert role.name == "RDSMonitoring-remediationRole"
    assert role.principal == "monitoring.rds.amazonaws.com"
    assert role.managed_policies == ("service-role/AmazonRDSEnhancedMonitoringRole",)
    passes = [s for s in perms.statements if "iam:PassRole" in s.actions]
    assert passes and all(r.endswith(":role/SO0111-RDSMonitoring-remediationRole-${Namespace}")
                          for s in passes for r in s.resources)


# --- script --------------------------------------------------------------------


def test_script_enables_monitoring_on_the_named_instance_only(rds):
    make_instance(rds, "orders")
    make_instance(rds, "orders2")
    out = enable_enhanced_monitoring(
        {"DBInstanceIdentifier": "orders", "MonitoringRoleArn": ROLE, "MonitoringInterval": 60}, None)
    assert state(rds, "orders")["MonitoringInterval"] == 60
    assert state(rds, "orders")["MonitoringRoleArn"] == ROLE
    assert state(rds, "orders2")["MonitoringInterval"] == 0
    assert out["MonitoringIntervalBefore"] == "0" and out["MonitoringIntervalAfter"] == "60"


def test_script_refuses_a_role_of_another_account(rds):
    make_instance(rds, "orders")
    foreign = ROLE.replace(ACCOUNT, OTHER_ACCOUNT)
    with pytest.raises(RemediationError, match=f"MonitoringRoleArn {foreign} is in account {OTHER_ACCOUNT}"):
        enable_enhanced_monitoring(
            {"DBInstanceIdentifier": "orders", "MonitoringRoleArn": foreign, "MonitoringInterval": 60}, None)
    assert state(rds, "orders")["MonitoringInterval"] == 0


def test_script_rejects_an_interval_rds_does_not_accept(rds):
    make_instance(rds, "orders")
    with pytest.raises(RemediationError, match="MonitoringInterval 7 is not one of"):
        enable_enhanced_monitoring(
            {"DBInstanceIdentifier": "orders", "MonitoringRoleArn": ROLE, "MonitoringInterval": 7}, None)


# --- document ------------------------------------------------------------------


def test_document_enables_monitoring_and_changes_nothing_else(run_runbook, rds_doc):
    arn = make_instance(rds_doc, "billing", MultiAZ=True, DeletionProtection=True)
    make_instance(rds_doc, "billing-bystander")
    before = state(rds_doc, "billing")

    execution = run_runbook(DOC, RDSInstanceARN=arn, MonitoringRoleArn=ROLE, MonitoringInterval=30)

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert state(rds_doc, "billing") == {**before, "MonitoringInterval": 30, "MonitoringRoleArn": ROLE}
    assert state(rds_doc, "billing-bystander")["MonitoringInterval"] == 0
    assert output(execution, "VerifyEnhancedMonitoring.Output")["MonitoringInterval"] == "30"


def test_document_default_interval_is_60_and_second_run_changes_nothing(run_runbook, rds_doc):
    arn = make_instance(rds_doc, "twice")
    first = run_runbook(DOC, RDSInstanceARN=arn, MonitoringRoleArn=ROLE)
    after_first = state(rds_doc, "twice")
    second = run_runbook(DOC, RDSInstanceARN=arn, MonitoringRoleArn=ROLE)
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert after_first["MonitoringInterval"] == 60
    assert state(rds_doc, "twice") == after_first
    assert "nothing changed" in output(second, "EnableEnhancedMonitoring.Output")["Message"]


def test_document_missing_instance_fails_naming_the_arn(run_runbook, rds_doc):
    make_instance(rds_doc, "ghost2")
    execution = run_runbook(DOC, RDSInstanceARN=instance_arn("ghost"), MonitoringRoleArn=ROLE)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "db:ghost" in execution["FailureMessage"]
    assert state(rds_doc, "ghost2")["MonitoringInterval"] == 0


def test_document_foreign_role_is_refused_and_nothing_changes(run_runbook, rds_doc):
    arn = make_instance(rds_doc, "billing")
    execution = run_runbook(DOC, RDSInstanceARN=arn, MonitoringRoleArn=ROLE.replace(ACCOUNT, OTHER_ACCOUNT))
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "MonitoringRoleArn" in execution["FailureMessage"]
    assert state(rds_doc, "billing")["MonitoringInterval"] == 0


@pytest.mark.parametrize("param, bad", [
    ("RDSInstanceARN", "arn:aws:rds:us-east-1:111111111111:cluster:billing"),
    ("MonitoringRoleArn", "SO0111-RDSMonitoring-remediationRole-sim"),
    ("MonitoringInterval", 45),
])
def test_document_malformed_input_is_rejected_naming_the_parameter(run_runbook, param, bad):
    params = {"RDSInstanceARN": instance_arn("billing"), "MonitoringRoleArn": ROLE, param: bad}
    with pytest.raises(ParameterValidationError, match=f"parameter '{param}'"):
        run_runbook(DOC, **params)
