"""ASR-EnableElastiCacheBackups: the script and the YAML document through the runner.

Replication groups run on moto. moto 5.2.5 has no ElastiCache ModifyCacheCluster, so
the single-cluster path is proven with botocore's Stubber against the real API shapes
(every call checked, any unexpected call fails the test), patched into the runner's
session by ``stub_client``.
"""

from __future__ import annotations

import boto3
import pytest

from asr.controls import Resource, Status, evaluate
from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_elasticache_backups import RemediationError, enable_backups
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, REGION

DOC = "EnableElastiCacheBackups"


def arn(kind: str, name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:elasticache:{REGION}:{account}:{kind}:{name}"


def make_group(ec, group_id: str, retention: int = 0) -> str:
    ec.create_replication_group(ReplicationGroupId=group_id, ReplicationGroupDescription="cache", Engine="redis",
                                CacheNodeType="cache.t3.micro", NumCacheClusters=1,
                                SnapshotRetentionLimit=retention, Tags=[{"Key": "team", "Value": "sec"}])
    return arn("replicationgroup", group_id)


def group(ec, group_id: str) -> dict:
    return ec.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]


def cluster(name: str, retention: int, **extra) -> dict:
    return {"CacheClusters": [{"CacheClusterId": name, "ARN": arn("cluster", name), "Engine": "redis",
                               "CacheClusterStatus": "available", "SnapshotRetentionLimit": retention, **extra}]}


# --- script --------------------------------------------------------------------


def test_raises_retention_of_the_named_group_only(ec):
    target = make_group(ec, "sessions")
    make_group(ec, "sessions-bystander")
    out = enable_backups({"ResourceARN": target, "SnapshotRetentionPeriod": 7}, None)
    assert group(ec, "sessions")["SnapshotRetentionLimit"] == 7
    assert group(ec, "sessions-bystander")["SnapshotRetentionLimit"] == 0
    assert (out["RetentionBefore"], out["RetentionAfter"]) == ("0", "7")


def test_never_lowers_a_longer_retention(ec):
    target = make_group(ec, "long", retention=30)
    out = enable_backups({"ResourceARN": target, "SnapshotRetentionPeriod": 1}, None)
    assert group(ec, "long")["SnapshotRetentionLimit"] == 30
    assert "nothing changed" in out["Message"]


def test_group_of_another_account_is_refused(ec):
    make_group(ec, "shared")
    with pytest.raises(RemediationError, match="not in this account and Region"):
        enable_backups({"ResourceARN": arn("replicationgroup", "shared", OTHER_ACCOUNT),
                        "SnapshotRetentionPeriod": 7}, None)
    assert group(ec, "shared")["SnapshotRetentionLimit"] == 0


def test_cluster_path_modifies_only_that_cluster(stub_client):
    stubber = stub_client("elasticache")
    stubber.add_response("describe_cache_clusters", cluster("c1", 0), {"CacheClusterId": "c1"})
    stubber.add_response("modify_cache_cluster", {}, {
        "CacheClusterId": "c1", "SnapshotRetentionLimit": 5, "ApplyImmediately": True})
    stubber.add_response("describe_cache_clusters", cluster("c1", 5), {"CacheClusterId": "c1"})
    out = enable_backups({"ResourceARN": arn("cluster", "c1"), "SnapshotRetentionPeriod": 5}, None)
    stubber.assert_no_pending_responses()
    assert out["RetentionAfter"] == "5"


@pytest.mark.parametrize(("extra", "message"), [
    ({"Engine": "memcached"}, "a Memcached cluster has no backups"),
    ({"CacheClusterStatus": "modifying"}, "cluster is modifying"),
])
def test_cluster_refusals_change_nothing(stub_client, extra, message):
    stubber = stub_client("elasticache")
    stubber.add_response("describe_cache_clusters", cluster("c1", 0, **extra), {"CacheClusterId": "c1"})
    with pytest.raises(RemediationError, match=f"ResourceARN .*cluster:c1: {message}"):
        enable_backups({"ResourceARN": arn("cluster", "c1"), "SnapshotRetentionPeriod": 5}, None)
    stubber.assert_no_pending_responses()  # no modify call was made


def test_a_cluster_of_a_replication_group_gets_the_groups_backups(ec):
    """Backups of a cluster inside a replication group are the group's (ElastiCache.1 judges the group's
    SnapshotRetentionLimit): the group is modified, not refused."""
    make_group(ec, "sessions")
    make_group(ec, "sessions-bystander")
    member = ec.create_cache_cluster(CacheClusterId="sessions-002", ReplicationGroupId="sessions", Engine="redis",
                                     CacheNodeType="cache.t3.micro")["CacheCluster"]["ARN"]
    out = enable_backups({"ResourceARN": member, "SnapshotRetentionPeriod": 3}, None)
    assert group(ec, "sessions")["SnapshotRetentionLimit"] == 3
    assert group(ec, "sessions-bystander")["SnapshotRetentionLimit"] == 0
    assert out["ReplicationGroup"] == arn("replicationgroup", "sessions")
    verdict = evaluate("ElastiCache.1", boto3.Session(), Resource.of_arn(member, "AwsElastiCacheCacheCluster"))
    assert verdict.status is Status.PASSED, verdict.reason


def replication_group(name: str, retention: int, **extra) -> dict:
    return {"ReplicationGroups": [{"ReplicationGroupId": name, "ARN": arn("replicationgroup", name),
                                   "Status": "available", "SnapshotRetentionLimit": retention,
                                   "MemberClusters": [f"{name}-001"], "ClusterMode": "disabled",
                                   "SnapshottingClusterId": f"{name}-001", **extra}]}


def test_the_read_back_waits_for_the_change_to_show(stub_client):
    """ElastiCache reports a modification after a while: the read-back retries, with a bounded wait."""
    stubber = stub_client("elasticache")
    stubber.add_response("describe_replication_groups", replication_group("rg1", 0), {"ReplicationGroupId": "rg1"})
    stubber.add_response("modify_replication_group", {}, {
        "ReplicationGroupId": "rg1", "SnapshotRetentionLimit": 5, "ApplyImmediately": True})
    stubber.add_response("describe_replication_groups", replication_group("rg1", 0, Status="modifying"),
                         {"ReplicationGroupId": "rg1"})
    stubber.add_response("describe_replication_groups", replication_group("rg1", 5), {"ReplicationGroupId": "rg1"})
    slept: list[float] = []
    out = enable_backups({"ResourceARN": arn("replicationgroup", "rg1"), "SnapshotRetentionPeriod": 5}, None,
                         sleep=slept.append)
    stubber.assert_no_pending_responses()
    assert out["RetentionAfter"] == "5" and len(slept) == 1


def test_a_change_that_never_shows_fails_after_a_bounded_wait(stub_client):
    from remediation_runbooks.scripts import enable_elasticache_backups as script

    stubber = stub_client("elasticache")
    stubber.add_response("describe_replication_groups", replication_group("rg1", 0), {"ReplicationGroupId": "rg1"})
    stubber.add_response("modify_replication_group", {}, {
        "ReplicationGroupId": "rg1", "SnapshotRetentionLimit": 5, "ApplyImmediately": True})
    for _ in range(script.VERIFY_ATTEMPTS):
        stubber.add_response("describe_replication_groups", replication_group("rg1", 0),
                             {"ReplicationGroupId": "rg1"})
    slept: list[float] = []
    with pytest.raises(RemediationError, match="backup retention is 0 days after the change, not 5"):
        enable_backups({"ResourceARN": arn("replicationgroup", "rg1"), "SnapshotRetentionPeriod": 5}, None,
                       sleep=slept.append)
    assert len(slept) == script.VERIFY_ATTEMPTS - 1


# --- document ------------------------------------------------------------------


def test_document_enables_group_backups_and_changes_nothing_else(run_runbook, ec_doc):
    target = make_group(ec_doc, "sessions")
    make_group(ec_doc, "sessions-bystander")
    before = group(ec_doc, "sessions")

    execution = run_runbook(DOC, ResourceARN=target, SnapshotRetentionPeriod=1)

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    after = group(ec_doc, "sessions")
    assert after.pop("SnapshotRetentionLimit") == 1
    before.pop("SnapshotRetentionLimit")
    assert after == before
    assert group(ec_doc, "sessions-bystander")["SnapshotRetentionLimit"] == 0
    assert "EnableAutomaticBackups.Output" in execution["Outputs"]


def test_document_enables_cluster_backups(run_runbook, stub_client):
    stubber = stub_client("elasticache")
    stubber.add_response("describe_cache_clusters", cluster("c1", 0), {"CacheClusterId": "c1"})
    stubber.add_response("modify_cache_cluster", {}, {
        "CacheClusterId": "c1", "SnapshotRetentionLimit": 1, "ApplyImmediately": True})
    stubber.add_response("describe_cache_clusters", cluster("c1", 1), {"CacheClusterId": "c1"})
    execution = run_runbook(DOC, ResourceARN=arn("cluster", "c1"), SnapshotRetentionPeriod=1)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    stubber.assert_no_pending_responses()


def test_document_second_run_changes_nothing(run_runbook, ec_doc):
    target = make_group(ec_doc, "twice")
    first = run_runbook(DOC, ResourceARN=target, SnapshotRetentionPeriod=3)
    state = group(ec_doc, "twice")
    second = run_runbook(DOC, ResourceARN=target, SnapshotRetentionPeriod=3)
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert group(ec_doc, "twice") == state
    assert "nothing changed" in str(second["Outputs"])


@pytest.mark.parametrize(("name", "value"), [
    ("ResourceARN", "sessions"),
    ("ResourceARN", arn("serverlesscache", "sessions")),
    ("ResourceARN", arn("replicationgroup", "bad--id")),
    ("SnapshotRetentionPeriod", 0),
    ("SnapshotRetentionPeriod", 36),
])
def test_document_rejects_malformed_input(run_runbook, ec_doc, name, value):
    target = make_group(ec_doc, "sessions")
    with pytest.raises(ParameterValidationError, match=name):
        run_runbook(DOC, **{"ResourceARN": target, "SnapshotRetentionPeriod": 7, name: value})
    assert group(ec_doc, "sessions")["SnapshotRetentionLimit"] == 0


def test_document_fails_on_a_missing_group_naming_it(run_runbook, ec_doc):
    execution = run_runbook(DOC, ResourceARN=arn("replicationgroup", "absent"), SnapshotRetentionPeriod=1)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "ResourceARN" in execution["FailureMessage"] and "replicationgroup:absent" in execution["FailureMessage"]
