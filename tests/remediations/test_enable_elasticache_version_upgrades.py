"""ASR-EnableElastiCacheVersionUpgrades: the script and the YAML document through the runner.

moto 5.2.5 has no ElastiCache ModifyCacheCluster, so every ElastiCache call here is
answered by botocore's Stubber against the real API shapes: each request is checked
(operation and exact parameters) and any call not expected fails the test, which also
proves no other cluster is touched. The document tests patch the Stubber-backed client
into the runner's session (``stub_client``).
"""

from __future__ import annotations

import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_elasticache_version_upgrades import (
    RemediationError,
    enable_version_upgrades,
)
from tests.conftest import ACCOUNT, REGION

DOC = "EnableElastiCacheVersionUpgrades"


def cluster(name: str, upgrades: bool) -> dict:
    return {"CacheClusters": [{
        "CacheClusterId": name, "ARN": f"arn:aws:elasticache:{REGION}:{ACCOUNT}:cluster:{name}",
        "Engine": "redis", "EngineVersion": "7.1", "CacheClusterStatus": "available",
        "PreferredMaintenanceWindow": "sun:05:00-sun:06:00", "AutoMinorVersionUpgrade": upgrades,
    }]}


def expect_enable(stubber, name: str) -> None:
    stubber.add_response("describe_cache_clusters", cluster(name, False), {"CacheClusterId": name})
    stubber.add_response("modify_cache_cluster", {}, {"CacheClusterId": name, "AutoMinorVersionUpgrade": True})
    stubber.add_response("describe_cache_clusters", cluster(name, True), {"CacheClusterId": name})


def test_turns_upgrades_on_with_exactly_one_change(stub_client):
    stubber = stub_client("elasticache")
    expect_enable(stubber, "cache-1")
    out = enable_version_upgrades({"ClusterId": "cache-1"}, None)
    stubber.assert_no_pending_responses()
    assert out["AutoMinorVersionUpgradeAfter"] == "true"


def test_the_read_back_waits_for_the_change_to_show(stub_client):
    """ElastiCache reports a modification after a while: the read-back retries, with a bounded wait."""
    stubber = stub_client("elasticache")
    stubber.add_response("describe_cache_clusters", cluster("cache-1", False), {"CacheClusterId": "cache-1"})
    stubber.add_response("modify_cache_cluster", {}, {"CacheClusterId": "cache-1", "AutoMinorVersionUpgrade": True})
    stubber.add_response("describe_cache_clusters", cluster("cache-1", False), {"CacheClusterId": "cache-1"})
    stubber.add_response("describe_cache_clusters", cluster("cache-1", True), {"CacheClusterId": "cache-1"})
    slept: list[float] = []
    out = enable_version_upgrades({"ClusterId": "cache-1"}, None, sleep=slept.append)
    stubber.assert_no_pending_responses()
    assert out["AutoMinorVersionUpgradeAfter"] == "true" and len(slept) == 1


def test_a_change_that_never_shows_fails_after_a_bounded_wait(stub_client):
    from remediation_runbooks.scripts import enable_elasticache_version_upgrades as script

    stubber = stub_client("elasticache")
    stubber.add_response("describe_cache_clusters", cluster("cache-1", False), {"CacheClusterId": "cache-1"})
    stubber.add_response("modify_cache_cluster", {}, {"CacheClusterId": "cache-1", "AutoMinorVersionUpgrade": True})
    for _ in range(script.VERIFY_ATTEMPTS):
        stubber.add_response("describe_cache_clusters", cluster("cache-1", False), {"CacheClusterId": "cache-1"})
    slept: list[float] = []
    with pytest.raises(RemediationError, match="still off after the change"):
        enable_version_upgrades({"ClusterId": "cache-1"}, None, sleep=slept.append)
    assert len(slept) == script.VERIFY_ATTEMPTS - 1


def test_missing_cluster_names_the_input(stub_client):
    stubber = stub_client("elasticache")
    stubber.add_client_error("describe_cache_clusters", "CacheClusterNotFound", "CacheCluster not found: ghost",
                             expected_params={"CacheClusterId": "ghost"})
    with pytest.raises(RemediationError, match="ClusterId ghost: no such ElastiCache cluster"):
        enable_version_upgrades({"ClusterId": "ghost"}, None)
    stubber.assert_no_pending_responses()


def test_document_turns_upgrades_on_and_touches_nothing_else(run_runbook, stub_client):
    stubber = stub_client("elasticache")
    expect_enable(stubber, "cache-1")
    execution = run_runbook(DOC, ClusterId="cache-1")
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    stubber.assert_no_pending_responses()
    assert "EnableVersionUpgrades.Output" in execution["Outputs"]


def test_document_second_run_changes_nothing(run_runbook, stub_client):
    stubber = stub_client("elasticache")
    for _ in range(2):
        stubber.add_response("describe_cache_clusters", cluster("cache-1", True), {"CacheClusterId": "cache-1"})
    execution = run_runbook(DOC, ClusterId="cache-1")
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    stubber.assert_no_pending_responses()
    assert "nothing changed" in str(execution["Outputs"])


@pytest.mark.parametrize("bad", ["", "1cache", "cache--1", "cache-", "a" * 51,
                                 f"arn:aws:elasticache:{REGION}:{ACCOUNT}:cluster:cache-1"])
def test_document_rejects_a_malformed_id(run_runbook, stub_client, bad):
    stubber = stub_client("elasticache")
    with pytest.raises(ParameterValidationError, match="ClusterId"):
        run_runbook(DOC, ClusterId=bad)
    stubber.assert_no_pending_responses()


def test_document_fails_on_a_missing_cluster_naming_it(run_runbook, stub_client):
    stubber = stub_client("elasticache")
    stubber.add_client_error("describe_cache_clusters", "CacheClusterNotFound", "CacheCluster not found: absent",
                             expected_params={"CacheClusterId": "absent"})
    execution = run_runbook(DOC, ClusterId="absent")
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "ClusterId absent" in execution["FailureMessage"]
    stubber.assert_no_pending_responses()
