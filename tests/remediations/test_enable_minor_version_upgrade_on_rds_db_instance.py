"""ASR-EnableMinorVersionUpgradeOnRDSDBInstance: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

from functools import partial

import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_minor_version_upgrade_on_rds_db_instance import (
    enable_minor_version_upgrade,
)
from tests.remediations.helpers import output
from tests.remediations.helpers.rds import instance_arn, instance_state, make_instance, make_multi_az_db_cluster

DOC = "EnableMinorVersionUpgradeOnRDSDBInstance"

# Instances here start without automatic minor version upgrades unless a test says otherwise.
make_instance_without_upgrades = partial(make_instance, AutoMinorVersionUpgrade=False)


def make_multi_az_cluster(rds, name: str) -> str:
    make_multi_az_db_cluster(rds, name, AutoMinorVersionUpgrade=False)
    return make_instance_without_upgrades(rds, f"{name}-1", DBClusterIdentifier=name)


def cluster_upgrades(rds, name: str) -> bool:
    return rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0].get("AutoMinorVersionUpgrade")


# --- script --------------------------------------------------------------------


def test_script_enables_upgrades_on_the_named_instance_only(rds):
    make_instance_without_upgrades(rds, "orders")
    make_instance_without_upgrades(rds, "orders2")
    out = enable_minor_version_upgrade({"DBInstanceIdentifier": "orders"}, None)
    assert instance_state(rds, "orders")["AutoMinorVersionUpgrade"] is True
    assert instance_state(rds, "orders2")["AutoMinorVersionUpgrade"] is False
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
    arn = make_instance_without_upgrades(rds_doc, "billing", MultiAZ=True, DeletionProtection=True)
    make_instance_without_upgrades(rds_doc, "billing-bystander")
    before = instance_state(rds_doc, "billing")

    execution = run_runbook(DOC, RDSInstanceARN=arn)

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert instance_state(rds_doc, "billing") == {**before, "AutoMinorVersionUpgrade": True}
    assert instance_state(rds_doc, "billing-bystander")["AutoMinorVersionUpgrade"] is False
    assert output(execution, "EnableMinorVersionUpgrade.Output")["ChangedResourceArn"] == arn


def test_document_multi_az_cluster_member_changes_its_cluster(run_runbook, rds_doc):
    arn = make_multi_az_cluster(rds_doc, "maz")
    make_multi_az_cluster(rds_doc, "other")
    execution = run_runbook(DOC, RDSInstanceARN=arn)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert cluster_upgrades(rds_doc, "maz") is True
    assert cluster_upgrades(rds_doc, "other") is False


def test_document_second_run_changes_nothing(run_runbook, rds_doc):
    arn = make_instance_without_upgrades(rds_doc, "twice")
    first = run_runbook(DOC, RDSInstanceARN=arn)
    after_first = instance_state(rds_doc, "twice")
    second = run_runbook(DOC, RDSInstanceARN=arn)
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert instance_state(rds_doc, "twice") == after_first
    out = output(second, "EnableMinorVersionUpgrade.Output")
    assert "nothing changed" in out["Message"] and out["ChangedResourceArn"] == ""


def test_document_missing_instance_fails_naming_the_arn(run_runbook, rds_doc):
    make_instance_without_upgrades(rds_doc, "ghost2")
    execution = run_runbook(DOC, RDSInstanceARN=instance_arn("ghost"))
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "db:ghost" in execution["FailureMessage"]
    assert instance_state(rds_doc, "ghost2")["AutoMinorVersionUpgrade"] is False


@pytest.mark.parametrize("bad", [
    "arn:aws:rds:us-east-1:111111111111:cluster:maz",
    "arn:aws:rds:us-east-1:111111111111:db:-bad",
    "arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0",
])
def test_document_malformed_arn_is_rejected_by_the_pattern(run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="parameter 'RDSInstanceARN'"):
        run_runbook(DOC, RDSInstanceARN=bad)
