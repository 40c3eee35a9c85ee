"""ASR-EnableElastiCacheReplicationGroupFailover: the script against moto, then the YAML document through the runner.

moto creates only the first member of a replication group whatever NumCacheClusters
says; ``with_replica`` adds the replica to moto's backend so the group can fail over.
"""

from __future__ import annotations

import pytest
from moto.elasticache.models import ElastiCacheBackend, elasticache_backends

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_elasticache_replication_group_failover import (
    RemediationError,
    request_failover,
)
from tests.conftest import ACCOUNT, REGION

DOC = "EnableElastiCacheReplicationGroupFailover"


def make_group(ec, group_id: str, replica: bool = True) -> None:
    ec.create_replication_group(ReplicationGroupId=group_id, ReplicationGroupDescription="cache", Engine="redis",
                                CacheNodeType="cache.t3.micro", NumCacheClusters=2, SnapshotRetentionLimit=3)
    if replica:
        elasticache_backends[ACCOUNT][REGION].replication_groups[group_id].member_clusters.append(f"{group_id}-002")


def group(ec, group_id: str) -> dict:
    return ec.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]


# --- script --------------------------------------------------------------------


def test_requests_failover_on_the_named_group_only(ec):
    make_group(ec, "sessions")
    make_group(ec, "sessions-bystander")
    request_failover({"GroupId": "sessions"}, None)
    assert group(ec, "sessions")["AutomaticFailover"] == "enabled"
    assert group(ec, "sessions-bystander")["AutomaticFailover"] == "disabled"


def test_group_without_replica_is_refused(ec):
    make_group(ec, "single", replica=False)
    with pytest.raises(RemediationError, match="GroupId single: has no replica"):
        request_failover({"GroupId": "single"}, None)
    assert group(ec, "single")["AutomaticFailover"] == "disabled"


def test_missing_group_names_the_input(ec):
    with pytest.raises(RemediationError, match="GroupId ghost: no such replication group"):
        request_failover({"GroupId": "ghost"}, None)


# --- document ------------------------------------------------------------------


def test_document_enables_failover_and_changes_nothing_else(run_runbook, ec_doc):
    make_group(ec_doc, "sessions")
    make_group(ec_doc, "sessions-bystander")
    before = group(ec_doc, "sessions")

    execution = run_runbook(DOC, GroupId="sessions")

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    after = group(ec_doc, "sessions")
    assert after.pop("AutomaticFailover") == "enabled"
    before.pop("AutomaticFailover")
    assert after == before
    assert group(ec_doc, "sessions-bystander")["AutomaticFailover"] == "disabled"
    assert execution["Outputs"]["VerifyFailover.Status"] == ["enabled"]


def test_document_second_run_changes_nothing(run_runbook, ec_doc):
    make_group(ec_doc, "twice")
    first = run_runbook(DOC, GroupId="twice")
    state = group(ec_doc, "twice")
    second = run_runbook(DOC, GroupId="twice")
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert group(ec_doc, "twice") == state
    assert "nothing changed" in str(second["Outputs"])


@pytest.mark.parametrize("bad", ["1cache", "cache--x", "cache-", "a" * 41,
                                 "arn:aws:elasticache:us-east-1:111111111111:replicationgroup:cache"])
def test_document_rejects_a_malformed_id(run_runbook, ec_doc, bad):
    make_group(ec_doc, "cache")
    with pytest.raises(ParameterValidationError, match="GroupId"):
        run_runbook(DOC, GroupId=bad)
    assert group(ec_doc, "cache")["AutomaticFailover"] == "disabled"


@pytest.mark.parametrize(("group_id", "message"), [("absent", "no such replication group"),
                                                   ("single", "has no replica")])
def test_document_fails_naming_the_group(run_runbook, ec_doc, group_id, message):
    make_group(ec_doc, "single", replica=False)
    execution = run_runbook(DOC, GroupId=group_id)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"GroupId {group_id}: {message}" in execution["FailureMessage"]
    assert group(ec_doc, "single")["AutomaticFailover"] == "disabled"


def test_document_waits_on_the_runner_clock_until_enabled(run_runbook, ec_doc, clock, monkeypatch):
    """moto enables failover at once; here it reports 'enabling' until the runner has waited once."""
    make_group(ec_doc, "slow")
    backend = elasticache_backends[ACCOUNT][REGION]
    original_modify, original_sleep = ElastiCacheBackend.modify_replication_group, clock.sleep

    def modify(self, **kwargs):
        result = original_modify(self, **kwargs)
        backend.replication_groups["slow"].automatic_failover = "enabling"
        return result

    def sleep(seconds):
        original_sleep(seconds)
        backend.replication_groups["slow"].automatic_failover = "enabled"

    monkeypatch.setattr(ElastiCacheBackend, "modify_replication_group", modify)
    monkeypatch.setattr(clock, "sleep", sleep)

    execution = run_runbook(DOC, GroupId="slow")

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert clock.sleeps  # it waited, on the fake clock
    assert group(ec_doc, "slow")["AutomaticFailover"] == "enabled"
