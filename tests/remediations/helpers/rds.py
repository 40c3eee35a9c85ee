"""RDS builders and read-backs on moto: DB instances, Aurora clusters, Multi-AZ DB clusters."""

from __future__ import annotations

from typing import Any

from tests.conftest import ACCOUNT, REGION

MASTER = {"MasterUsername": "admin1", "MasterUserPassword": "password123"}

# The settings a remediation must leave alone, compared before and after a run ("nothing else changed").
INSTANCE_KEYS = ("PubliclyAccessible", "MultiAZ", "DeletionProtection", "AutoMinorVersionUpgrade",
                 "MonitoringInterval", "BackupRetentionPeriod", "DBInstanceClass")
CLUSTER_KEYS = ("DeletionProtection", "CopyTagsToSnapshot", "BackupRetentionPeriod", "StorageEncrypted",
                "IAMDatabaseAuthenticationEnabled", "EngineVersion")


def instance_arn(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:rds:{region}:{account}:db:{name}"


def cluster_arn(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:rds:{region}:{account}:cluster:{name}"


def make_instance(rds, name: str, *, engine: str = "postgres", **extra: Any) -> str:
    """A db.t3.micro instance of ``engine``; ``extra`` goes to create_db_instance. Returns its ARN."""
    rds.create_db_instance(DBInstanceIdentifier=name, Engine=engine, DBInstanceClass="db.t3.micro",
                           AllocatedStorage=20, **MASTER, **extra)
    return instance_arn(name)


def make_mysql_instance(rds, name: str, **extra: Any) -> str:
    return make_instance(rds, name, engine="mysql", **extra)


def make_aurora_cluster(rds, name: str, *, engine: str = "aurora-postgresql", **extra: Any) -> str:
    """An Aurora cluster without instances; ``extra`` goes to create_db_cluster. Returns its ARN."""
    rds.create_db_cluster(DBClusterIdentifier=name, Engine=engine, **MASTER, **extra)
    return cluster_arn(name)


def make_aurora_instance(rds, cluster: str, instance: str, *, engine: str) -> str:
    """Aurora cluster ``cluster`` of ``engine`` with one member ``instance``. Returns the instance's ARN."""
    make_aurora_cluster(rds, cluster, engine=engine)
    rds.create_db_instance(DBInstanceIdentifier=instance, Engine=engine, DBInstanceClass="db.r5.large",
                           DBClusterIdentifier=cluster)
    return instance_arn(instance)


def make_multi_az_db_cluster(rds, name: str, **extra: Any) -> str:
    """A (non-Aurora) Multi-AZ DB cluster of postgres, no members; ``extra`` goes to create_db_cluster."""
    rds.create_db_cluster(DBClusterIdentifier=name, Engine="postgres", **MASTER,
                          DBClusterInstanceClass="db.m6gd.large", AllocatedStorage=100, StorageType="io1",
                          Iops=1000, **extra)
    return cluster_arn(name)


def instance_state(rds, name: str, keys: tuple[str, ...] = INSTANCE_KEYS) -> dict[str, Any]:
    db = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    return {k: db.get(k) for k in keys}


def cluster_state(rds, name: str, keys: tuple[str, ...] = CLUSTER_KEYS) -> dict[str, Any]:
    cluster = rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]
    return {k: cluster.get(k) for k in keys}
