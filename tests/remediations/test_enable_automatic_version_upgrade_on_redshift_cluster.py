"""ASR-EnableAutomaticVersionUpgradeOnRedshiftCluster: the script against moto, then the document through the runner."""

from __future__ import annotations

import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_automatic_version_upgrade_on_redshift_cluster import (
    RemediationError,
    set_version_upgrade,
)
from tests.remediations.helpers import output
from tests.remediations.helpers.redshift import MALFORMED_CLUSTER_IDENTIFIERS, cluster_state, make_cluster

DOC = "EnableAutomaticVersionUpgradeOnRedshiftCluster"


def test_document_missing_cluster_fails_naming_it(run_runbook, redshift_doc):
    make_cluster(redshift_doc, "ghost2", AllowVersionUpgrade=False)
    bystander_before = cluster_state(redshift_doc, "ghost2")
    execution = run_runbook(DOC, ClusterIdentifier="ghost")
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "ghost" in execution["FailureMessage"]
    assert cluster_state(redshift_doc, "ghost2") == bystander_before


@pytest.mark.parametrize("bad", MALFORMED_CLUSTER_IDENTIFIERS)
def test_document_malformed_identifier_is_rejected_by_the_pattern(run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="parameter 'ClusterIdentifier'"):
        run_runbook(DOC, ClusterIdentifier=bad)


def test_script_allows_upgrades_on_the_named_cluster_only(redshift):
    make_cluster(redshift, "analytics", AllowVersionUpgrade=False)
    make_cluster(redshift, "analytics2", AllowVersionUpgrade=False)
    out = set_version_upgrade({"ClusterIdentifier": "analytics", "AllowVersionUpgrade": True}, None)
    assert cluster_state(redshift, "analytics")["AllowVersionUpgrade"] is True
    assert cluster_state(redshift, "analytics2")["AllowVersionUpgrade"] is False
    assert out["AllowVersionUpgradeBefore"] == "false"


def test_script_missing_cluster_names_the_input(redshift):
    with pytest.raises(RemediationError, match="ClusterIdentifier ghost: no such Redshift cluster"):
        set_version_upgrade({"ClusterIdentifier": "ghost", "AllowVersionUpgrade": True}, None)


def test_document_allows_upgrades_and_changes_nothing_else(run_runbook, redshift_doc):
    make_cluster(redshift_doc, "analytics", AllowVersionUpgrade=False, PubliclyAccessible=True,
                 AutomatedSnapshotRetentionPeriod=3)
    make_cluster(redshift_doc, "analytics-bystander", AllowVersionUpgrade=False)
    before = cluster_state(redshift_doc, "analytics")

    execution = run_runbook(DOC, ClusterIdentifier="analytics")

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert cluster_state(redshift_doc, "analytics") == {**before, "AllowVersionUpgrade": True}
    assert cluster_state(redshift_doc, "analytics-bystander")["AllowVersionUpgrade"] is False
    assert output(execution, "VerifyVersionUpgrade.Output")["AllowVersionUpgrade"] == "true"


def test_document_second_run_changes_nothing(run_runbook, redshift_doc):
    make_cluster(redshift_doc, "twice", AllowVersionUpgrade=False)
    first = run_runbook(DOC, ClusterIdentifier="twice")
    after_first = cluster_state(redshift_doc, "twice")
    second = run_runbook(DOC, ClusterIdentifier="twice", AllowVersionUpgrade=True)
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert cluster_state(redshift_doc, "twice") == after_first
    assert "nothing changed" in output(second, "SetVersionUpgrade.Output")["Message"]


def test_document_bad_flag_is_rejected_naming_the_parameter(run_runbook):
    with pytest.raises(ParameterValidationError, match="parameter 'AllowVersionUpgrade'"):
        run_runbook(DOC, ClusterIdentifier="analytics", AllowVersionUpgrade="sometimes")
