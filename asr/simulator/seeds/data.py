"""Seeders for the data-store controls: Amazon RDS, Amazon Redshift, Amazon DynamoDB, Amazon ElastiCache.

Each seeder builds the noncompliant shape its control's documentation describes, next to a
bystander of the same kind (which must stay as it was) and with settings of the target the
remediation must not touch. RDS.4 (no API encrypts a snapshot in place) is seeded with
``Seeded.replaced_by``: the encrypted copy replaces the deleted snapshot. Controls not seeded here, and why:

* ElastiCache.2, and ElastiCache.1 on a cluster outside a replication group -- moto (5.2) has no
  ModifyCacheCluster, so no run can change a cache cluster's own settings;
  tests/remediations/test_enable_elasticache_version_upgrades.py and test_enable_elasticache_backups.py
  prove those calls with botocore's Stubber.
"""

from __future__ import annotations

import json
from typing import Any

from asr import solution
from asr.controls import Resource
from asr.simulator.seeds import Seeded, Where, seeder

PASSWORD = "seeded-password-1"  # moto only
_INSTANCE_KEYS = (
    "PubliclyAccessible",
    "MultiAZ",
    "DeletionProtection",
    "AutoMinorVersionUpgrade",
    "MonitoringInterval",
    "BackupRetentionPeriod",
    "DBInstanceClass",
    "Engine",
    "StorageEncrypted",
)
_CLUSTER_KEYS = (
    "DeletionProtection",
    "CopyTagsToSnapshot",
    "BackupRetentionPeriod",
    "StorageEncrypted",
    "IAMDatabaseAuthenticationEnabled",
    "EngineVersion",
    "Engine",
)


# --------------------------------------------------------------------------- RDS


def _rds_instance(rds: Any, name: str, **settings: Any) -> dict[str, Any]:
    settings.setdefault("Engine", "postgres")
    return rds.create_db_instance(
        DBInstanceIdentifier=name,
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="admin1",
        MasterUserPassword=PASSWORD,
        BackupRetentionPeriod=7,
        Tags=[{"Key": "team", "Value": "data"}],
        **settings,
    )["DBInstance"]


def _rds_cluster(rds: Any, name: str, **settings: Any) -> dict[str, Any]:
    return rds.create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        MasterUsername="admin1",
        MasterUserPassword=PASSWORD,
        BackupRetentionPeriod=7,
        Tags=[{"Key": "team", "Value": "data"}],
        **settings,
    )["DBCluster"]


def _instance_settings(rds: Any, name: str) -> dict[str, Any]:
    db = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    return {key: db.get(key) for key in _INSTANCE_KEYS}


def _cluster_settings(rds: Any, name: str) -> dict[str, Any]:
    cluster = rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]
    return {key: cluster.get(key) for key in _CLUSTER_KEYS}


def _instance_shape(where: Where, name: str, changed: str, **settings: Any) -> Seeded:
    """A DB instance with ``settings`` (the noncompliant ones), a bystander instance with the same,
    and the instance's other settings kept as bystanders; ``changed`` is what the remediation fixes."""
    rds = where.client("rds")
    db = _rds_instance(rds, name, **settings)
    _rds_instance(rds, f"{name}-bystander", **settings)
    return Seeded(
        resource=Resource.of_arn(db["DBInstanceArn"], "AwsRdsDbInstance"),
        state=lambda: _instance_settings(rds, name)[changed],
        bystanders=lambda: (
            {k: v for k, v in _instance_settings(rds, name).items() if k != changed},
            _instance_settings(rds, f"{name}-bystander"),
            rds.list_tags_for_resource(ResourceName=db["DBInstanceArn"])["TagList"],
        ),
    )


def _cluster_shape(where: Where, name: str, changed: str, **settings: Any) -> Seeded:
    rds = where.client("rds")
    cluster = _rds_cluster(rds, name, **settings)
    _rds_cluster(rds, f"{name}-bystander", **settings)
    return Seeded(
        resource=Resource.of_arn(cluster["DBClusterArn"], "AwsRdsDbCluster"),
        state=lambda: _cluster_settings(rds, name)[changed],
        bystanders=lambda: (
            {k: v for k, v in _cluster_settings(rds, name).items() if k != changed},
            _cluster_settings(rds, f"{name}-bystander"),
            rds.list_tags_for_resource(ResourceName=cluster["DBClusterArn"])["TagList"],
        ),
    )


def _restore(rds: Any, cluster: bool, ident: str) -> list[str]:
    if cluster:
        result = rds.describe_db_cluster_snapshot_attributes(DBClusterSnapshotIdentifier=ident)[
            "DBClusterSnapshotAttributesResult"
        ]["DBClusterSnapshotAttributes"]
    else:
        result = rds.describe_db_snapshot_attributes(DBSnapshotIdentifier=ident)["DBSnapshotAttributesResult"][
            "DBSnapshotAttributes"
        ]
    return sorted(v for a in result if a["AttributeName"] == "restore" for v in a.get("AttributeValues", []))


def _public_snapshot(where: Where, cluster: bool) -> Seeded:
    """A manual snapshot shared with everyone ('all') and with one named account; a second public
    snapshot is the bystander. Only 'all' may go: the named account stays."""
    rds = where.client("rds")
    partner = "444455556666"
    if cluster:
        _rds_cluster(rds, "seeded-rds1-cluster")
        idents = ("seeded-rds1-csnap", "seeded-rds1-csnap-bystander")
        arns = [
            rds.create_db_cluster_snapshot(DBClusterSnapshotIdentifier=i, DBClusterIdentifier="seeded-rds1-cluster")[
                "DBClusterSnapshot"
            ]["DBClusterSnapshotArn"]
            for i in idents
        ]
        for ident in idents:
            rds.modify_db_cluster_snapshot_attribute(
                DBClusterSnapshotIdentifier=ident, AttributeName="restore", ValuesToAdd=["all", partner]
            )
    else:
        _rds_instance(rds, "seeded-rds1-db")
        idents = ("seeded-rds1-snap", "seeded-rds1-snap-bystander")
        arns = [
            rds.create_db_snapshot(DBSnapshotIdentifier=i, DBInstanceIdentifier="seeded-rds1-db")["DBSnapshot"][
                "DBSnapshotArn"
            ]
            for i in idents
        ]
        for ident in idents:
            rds.modify_db_snapshot_attribute(
                DBSnapshotIdentifier=ident, AttributeName="restore", ValuesToAdd=["all", partner]
            )
    return Seeded(
        resource=Resource.of_arn(arns[0], "AwsRdsDbClusterSnapshot" if cluster else "AwsRdsDbSnapshot"),
        state=lambda: _restore(rds, cluster, idents[0]),
        bystanders=lambda: ([v for v in _restore(rds, cluster, idents[0]) if v != "all"],
                            _restore(rds, cluster, idents[1])),
    )


@seeder("RDS.1")
def public_db_snapshot(where: Where) -> Seeded:
    return _public_snapshot(where, cluster=False)


@seeder("RDS.1", shape="cluster-snapshot")
def public_db_cluster_snapshot(where: Where) -> Seeded:
    return _public_snapshot(where, cluster=True)


@seeder("RDS.2")
def public_instance(where: Where) -> Seeded:
    return _instance_shape(where, "seeded-rds2", "PubliclyAccessible", PubliclyAccessible=True)


@seeder("RDS.5")
def single_az_instance(where: Where) -> Seeded:
    return _instance_shape(where, "seeded-rds5", "MultiAZ", MultiAZ=False)


@seeder("RDS.6")
def unmonitored_instance(where: Where) -> Seeded:
    return _instance_shape(where, "seeded-rds6", "MonitoringInterval", MonitoringInterval=0)


@seeder("RDS.7")
def unprotected_cluster(where: Where) -> Seeded:
    return _cluster_shape(where, "seeded-rds7", "DeletionProtection", DeletionProtection=False)


@seeder("RDS.8")
def unprotected_instance(where: Where) -> Seeded:
    return _instance_shape(where, "seeded-rds8", "DeletionProtection", DeletionProtection=False)


@seeder("RDS.13")
def no_minor_upgrades_instance(where: Where) -> Seeded:
    return _instance_shape(where, "seeded-rds13", "AutoMinorVersionUpgrade", AutoMinorVersionUpgrade=False)


@seeder("RDS.16")
def cluster_not_copying_tags(where: Where) -> Seeded:
    return _cluster_shape(where, "seeded-rds16", "CopyTagsToSnapshot", CopyTagsToSnapshot=False)


# --------------------------------------------------------------------------- Redshift

_REDSHIFT_KEYS = (
    "PubliclyAccessible",
    "AutomatedSnapshotRetentionPeriod",
    "AllowVersionUpgrade",
    "Encrypted",
    "NodeType",
    "NumberOfNodes",
    "PreferredMaintenanceWindow",
)


def _redshift_settings(redshift: Any, name: str) -> dict[str, Any]:
    cluster = redshift.describe_clusters(ClusterIdentifier=name)["Clusters"][0]
    return {key: cluster.get(key) for key in _REDSHIFT_KEYS}


def _logging(redshift: Any, name: str) -> dict[str, Any]:
    status = redshift.describe_logging_status(ClusterIdentifier=name)
    status.pop("ResponseMetadata", None)
    return status


def _redshift_shape(where: Where, name: str, changed: str, **settings: Any) -> Seeded:
    redshift = where.client("redshift")
    for ident in (name, f"{name}-bystander"):
        redshift.create_cluster(
            ClusterIdentifier=ident,
            NodeType="ra3.xlplus",
            ClusterType="multi-node",
            NumberOfNodes=2,
            MasterUsername="admin1",
            MasterUserPassword="Seeded-Password-1",
            Encrypted=True,
            PreferredMaintenanceWindow="sun:05:00-sun:05:30",
            Tags=[{"Key": "team", "Value": "analytics"}],
            **settings,
        )
    arn = f"arn:{where.partition}:redshift:{where.region}:{where.account}:cluster:{name}"

    def read(ident: str) -> dict[str, Any]:
        return {**_redshift_settings(redshift, ident), "Logging": _logging(redshift, ident)}

    return Seeded(
        resource=Resource.of_arn(arn, "AwsRedshiftCluster"),
        state=lambda: read(name)[changed],
        bystanders=lambda: ({k: v for k, v in read(name).items() if k != changed}, read(f"{name}-bystander")),
    )


@seeder("Redshift.1")
def public_redshift_cluster(where: Where) -> Seeded:
    return _redshift_shape(where, "seeded-redshift1", "PubliclyAccessible", PubliclyAccessible=True)


@seeder("Redshift.3")
def redshift_without_snapshots(where: Where) -> Seeded:
    return _redshift_shape(
        where, "seeded-redshift3", "AutomatedSnapshotRetentionPeriod", AutomatedSnapshotRetentionPeriod=0
    )


@seeder("Redshift.3", shape="short-retention")
def redshift_short_retention(where: Where) -> Seeded:
    """Automated snapshots on, but kept fewer days than MinRetentionPeriod (7)."""
    return _redshift_shape(
        where, "seeded-redshift3-short", "AutomatedSnapshotRetentionPeriod", AutomatedSnapshotRetentionPeriod=1
    )


@seeder("Redshift.4")
def redshift_without_audit_logging(where: Where) -> Seeded:
    """Audit logging off; the account has the audit-log bucket the member stack creates (its name in
    the SSM parameter the remediation reads), with the policy that lets Redshift write to it."""
    bucket = where.client("ssm").get_parameter(Name=solution.SSM_REDSHIFT_4_BUCKET)["Parameter"]["Value"]
    s3 = where.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "redshift.amazonaws.com"},
                        "Action": ["s3:GetBucketAcl", "s3:PutObject"],
                        "Resource": [f"arn:{where.partition}:s3:::{bucket}", f"arn:{where.partition}:s3:::{bucket}/*"],
                    }
                ],
            }
        ),
    )
    return _redshift_shape(where, "seeded-redshift4", "Logging")


@seeder("Redshift.6")
def redshift_without_version_upgrades(where: Where) -> Seeded:
    return _redshift_shape(where, "seeded-redshift6", "AllowVersionUpgrade", AllowVersionUpgrade=False)


# --------------------------------------------------------------------------- DynamoDB


def _table(dynamodb: Any, name: str, *, gsi: bool = False, **settings: Any) -> dict[str, Any]:
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    extra: dict[str, Any] = {}
    if gsi:
        attributes.append({"AttributeName": "owner", "AttributeType": "S"})
        extra["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "by-owner",
                "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 2},
            }
        ]
    table = dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=attributes,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 3},
        **extra,
        **settings,
    )["TableDescription"]
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "item-1"}, "owner": {"S": "alice"}})
    return table


def _table_state(dynamodb: Any, name: str) -> dict[str, Any]:
    table = dynamodb.describe_table(TableName=name)["Table"]
    return {
        "DeletionProtectionEnabled": table.get("DeletionProtectionEnabled"),
        "BillingMode": table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
        "ProvisionedThroughput": {
            k: v for k, v in table["ProvisionedThroughput"].items() if k.endswith("CapacityUnits")
        },
        "Tags": sorted(
            (t["Key"], t["Value"]) for t in dynamodb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]
        ),
        "Items": dynamodb.scan(TableName=name)["Items"],
    }


def _scaling(autoscaling: Any, name: str) -> dict[str, Any]:
    """The table's (and its indexes') scalable targets and scaling policies."""
    prefix = f"table/{name}"
    targets = [
        (t["ResourceId"], t["ScalableDimension"], t["MinCapacity"], t["MaxCapacity"])
        for t in autoscaling.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
        if t["ResourceId"] == prefix or t["ResourceId"].startswith(f"{prefix}/index/")
    ]
    policies = [
        (p["ResourceId"], p["ScalableDimension"], p["PolicyName"],
         p.get("TargetTrackingScalingPolicyConfiguration", {}).get("TargetValue"))
        for p in autoscaling.describe_scaling_policies(ServiceNamespace="dynamodb")["ScalingPolicies"]
        if p["ResourceId"] == prefix or p["ResourceId"].startswith(f"{prefix}/index/")
    ]
    return {"targets": sorted(targets), "policies": sorted(policies)}


def _dynamodb_shape(where: Where, name: str, changed: tuple[str, ...], **settings: Any) -> Seeded:
    dynamodb = where.client("dynamodb")
    autoscaling = where.client("application-autoscaling")
    table = _table(dynamodb, name, **settings)
    _table(dynamodb, f"{name}-bystander", **settings)

    def read(ident: str) -> dict[str, Any]:
        return {**_table_state(dynamodb, ident), "Scaling": _scaling(autoscaling, ident)}

    return Seeded(
        resource=Resource.of_arn(table["TableArn"], "AwsDynamoDbTable"),
        state=lambda: {k: v for k, v in read(name).items() if k in changed},
        bystanders=lambda: ({k: v for k, v in read(name).items() if k not in changed}, read(f"{name}-bystander")),
    )


@seeder("DynamoDB.1")
def table_without_autoscaling(where: Where) -> Seeded:
    """A provisioned-capacity table without auto scaling (no scalable targets)."""
    return _dynamodb_shape(where, "seeded-ddb1", ("Scaling",))


@seeder("DynamoDB.1", shape="provisioned-gsi")
def table_and_index_without_autoscaling(where: Where) -> Seeded:
    """A provisioned table with a global secondary index: the index's read and write capacity need
    auto scaling too (the Config rule evaluates each GSI)."""
    return _dynamodb_shape(where, "seeded-ddb1-gsi", ("Scaling",), gsi=True)


@seeder("DynamoDB.5")
def untagged_table(where: Where) -> Seeded:
    return _dynamodb_shape(where, "seeded-ddb5", ("Tags",))


@seeder("DynamoDB.6")
def table_without_deletion_protection(where: Where) -> Seeded:
    return _dynamodb_shape(where, "seeded-ddb6", ("DeletionProtectionEnabled",), DeletionProtectionEnabled=False)


# --------------------------------------------------------------------------- ElastiCache

_GROUP_KEYS = ("SnapshotRetentionLimit", "AutomaticFailover", "MultiAZ", "CacheNodeType", "MemberClusters",
               "AtRestEncryptionEnabled", "TransitEncryptionEnabled", "Status")


def _replication_group(elasticache: Any, name: str, **settings: Any) -> dict[str, Any]:
    return elasticache.create_replication_group(
        ReplicationGroupId=name,
        ReplicationGroupDescription="seeded",
        Engine="redis",
        CacheNodeType="cache.t3.micro",
        ReplicasPerNodeGroup=1,
        AtRestEncryptionEnabled=True,
        TransitEncryptionEnabled=True,
        Tags=[{"Key": "team", "Value": "cache"}],
        **settings,
    )["ReplicationGroup"]


def _group_settings(elasticache: Any, name: str) -> dict[str, Any]:
    group = elasticache.describe_replication_groups(ReplicationGroupId=name)["ReplicationGroups"][0]
    return {key: group.get(key) for key in _GROUP_KEYS}


def _group_shape(where: Where, name: str, changed: str, member: bool = False, **settings: Any) -> Seeded:
    elasticache = where.client("elasticache")
    group = _replication_group(elasticache, name, **settings)
    _replication_group(elasticache, f"{name}-bystander", **settings)
    resource = Resource.of_arn(group["ARN"], "AwsElastiCacheReplicationGroup")
    if member:
        # a read replica added to the group (CreateCacheCluster with ReplicationGroupId): the finding names
        # the cache cluster, whose backups are the group's.
        cluster = elasticache.create_cache_cluster(
            CacheClusterId=f"{name}-003", ReplicationGroupId=name, Engine="redis", CacheNodeType="cache.t3.micro"
        )["CacheCluster"]
        resource = Resource.of_arn(cluster["ARN"], "AwsElastiCacheCacheCluster")
    return Seeded(
        resource=resource,
        state=lambda: _group_settings(elasticache, name)[changed],
        bystanders=lambda: (
            {k: v for k, v in _group_settings(elasticache, name).items() if k != changed},
            _group_settings(elasticache, f"{name}-bystander"),
        ),
    )


@seeder("ElastiCache.1")
def replication_group_without_backups(where: Where) -> Seeded:
    return _group_shape(where, "seeded-ec1", "SnapshotRetentionLimit", SnapshotRetentionLimit=0)


@seeder("ElastiCache.1", shape="cluster-in-replication-group")
def member_cluster_without_backups(where: Where) -> Seeded:
    """The finding names a cache cluster of a replication group: its backups are set on the group."""
    return _group_shape(where, "seeded-ec1-member", "SnapshotRetentionLimit", member=True, SnapshotRetentionLimit=0)


@seeder("ElastiCache.3")
def replication_group_without_failover(where: Where) -> Seeded:
    return _group_shape(where, "seeded-ec3", "AutomaticFailover", AutomaticFailoverEnabled=False)


# --------------------------------------------------------------------------- RDS.4 (replaced snapshots)


def _snapshots_of(rds: Any, cluster: bool, owner: str) -> list[dict[str, Any]]:
    """Every manual snapshot of DB instance (or cluster) ``owner``."""
    if cluster:
        pages = rds.get_paginator("describe_db_cluster_snapshots").paginate(SnapshotType="manual")
        found = [s for page in pages for s in page["DBClusterSnapshots"] if s["DBClusterIdentifier"] == owner]
    else:
        pages = rds.get_paginator("describe_db_snapshots").paginate(SnapshotType="manual")
        found = [s for page in pages for s in page["DBSnapshots"] if s["DBInstanceIdentifier"] == owner]
    return sorted(found, key=lambda s: s["DBClusterSnapshotIdentifier" if cluster else "DBSnapshotIdentifier"])


def _unencrypted_snapshot(where: Where, cluster: bool, shared_with: str = "") -> Seeded:
    """An unencrypted manual snapshot (tagged), and a second one of the same database as the bystander;
    ``shared_with``: the snapshot is shared with that account (its restore attribute)."""
    rds = where.client("rds")
    kind = "AwsRdsDbClusterSnapshot" if cluster else "AwsRdsDbSnapshot"
    ident_key = "DBClusterSnapshotIdentifier" if cluster else "DBSnapshotIdentifier"
    arn_key = "DBClusterSnapshotArn" if cluster else "DBSnapshotArn"
    encrypted_key = "StorageEncrypted" if cluster else "Encrypted"
    tags = [{"Key": "owner", "Value": "data-team"}]
    if cluster:
        owner = "seeded-rds4-cluster"
        _rds_cluster(rds, owner)
        idents = ("seeded-rds4-csnap", "seeded-rds4-csnap-bystander")
        for ident in idents:
            rds.create_db_cluster_snapshot(DBClusterSnapshotIdentifier=ident, DBClusterIdentifier=owner, Tags=tags)
    else:
        owner = "seeded-rds4-db"
        _rds_instance(rds, owner)
        idents = ("seeded-rds4-snap", "seeded-rds4-snap-bystander")
        for ident in idents:
            rds.create_db_snapshot(DBSnapshotIdentifier=ident, DBInstanceIdentifier=owner, Tags=tags)
    if shared_with:
        modify = rds.modify_db_cluster_snapshot_attribute if cluster else rds.modify_db_snapshot_attribute
        modify(**{ident_key: idents[0]}, AttributeName="restore", ValuesToAdd=[shared_with])
    snapshots = {s[ident_key]: s for s in _snapshots_of(rds, cluster, owner)}
    arn = snapshots[idents[0]][arn_key]

    def view() -> list[tuple[str, bool, str, list[str]]]:
        return [
            (s[ident_key], bool(s.get(encrypted_key)), s.get("Status", ""), _restore(rds, cluster, s[ident_key]))
            for s in _snapshots_of(rds, cluster, owner)
        ]

    def copies() -> list[dict[str, Any]]:
        return [s for s in _snapshots_of(rds, cluster, owner) if s[ident_key] not in idents]

    def replacement() -> Resource:
        made = copies()
        if len(made) != 1:
            raise LookupError(f"expected one snapshot of {owner} to replace {idents[0]}, found {len(made)}")
        return Resource.of_arn(made[0][arn_key], kind)

    def standing_tags() -> list[dict[str, str]]:
        """Tags of the snapshot standing for the finding's: the original, then its copy."""
        made = copies()
        standing = made[0][arn_key] if made else arn
        return sorted(rds.list_tags_for_resource(ResourceName=standing)["TagList"], key=lambda t: t["Key"])

    def owner_settings() -> dict[str, Any]:
        return _cluster_settings(rds, owner) if cluster else _instance_settings(rds, owner)

    return Seeded(
        resource=Resource.of_arn(arn, kind),
        state=view,
        bystanders=lambda: (
            next(v for v in view() if v[0] == idents[1]),
            standing_tags(),
            owner_settings(),
        ),
        replaced_by=replacement,
        exists=lambda: any(v[0] == idents[0] for v in view()),
    )


@seeder("RDS.4")
def unencrypted_db_snapshot(where: Where) -> Seeded:
    return _unencrypted_snapshot(where, cluster=False)


@seeder("RDS.4", shape="cluster-snapshot")
def unencrypted_db_cluster_snapshot(where: Where) -> Seeded:
    return _unencrypted_snapshot(where, cluster=True)


@seeder("RDS.4", shape="shared-snapshot", refused="cannot be shared")
def unencrypted_shared_db_snapshot(where: Where) -> Seeded:
    """Shared with another account. The playbooks encrypt with the AWS managed key (alias/aws/rds), and
    a snapshot encrypted with it cannot be shared
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/share-encrypted-snapshot.html): deleting the
    source would cut the account off, so the remediation must refuse, copying nothing."""
    return _unencrypted_snapshot(where, cluster=False, shared_with="444455556666")


# --------------------------------------------------------------------------- ElastiCache.2 (cache clusters)

_CACHE_CLUSTER_KEYS = (
    "AutoMinorVersionUpgrade",
    "Engine",
    "EngineVersion",
    "CacheNodeType",
    "NumCacheNodes",
    "SnapshotRetentionLimit",
    "SnapshotWindow",
    "PreferredMaintenanceWindow",
    "CacheClusterStatus",
    "ReplicationGroupId",
)


def _cache_cluster_settings(elasticache: Any, name: str) -> dict[str, Any]:
    cluster = elasticache.describe_cache_clusters(CacheClusterId=name)["CacheClusters"][0]
    return {key: cluster.get(key) for key in _CACHE_CLUSTER_KEYS}


@seeder("ElastiCache.2")
def cluster_without_minor_version_upgrades(where: Where) -> Seeded:
    """A standalone Redis OSS cache cluster (backups, maintenance window, tags) with automatic minor version
    upgrades off; another such cluster stays as it is, and so do the cluster's other settings and tags."""
    elasticache = where.client("elasticache")
    arns = []
    for name in ("seeded-ec2", "seeded-ec2-bystander"):
        arns.append(
            elasticache.create_cache_cluster(
                CacheClusterId=name,
                Engine="redis",
                EngineVersion="7.1",
                CacheNodeType="cache.t3.micro",
                NumCacheNodes=1,
                AutoMinorVersionUpgrade=False,
                SnapshotRetentionLimit=3,
                SnapshotWindow="03:00-04:00",
                PreferredMaintenanceWindow="sun:05:00-sun:06:00",
                Tags=[{"Key": "team", "Value": "cache"}],
            )["CacheCluster"]["ARN"]
        )
    changed = "AutoMinorVersionUpgrade"
    return Seeded(
        resource=Resource.of_arn(arns[0], "AwsElastiCacheCacheCluster"),
        state=lambda: _cache_cluster_settings(elasticache, "seeded-ec2")[changed],
        bystanders=lambda: (
            {k: v for k, v in _cache_cluster_settings(elasticache, "seeded-ec2").items() if k != changed},
            _cache_cluster_settings(elasticache, "seeded-ec2-bystander"),
            elasticache.list_tags_for_resource(ResourceName=arns[0])["TagList"],
        ),
    )
