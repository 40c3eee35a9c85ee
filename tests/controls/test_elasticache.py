"""ElastiCache.1, .2, .3 evaluators on moto."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate

ACCOUNT, REGION = "111111111111", "us-east-1"


class StubSession:
    """Hands the evaluator a Stubber-backed client, for shapes moto cannot produce."""

    def __init__(self, service: str, responses: list[tuple[str, dict[str, Any]]]) -> None:
        self.client_ = boto3.client(service, region_name=REGION)
        self.stubber = Stubber(self.client_)
        for operation, response in responses:
            self.stubber.add_response(operation, response)
        self.stubber.activate()

    def client(self, service: str, region_name: str | None = None) -> Any:
        return self.client_


@pytest.fixture
def elasticache():
    with mock_aws():
        yield boto3.client("elasticache", region_name=REGION)


def _cluster(elasticache, ident: str = "cache1", engine: str = "redis", **kwargs) -> Resource:
    arn = elasticache.create_cache_cluster(
        CacheClusterId=ident, Engine=engine, CacheNodeType="cache.t3.micro", NumCacheNodes=1, **kwargs
    )["CacheCluster"]["ARN"]
    return Resource.of_arn(arn, "AwsElastiCacheCacheCluster")


def _group(elasticache, ident: str = "group1", **kwargs) -> Resource:
    arn = elasticache.create_replication_group(
        ReplicationGroupId=ident,
        ReplicationGroupDescription="test",
        Engine="redis",
        CacheNodeType="cache.t3.micro",
        NumCacheClusters=2,
        **kwargs,
    )["ReplicationGroup"]["ARN"]
    return Resource.of_arn(arn, "AwsElastiCacheReplicationGroup")


def _verdict(control_id: str, resource: Resource, parameters=None, session=None):
    return evaluate(control_id, session or boto3.Session(), resource, parameters)


# ----------------------------------------------------------------------------- ElastiCache.1


def test_elasticache1_cluster_without_backups_fails_with_backups_passes(elasticache):
    none = _cluster(elasticache, "nobackup")
    kept = _cluster(elasticache, "backup", SnapshotRetentionLimit=1)
    verdict = _verdict("ElastiCache.1", none)
    assert verdict.status is Status.FAILED
    assert "SnapshotRetentionLimit of the cluster is 0" in verdict.reason
    assert _verdict("ElastiCache.1", kept).status is Status.PASSED


def test_elasticache1_snapshot_retention_period_parameter(elasticache):
    cluster = _cluster(elasticache, SnapshotRetentionLimit=5)
    verdict = _verdict("ElastiCache.1", cluster, {"snapshotRetentionPeriod": 7})
    assert verdict.status is Status.FAILED
    assert "5, less than snapshotRetentionPeriod 7" in verdict.reason
    assert _verdict("ElastiCache.1", cluster, {"snapshotRetentionPeriod": 5}).status is Status.PASSED


def test_elasticache1_replication_group_is_judged_on_its_own_limit(elasticache):
    assert _verdict("ElastiCache.1", _group(elasticache, "kept", SnapshotRetentionLimit=3)).status is Status.PASSED
    verdict = _verdict("ElastiCache.1", _group(elasticache, "bare"))
    assert verdict.status is Status.FAILED
    assert "replication group 'bare'" in verdict.reason


def test_elasticache1_member_cluster_is_judged_by_its_replication_group():
    # moto does not create the member cache clusters of a replication group, so the
    # describe calls are stubbed: the member reports 0 (backups run on the group), the
    # group keeps 7 days.
    member = {
        "CacheClusterId": "group1-002",
        "Engine": "redis",
        "ReplicationGroupId": "group1",
        "SnapshotRetentionLimit": 0,
    }
    group = {"ReplicationGroupId": "group1", "SnapshotRetentionLimit": 7, "AutomaticFailover": "enabled"}
    session = StubSession(
        "elasticache",
        [
            ("describe_cache_clusters", {"CacheClusters": [member]}),
            ("describe_replication_groups", {"ReplicationGroups": [group]}),
        ],
    )
    resource = Resource.of_arn(
        f"arn:aws:elasticache:{REGION}:{ACCOUNT}:cluster:group1-002", "AwsElastiCacheCacheCluster"
    )
    verdict = _verdict("ElastiCache.1", resource, session=session)
    assert verdict.status is Status.PASSED, verdict.reason
    assert "replication group 'group1'" in verdict.reason
    session.stubber.assert_no_pending_responses()


def test_elasticache1_memcached_cluster_is_not_applicable(elasticache):
    verdict = _verdict("ElastiCache.1", _cluster(elasticache, engine="memcached"))
    assert verdict.status is Status.NOT_APPLICABLE
    assert "memcached" in verdict.reason


def test_elasticache1_missing_cluster_is_an_evaluation_error(elasticache):
    gone = Resource.of_arn(f"arn:aws:elasticache:{REGION}:{ACCOUNT}:cluster:gone", "AwsElastiCacheCacheCluster")
    with pytest.raises(EvaluationError, match="gone"):
        _verdict("ElastiCache.1", gone)


# ----------------------------------------------------------------------------- ElastiCache.2


def test_elasticache2_auto_minor_version_upgrade(elasticache):
    off = _cluster(elasticache, "off", AutoMinorVersionUpgrade=False)
    on = _cluster(elasticache, "on", AutoMinorVersionUpgrade=True)
    verdict = _verdict("ElastiCache.2", off)
    assert verdict.status is Status.FAILED
    assert verdict.reason == "AutoMinorVersionUpgrade is false"
    assert _verdict("ElastiCache.2", on).status is Status.PASSED


def test_elasticache2_memcached_cluster_is_not_applicable(elasticache):
    verdict = _verdict("ElastiCache.2", _cluster(elasticache, engine="memcached", AutoMinorVersionUpgrade=False))
    assert verdict.status is Status.NOT_APPLICABLE


def test_elasticache2_valkey_cluster_is_evaluated(elasticache):
    verdict = _verdict("ElastiCache.2", _cluster(elasticache, engine="valkey", AutoMinorVersionUpgrade=False))
    assert verdict.status is Status.FAILED
    assert verdict.reason == "AutoMinorVersionUpgrade is false"


# ----------------------------------------------------------------------------- ElastiCache.3


def test_elasticache3_automatic_failover(elasticache):
    on = _group(elasticache, "on", AutomaticFailoverEnabled=True)
    off = _group(elasticache, "off", AutomaticFailoverEnabled=False)
    assert _verdict("ElastiCache.3", on).status is Status.PASSED
    verdict = _verdict("ElastiCache.3", off)
    assert verdict.status is Status.FAILED
    assert verdict.reason == "AutomaticFailover is 'disabled'"


def test_elasticache3_missing_group_is_an_evaluation_error(elasticache):
    gone = Resource.of_arn(
        f"arn:aws:elasticache:{REGION}:{ACCOUNT}:replicationgroup:gone", "AwsElastiCacheReplicationGroup"
    )
    with pytest.raises(EvaluationError, match="gone"):
        _verdict("ElastiCache.3", gone)
