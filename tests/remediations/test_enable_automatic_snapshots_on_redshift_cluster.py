"""ASR-EnableAutomaticSnapshotsOnRedshiftCluster: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_automatic_snapshots_on_redshift_cluster import (
    RemediationError,
    enable_automatic_snapshots,
)
from tests.remediations.helpers import output
from tests.remediations.helpers.redshift import MALFORMED_CLUSTER_IDENTIFIERS, cluster_state, make_cluster

DOC = "EnableAutomaticSnapshotsOnRedshiftCluster"


def test_document_missing_cluster_fails_naming_it(run_runbook, redshift_doc):
    make_cluster(redshift_doc, "ghost2", AutomatedSnapshotRetentionPeriod=1)
    bystander_before = cluster_state(redshift_doc, "ghost2")
    execution = run_runbook(DOC, ClusterIdentifier="ghost")
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "ghost" in execution["FailureMessage"]
    assert cluster_state(redshift_doc, "ghost2") == bystander_before


@pytest.mark.parametrize("bad", MALFORMED_CLUSTER_IDENTIFIERS)
def test_document_malformed_identifier_is_rejected_by_the_pattern(run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="parameter 'ClusterIdentifier'"):
        run_runbook(DOC, ClusterIdentifier=bad)


def test_script_raises_retention_of_the_named_cluster_only(redshift):
    # moto stores a requested 0 (automated snapshots off) as its default 1.
    make_cluster(redshift, "analytics", AutomatedSnapshotRetentionPeriod=1)
    make_cluster(redshift, "analytics2", AutomatedSnapshotRetentionPeriod=1)
    out = enable_automatic_snapshots({"ClusterIdentifier": "analytics", "MinRetentionPeriod": 7}, None)
    assert cluster_state(redshift, "analytics")["AutomatedSnapshotRetentionPeriod"] == 7
    assert cluster_state(redshift, "analytics2")["AutomatedSnapshotRetentionPeriod"] == 1
    assert out["RetentionPeriodBefore"] == "1" and out["RetentionPeriodAfter"] == "7"


def test_script_never_lowers_a_longer_retention(redshift):
    make_cluster(redshift, "keep", AutomatedSnapshotRetentionPeriod=30)
    out = enable_automatic_snapshots({"ClusterIdentifier": "keep", "MinRetentionPeriod": 7}, None)
    assert cluster_state(redshift, "keep")["AutomatedSnapshotRetentionPeriod"] == 30
    assert "nothing changed" in out["Message"]


def test_script_rejects_a_minimum_redshift_does_not_accept(redshift):
    make_cluster(redshift, "analytics")
    with pytest.raises(RemediationError, match="MinRetentionPeriod 40"):
        enable_automatic_snapshots({"ClusterIdentifier": "analytics", "MinRetentionPeriod": 40}, None)


def test_document_raises_retention_and_changes_nothing_else(run_runbook, redshift_doc):
    make_cluster(redshift_doc, "analytics", AutomatedSnapshotRetentionPeriod=1, PubliclyAccessible=True)
    make_cluster(redshift_doc, "analytics-bystander", AutomatedSnapshotRetentionPeriod=1)
    before = cluster_state(redshift_doc, "analytics")

    execution = run_runbook(DOC, ClusterIdentifier="analytics")

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert cluster_state(redshift_doc, "analytics") == {**before, "AutomatedSnapshotRetentionPeriod": 7}
    assert cluster_state(redshift_doc, "analytics-bystander")["AutomatedSnapshotRetentionPeriod"] == 1
    assert output(execution, "VerifyAutomaticSnapshots.Output")["RetentionPeriod"] == "7"


def test_document_second_run_changes_nothing(run_runbook, redshift_doc):
    make_cluster(redshift_doc, "twice", AutomatedSnapshotRetentionPeriod=1)
    first = run_runbook(DOC, ClusterIdentifier="twice", MinRetentionPeriod=14)
    after_first = cluster_state(redshift_doc, "twice")
    second = run_runbook(DOC, ClusterIdentifier="twice", MinRetentionPeriod=14)
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert after_first["AutomatedSnapshotRetentionPeriod"] == 14
    assert cluster_state(redshift_doc, "twice") == after_first
    assert "nothing changed" in output(second, "EnableAutomaticSnapshots.Output")["Message"]


@pytest.mark.parametrize("bad", [0, 36, "seven"])
def test_document_bad_minimum_is_rejected_naming_the_parameter(run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="parameter 'MinRetentionPeriod'"):
        run_runbook(DOC, ClusterIdentifier="analytics", MinRetentionPeriod=bad)
