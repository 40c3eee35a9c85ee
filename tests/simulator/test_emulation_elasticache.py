"""asr/simulator/emulation/elasticache.py through boto3 under moto: ModifyCacheCluster."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from asr.simulator import emulation
from tests.conftest import REGION


@pytest.fixture
def elasticache():
    emulation.install()
    with mock_aws():
        client = boto3.client("elasticache", region_name=REGION)
        for name, engine in (("redis1", "redis"), ("other", "redis"), ("memc", "memcached")):
            client.create_cache_cluster(
                CacheClusterId=name,
                Engine=engine,
                CacheNodeType="cache.t3.micro",
                NumCacheNodes=1,
                AutoMinorVersionUpgrade=False,
            )
        yield client


def _cluster(elasticache, name: str) -> dict:
    return elasticache.describe_cache_clusters(CacheClusterId=name)["CacheClusters"][0]


def test_settings_change_on_the_named_cluster_only(elasticache):
    out = elasticache.modify_cache_cluster(
        CacheClusterId="redis1",
        AutoMinorVersionUpgrade=True,
        SnapshotRetentionLimit=7,
        SnapshotWindow="03:00-04:00",
        PreferredMaintenanceWindow="sun:05:00-sun:06:00",
        ApplyImmediately=True,
    )["CacheCluster"]
    assert out["CacheClusterId"] == "redis1" and out["AutoMinorVersionUpgrade"] is True
    cluster = _cluster(elasticache, "redis1")
    assert (
        cluster["AutoMinorVersionUpgrade"],
        cluster["SnapshotRetentionLimit"],
        cluster["SnapshotWindow"],
        cluster["PreferredMaintenanceWindow"],
    ) == (True, 7, "03:00-04:00", "sun:05:00-sun:06:00")
    other = _cluster(elasticache, "other")
    assert (other["AutoMinorVersionUpgrade"], other["SnapshotRetentionLimit"]) == (False, 0)


def test_an_unknown_cluster_is_not_found(elasticache):
    with pytest.raises(ClientError) as err:
        elasticache.modify_cache_cluster(CacheClusterId="nope", AutoMinorVersionUpgrade=True)
    assert err.value.response["Error"]["Code"] == "CacheClusterNotFound"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


@pytest.mark.parametrize(
    ("cluster", "change", "code", "named"),
    [
        ("redis1", {"SnapshotRetentionLimit": 36}, "InvalidParameterValue", "SnapshotRetentionLimit"),
        ("redis1", {"SnapshotWindow": "3-4"}, "InvalidParameterValue", "SnapshotWindow"),
        ("redis1", {"PreferredMaintenanceWindow": "sunday"}, "InvalidParameterValue", "PreferredMaintenanceWindow"),
        ("memc", {"SnapshotRetentionLimit": 1}, "InvalidParameterCombination", "SnapshotRetentionLimit"),
        ("redis1", {"NumCacheNodes": 2}, "InvalidParameterValue", "NumCacheNodes"),
    ],
    ids=["retention-over-35", "snapshot-window", "maintenance-window", "memcached-backups", "not-emulated"],
)
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(elasticache, cluster, change, code, named):
    before = _cluster(elasticache, cluster)
    with pytest.raises(ClientError) as err:
        elasticache.modify_cache_cluster(CacheClusterId=cluster, AutoMinorVersionUpgrade=True, **change)
    assert err.value.response["Error"]["Code"] == code
    assert named in err.value.response["Error"]["Message"]
    assert _cluster(elasticache, cluster) == before


def test_a_cluster_that_is_not_available_cannot_be_modified(elasticache):
    elasticache.delete_cache_cluster(CacheClusterId="other")  # moto leaves it "deleting"
    with pytest.raises(ClientError) as err:
        elasticache.modify_cache_cluster(CacheClusterId="other", AutoMinorVersionUpgrade=True)
    assert err.value.response["Error"]["Code"] == "InvalidCacheClusterState"
