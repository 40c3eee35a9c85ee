"""ASR-DisablePublicAccessToRedshiftCluster: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.disable_public_access_to_redshift_cluster import (
    RemediationError,
    disable_public_access,
)
from tests.remediations.helpers import output
from tests.remediations.helpers.redshift import MALFORMED_CLUSTER_IDENTIFIERS, cluster_state, make_cluster

DOC = "DisablePublicAccessToRedshiftCluster"


def test_document_missing_cluster_fails_naming_it(run_runbook, redshift_doc):
    make_cluster(redshift_doc, "ghost2", PubliclyAccessible=True)
    bystander_before = cluster_state(redshift_doc, "ghost2")
    execution = run_runbook(DOC, ClusterIdentifier="ghost")
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "ghost" in execution["FailureMessage"]
    assert cluster_state(redshift_doc, "ghost2") == bystander_before


@pytest.mark.parametrize("bad", MALFORMED_CLUSTER_IDENTIFIERS)
def test_document_malformed_identifier_is_rejected_by_the_pattern(run_runbook, bad):
    with pytest.raises(ParameterValidationError, match="parameter 'ClusterIdentifier'"):
        run_runbook(DOC, ClusterIdentifier=bad)


def test_script_makes_the_named_cluster_private_only(redshift):
    make_cluster(redshift, "analytics", PubliclyAccessible=True)
    make_cluster(redshift, "analytics2", PubliclyAccessible=True)
    out = disable_public_access({"ClusterIdentifier": "analytics"}, None)
    assert cluster_state(redshift, "analytics")["PubliclyAccessible"] is False
    assert cluster_state(redshift, "analytics2")["PubliclyAccessible"] is True
    assert out["PubliclyAccessibleBefore"] == "true"


def test_script_missing_cluster_names_the_input(redshift):
    with pytest.raises(RemediationError, match="ClusterIdentifier ghost: no such Redshift cluster"):
        disable_public_access({"ClusterIdentifier": "ghost"}, None)


def test_document_makes_the_cluster_private_and_changes_nothing_else(run_runbook, redshift_doc):
    make_cluster(redshift_doc, "analytics", PubliclyAccessible=True, AllowVersionUpgrade=False,
                 AutomatedSnapshotRetentionPeriod=3)
    make_cluster(redshift_doc, "analytics-bystander", PubliclyAccessible=True)
    before = cluster_state(redshift_doc, "analytics")

    execution = run_runbook(DOC, ClusterIdentifier="analytics")

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert cluster_state(redshift_doc, "analytics") == {**before, "PubliclyAccessible": False}
    assert cluster_state(redshift_doc, "analytics-bystander")["PubliclyAccessible"] is True
    assert output(execution, "VerifyPublicAccessDisabled.Output")["PubliclyAccessible"] == "false"


def test_document_second_run_changes_nothing(run_runbook, redshift_doc):
    make_cluster(redshift_doc, "twice", PubliclyAccessible=True)
    first = run_runbook(DOC, ClusterIdentifier="twice")
    after_first = cluster_state(redshift_doc, "twice")
    second = run_runbook(DOC, ClusterIdentifier="twice")
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert cluster_state(redshift_doc, "twice") == after_first
    assert "nothing changed" in output(second, "DisablePublicAccess.Output")["Message"]
