"""ASR-EnableEnhancedMonitoringOnRDSInstance: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

from functools import partial

import pytest

from asr import documents, solution
from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_enhanced_monitoring_on_rds_instance import (
    RemediationError,
    enable_enhanced_monitoring,
)
from tests.conftest import ACCOUNT, OTHER_ACCOUNT
from tests.remediations.conftest import NAMESPACE
from tests.remediations.helpers import output
from tests.remediations.helpers.rds import INSTANCE_KEYS, instance_arn, instance_state, make_instance

DOC = "EnableEnhancedMonitoringOnRDSInstance"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/{solution.service_role('RDSMonitoring-remediationRole', NAMESPACE)}"

# The instance settings that must not change, plus the monitoring role the document sets.
monitoring_state = partial(instance_state, keys=(*INSTANCE_KEYS, "MonitoringRoleArn"))


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
    assert monitoring_state(rds, "orders")["MonitoringInterval"] == 60
    assert monitoring_state(rds, "orders")["MonitoringRoleArn"] == ROLE
    assert monitoring_state(rds, "orders2")["MonitoringInterval"] == 0
    assert out["MonitoringIntervalBefore"] == "0" and out["MonitoringIntervalAfter"] == "60"


def test_script_refuses_a_role_of_another_account(rds):
    make_instance(rds, "orders")
    foreign = ROLE.replace(ACCOUNT, OTHER_ACCOUNT)
    with pytest.raises(RemediationError, match=f"MonitoringRoleArn {foreign} is in account {OTHER_ACCOUNT}"):
        enable_enhanced_monitoring(
            {"DBInstanceIdentifier": "orders", "MonitoringRoleArn": foreign, "MonitoringInterval": 60}, None)
    assert monitoring_state(rds, "orders")["MonitoringInterval"] == 0


def test_script_rejects_an_interval_rds_does_not_accept(rds):
    make_instance(rds, "orders")
    with pytest.raises(RemediationError, match="MonitoringInterval 7 is not one of"):
        enable_enhanced_monitoring(
            {"DBInstanceIdentifier": "orders", "MonitoringRoleArn": ROLE, "MonitoringInterval": 7}, None)


# --- document ------------------------------------------------------------------


def test_document_enables_monitoring_and_changes_nothing_else(run_runbook, rds_doc):
    arn = make_instance(rds_doc, "billing", MultiAZ=True, DeletionProtection=True)
    make_instance(rds_doc, "billing-bystander")
    before = monitoring_state(rds_doc, "billing")

    execution = run_runbook(DOC, RDSInstanceARN=arn, MonitoringRoleArn=ROLE, MonitoringInterval=30)

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert monitoring_state(rds_doc, "billing") == {**before, "MonitoringInterval": 30, "MonitoringRoleArn": ROLE}
    assert monitoring_state(rds_doc, "billing-bystander")["MonitoringInterval"] == 0
    assert output(execution, "VerifyEnhancedMonitoring.Output")["MonitoringInterval"] == "30"


def test_document_default_interval_is_60_and_second_run_changes_nothing(run_runbook, rds_doc):
    arn = make_instance(rds_doc, "twice")
    first = run_runbook(DOC, RDSInstanceARN=arn, MonitoringRoleArn=ROLE)
    after_first = monitoring_state(rds_doc, "twice")
    second = run_runbook(DOC, RDSInstanceARN=arn, MonitoringRoleArn=ROLE)
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert after_first["MonitoringInterval"] == 60
    assert monitoring_state(rds_doc, "twice") == after_first
    assert "nothing changed" in output(second, "EnableEnhancedMonitoring.Output")["Message"]


def test_document_missing_instance_fails_naming_the_arn(run_runbook, rds_doc):
    make_instance(rds_doc, "ghost2")
    execution = run_runbook(DOC, RDSInstanceARN=instance_arn("ghost"), MonitoringRoleArn=ROLE)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "db:ghost" in execution["FailureMessage"]
    assert monitoring_state(rds_doc, "ghost2")["MonitoringInterval"] == 0


def test_document_foreign_role_is_refused_and_nothing_changes(run_runbook, rds_doc):
    arn = make_instance(rds_doc, "billing")
    execution = run_runbook(DOC, RDSInstanceARN=arn, MonitoringRoleArn=ROLE.replace(ACCOUNT, OTHER_ACCOUNT))
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "MonitoringRoleArn" in execution["FailureMessage"]
    assert monitoring_state(rds_doc, "billing")["MonitoringInterval"] == 0


@pytest.mark.parametrize("param, bad", [
    ("RDSInstanceARN", "arn:aws:rds:us-east-1:111111111111:cluster:billing"),
    ("MonitoringRoleArn", "SO0111-RDSMonitoring-remediationRole-sim"),
    ("MonitoringInterval", 45),
])
def test_document_malformed_input_is_rejected_naming_the_parameter(run_runbook, param, bad):
    params = {"RDSInstanceARN": instance_arn("billing"), "MonitoringRoleArn": ROLE, param: bad}
    with pytest.raises(ParameterValidationError, match=f"parameter '{param}'"):
        run_runbook(DOC, **params)


# --- the control runbook: the monitoringInterval control parameter reaches the remediation ---------


@pytest.fixture
def control_world(monkeypatch):
    """moto as the playbook tests run it (Security Hub BatchUpdateFindings, the solution's parameters)."""
    from tests.conftest import REGION, multi_account_moto
    from tests.playbooks import securityhub
    from tests.playbooks.harness import CLIENTS, solution_parameters

    CLIENTS.clear()
    securityhub.install(monkeypatch)
    with multi_account_moto(monkeypatch):
        solution_parameters(ACCOUNT, REGION)
        yield
    CLIENTS.clear()


@pytest.mark.parametrize("interval", [30, 5])
def test_control_runbook_sets_the_interval_the_control_asks(control_world, interval):
    """RDS.6 with monitoringInterval set fails unless MonitoringInterval equals it."""
    import json

    import boto3

    from asr.controls import Resource, Status, evaluate
    from asr.playbooks import data
    from asr.simulator.execution import Status as Run
    from tests.playbooks.harness import client, finding_for, import_finding, real_registry, run_control

    arn = make_instance(client("rds"), "orders")
    client("config").put_config_rule(ConfigRule={
        "ConfigRuleName": "securityhub-rds-enhanced-monitoring-enabled-abc123",
        "Source": {"Owner": "AWS", "SourceIdentifier": "RDS_ENHANCED_MONITORING_ENABLED"},
        "InputParameters": json.dumps({"monitoringInterval": str(interval)}),
    })
    std = data.load_standard("SC")
    finding = finding_for(std, "RDS.6", arn, resource_type="AwsRdsDbInstance",
                          config_rule_name="securityhub-rds-enhanced-monitoring-enabled-abc123")
    import_finding(finding)
    _, execution = run_control(real_registry(), std, "RDS.6", finding)
    assert execution.status is Run.SUCCESS, execution.failure_message
    verdict = evaluate("RDS.6", boto3.Session(), Resource.of_arn(arn, "AwsRdsDbInstance"),
                       {"monitoringInterval": interval})
    assert verdict.status is Status.PASSED, verdict.reason
