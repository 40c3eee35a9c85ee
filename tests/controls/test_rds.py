"""RDS.1, .2, .4, .5, .6, .7, .8, .13, .16 evaluators on moto: the shapes the control documentation names."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from asr.controls import EvaluationError, Resource, Status, evaluate

ACCOUNT, REGION = "111111111111", "us-east-1"
PASSWORD = "not-a-real-password-1"


class StubSession:
    """Hands the evaluator a Stubber-backed client, for shapes moto cannot produce."""

    def __init__(self, service: str, responses: list[tuple[str, dict[str, Any], dict[str, Any] | None]]) -> None:
        self.client_ = boto3.client(service, region_name=REGION)
        self.stubber = Stubber(self.client_)
        for operation, response, expected in responses:
            self.stubber.add_response(operation, response, expected)
        self.stubber.activate()

    def client(self, service: str, region_name: str | None = None) -> Any:
        return self.client_


@pytest.fixture
def rds():
    with mock_aws():
        yield boto3.client("rds", region_name=REGION)


def _instance(rds, ident: str = "db1", engine: str = "mysql", **kwargs) -> Resource:
    arn = rds.create_db_instance(
        DBInstanceIdentifier=ident,
        Engine=engine,
        DBInstanceClass="db.t3.micro",
        MasterUsername="admin",
        MasterUserPassword=PASSWORD,
        AllocatedStorage=20,
        **kwargs,
    )["DBInstance"]["DBInstanceArn"]
    return Resource.of_arn(arn, "AwsRdsDbInstance")


def _cluster(rds, ident: str = "cluster1", **kwargs) -> Resource:
    arn = rds.create_db_cluster(
        DBClusterIdentifier=ident,
        Engine="aurora-postgresql",
        MasterUsername="admin",
        MasterUserPassword=PASSWORD,
        **kwargs,
    )["DBCluster"]["DBClusterArn"]
    return Resource.of_arn(arn, "AwsRdsDbCluster")


def _snapshot(rds, instance: str = "db1", ident: str = "snap1") -> Resource:
    arn = rds.create_db_snapshot(DBSnapshotIdentifier=ident, DBInstanceIdentifier=instance)["DBSnapshot"][
        "DBSnapshotArn"
    ]
    return Resource.of_arn(arn, "AwsRdsDbSnapshot")


def _cluster_snapshot(rds, cluster: str = "cluster1", ident: str = "csnap1") -> Resource:
    arn = rds.create_db_cluster_snapshot(DBClusterSnapshotIdentifier=ident, DBClusterIdentifier=cluster)[
        "DBClusterSnapshot"
    ]["DBClusterSnapshotArn"]
    return Resource.of_arn(arn, "AwsRdsDbClusterSnapshot")


def _verdict(control_id: str, resource: Resource, parameters=None, session=None):
    return evaluate(control_id, session or boto3.Session(), resource, parameters)


# ----------------------------------------------------------------------------- RDS.1


def test_rds1_private_snapshot_passes_and_public_one_fails(rds):
    _instance(rds)
    snap = _snapshot(rds)
    assert _verdict("RDS.1", snap).status is Status.PASSED
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="snap1", AttributeName="restore", ValuesToAdd=["all"])
    verdict = _verdict("RDS.1", snap)
    assert verdict.status is Status.FAILED
    assert "'all'" in verdict.reason


def test_rds1_snapshot_shared_with_one_account_is_not_public(rds):
    _instance(rds)
    snap = _snapshot(rds)
    rds.modify_db_snapshot_attribute(
        DBSnapshotIdentifier="snap1", AttributeName="restore", ValuesToAdd=["222222222222"]
    )
    verdict = _verdict("RDS.1", snap)
    assert verdict.status is Status.PASSED, verdict.reason
    assert "222222222222" in verdict.reason


def test_rds1_public_cluster_snapshot_fails(rds):
    _cluster(rds)
    snap = _cluster_snapshot(rds)
    assert _verdict("RDS.1", snap).status is Status.PASSED
    rds.modify_db_cluster_snapshot_attribute(
        DBClusterSnapshotIdentifier="csnap1", AttributeName="restore", ValuesToAdd=["all"]
    )
    assert _verdict("RDS.1", snap).status is Status.FAILED


def test_rds1_missing_snapshot_is_an_evaluation_error(rds):
    gone = Resource.of_arn(f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:gone", "AwsRdsDbSnapshot")
    with pytest.raises(EvaluationError, match="gone"):
        _verdict("RDS.1", gone)


# ----------------------------------------------------------------------------- RDS.2


def test_rds2_publicly_accessible_instance_fails_private_one_passes(rds):
    public = _instance(rds, "pub", PubliclyAccessible=True)
    private = _instance(rds, "priv", PubliclyAccessible=False)
    verdict = _verdict("RDS.2", public)
    assert verdict.status is Status.FAILED
    assert verdict.reason == "PubliclyAccessible is true"
    assert _verdict("RDS.2", private).status is Status.PASSED


def test_rds2_neptune_instance_is_not_applicable():
    # moto cannot create Neptune instances through the RDS API (KeyError 'neptune'): stub DescribeDBInstances.
    session = StubSession(
        "rds",
        [("describe_db_instances", {"DBInstances": [{"DBInstanceIdentifier": "n1", "Engine": "neptune"}]}, None)],
    )
    resource = Resource.of_arn(f"arn:aws:rds:{REGION}:{ACCOUNT}:db:n1", "AwsRdsDbInstance")
    verdict = _verdict("RDS.2", resource, session=session)
    assert verdict.status is Status.NOT_APPLICABLE
    assert "neptune" in verdict.reason


def test_rds2_missing_instance_is_an_evaluation_error(rds):
    gone = Resource.of_arn(f"arn:aws:rds:{REGION}:{ACCOUNT}:db:gone", "AwsRdsDbInstance")
    with pytest.raises(EvaluationError, match="gone"):
        _verdict("RDS.2", gone)


# ----------------------------------------------------------------------------- RDS.4


def test_rds4_unencrypted_snapshot_fails_encrypted_one_passes(rds):
    _instance(rds, "plain")
    _instance(rds, "secret", engine="postgres", StorageEncrypted=True)
    plain = _snapshot(rds, "plain", "plain-snap")
    secret = _snapshot(rds, "secret", "secret-snap")
    verdict = _verdict("RDS.4", plain)
    assert verdict.status is Status.FAILED
    assert verdict.reason == "Encrypted is false"
    assert _verdict("RDS.4", secret).status is Status.PASSED


def test_rds4_cluster_snapshot_judged_by_storage_encrypted(rds):
    _cluster(rds, "plain")
    _cluster(rds, "secret", StorageEncrypted=True)
    verdict = _verdict("RDS.4", _cluster_snapshot(rds, "plain", "plain-snap"))
    assert verdict.status is Status.FAILED
    assert verdict.reason == "StorageEncrypted is false"
    assert _verdict("RDS.4", _cluster_snapshot(rds, "secret", "secret-snap")).status is Status.PASSED


def test_rds4_deleted_snapshot_cannot_be_judged_its_encrypted_copy_passes(rds):
    """What RDS.4's remediation leaves: the unencrypted snapshot deleted (nothing to judge: an error,
    never a pass) and an encrypted copy, judged on its own."""
    _instance(rds, "plain")
    plain = _snapshot(rds, "plain", "plain-snap")
    copy = rds.copy_db_snapshot(
        SourceDBSnapshotIdentifier="plain-snap",
        TargetDBSnapshotIdentifier="plain-snap-encrypted",
        KmsKeyId="alias/aws/rds",
    )["DBSnapshot"]
    rds.delete_db_snapshot(DBSnapshotIdentifier="plain-snap")
    with pytest.raises(EvaluationError, match="plain-snap"):
        _verdict("RDS.4", plain)
    assert _verdict("RDS.4", Resource.of_arn(copy["DBSnapshotArn"], "AwsRdsDbSnapshot")).status is Status.PASSED


def test_rds4_automated_snapshot_is_looked_up_with_its_snapshot_type():
    # moto does not create automated snapshots; the identifier has a colon ("rds:...") and
    # DescribeDBSnapshots finds an automated snapshot only with SnapshotType=automated.
    ident = "rds:db1-2024-01-01-00-00"
    session = StubSession(
        "rds",
        [
            (
                "describe_db_snapshots",
                {"DBSnapshots": [{"DBSnapshotIdentifier": ident, "Encrypted": False}]},
                {"DBSnapshotIdentifier": ident, "SnapshotType": "automated"},
            )
        ],
    )
    resource = Resource.of_arn(f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:{ident}", "AwsRdsDbSnapshot")
    assert _verdict("RDS.4", resource, session=session).status is Status.FAILED
    session.stubber.assert_no_pending_responses()


# ----------------------------------------------------------------------------- RDS.5


def test_rds5_single_az_instance_fails_multi_az_one_passes(rds):
    single = _instance(rds, "single")
    multi = _instance(rds, "multi", MultiAZ=True)
    verdict = _verdict("RDS.5", single)
    assert verdict.status is Status.FAILED
    assert verdict.reason == "MultiAZ is false"
    assert _verdict("RDS.5", multi).status is Status.PASSED


def test_rds5_pending_multi_az_modification_does_not_count():
    # moto applies ModifyDBInstance at once even without ApplyImmediately, so it never shows a
    # pending MultiAZ change: stub the instance as RDS reports it before the maintenance window.
    instance = {
        "DBInstanceIdentifier": "db1",
        "Engine": "mysql",
        "MultiAZ": False,
        "PendingModifiedValues": {"MultiAZ": True},
    }
    session = StubSession("rds", [("describe_db_instances", {"DBInstances": [instance]}, None)])
    resource = Resource.of_arn(f"arn:aws:rds:{REGION}:{ACCOUNT}:db:db1", "AwsRdsDbInstance")
    verdict = _verdict("RDS.5", resource, session=session)
    assert verdict.status is Status.FAILED
    assert "pending" in verdict.reason


def test_rds5_aurora_instance_is_not_applicable(rds):
    _cluster(rds)
    arn = rds.create_db_instance(
        DBInstanceIdentifier="member",
        Engine="aurora-postgresql",
        DBInstanceClass="db.r5.large",
        DBClusterIdentifier="cluster1",
    )["DBInstance"]["DBInstanceArn"]
    verdict = _verdict("RDS.5", Resource.of_arn(arn, "AwsRdsDbInstance"))
    assert verdict.status is Status.NOT_APPLICABLE
    assert "aurora-postgresql" in verdict.reason


# ----------------------------------------------------------------------------- RDS.6

ROLE = f"arn:aws:iam::{ACCOUNT}:role/rds-monitoring"


def test_rds6_instance_without_enhanced_monitoring_fails(rds):
    verdict = _verdict("RDS.6", _instance(rds))
    assert verdict.status is Status.FAILED
    assert "MonitoringInterval is 0" in verdict.reason


def test_rds6_instance_with_enhanced_monitoring_passes(rds):
    verdict = _verdict("RDS.6", _instance(rds, MonitoringInterval=60, MonitoringRoleArn=ROLE))
    assert verdict.status is Status.PASSED, verdict.reason


def test_rds6_monitoring_interval_parameter_must_match(rds):
    resource = _instance(rds, MonitoringInterval=60, MonitoringRoleArn=ROLE)
    verdict = _verdict("RDS.6", resource, {"monitoringInterval": 30})
    assert verdict.status is Status.FAILED
    assert "60" in verdict.reason and "30" in verdict.reason
    assert _verdict("RDS.6", resource, {"monitoringInterval": 60}).status is Status.PASSED


def test_rds6_invalid_monitoring_interval_parameter_is_rejected(rds):
    with pytest.raises(EvaluationError, match="monitoringInterval"):
        _verdict("RDS.6", _instance(rds), {"monitoringInterval": 7})


# ----------------------------------------------------------------------------- RDS.7


def test_rds7_cluster_without_deletion_protection_fails_then_passes(rds):
    cluster = _cluster(rds)
    verdict = _verdict("RDS.7", cluster)
    assert verdict.status is Status.FAILED
    assert verdict.reason == "DeletionProtection is false"
    rds.modify_db_cluster(DBClusterIdentifier="cluster1", DeletionProtection=True, ApplyImmediately=True)
    assert _verdict("RDS.7", cluster).status is Status.PASSED


def test_rds7_missing_cluster_is_an_evaluation_error(rds):
    gone = Resource.of_arn(f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:gone", "AwsRdsDbCluster")
    with pytest.raises(EvaluationError, match="gone"):
        _verdict("RDS.7", gone)


# ----------------------------------------------------------------------------- RDS.8


def test_rds8_instance_without_deletion_protection_fails_protected_one_passes(rds):
    verdict = _verdict("RDS.8", _instance(rds, "open"))
    assert verdict.status is Status.FAILED
    assert verdict.reason == "DeletionProtection is false"
    assert _verdict("RDS.8", _instance(rds, "safe", DeletionProtection=True)).status is Status.PASSED


def test_rds8_engine_outside_database_engines_is_not_applicable(rds):
    resource = _instance(rds, engine="mysql")
    verdict = _verdict("RDS.8", resource, {"databaseEngines": ["postgres"]})
    assert verdict.status is Status.NOT_APPLICABLE
    assert "mysql" in verdict.reason
    assert _verdict("RDS.8", resource, {"databaseEngines": "postgres, mysql"}).status is Status.FAILED


def test_rds8_instance_of_a_multi_az_db_cluster_is_not_applicable(rds):
    rds.create_db_cluster(
        DBClusterIdentifier="maz",
        Engine="mysql",
        MasterUsername="admin",
        MasterUserPassword=PASSWORD,
        DBClusterInstanceClass="db.r6gd.large",
        AllocatedStorage=100,
        StorageType="io1",
        Iops=1000,
    )
    arn = rds.create_db_instance(
        DBInstanceIdentifier="maz-1", Engine="mysql", DBInstanceClass="db.r6gd.large", DBClusterIdentifier="maz"
    )["DBInstance"]["DBInstanceArn"]
    verdict = _verdict("RDS.8", Resource.of_arn(arn, "AwsRdsDbInstance"))
    assert verdict.status is Status.NOT_APPLICABLE
    assert "DBClusterIdentifier" in verdict.reason


# ----------------------------------------------------------------------------- RDS.13


def test_rds13_auto_minor_version_upgrade(rds):
    off = _instance(rds, "off", AutoMinorVersionUpgrade=False)
    on = _instance(rds, "on", AutoMinorVersionUpgrade=True)
    verdict = _verdict("RDS.13", off)
    assert verdict.status is Status.FAILED
    assert verdict.reason == "AutoMinorVersionUpgrade is false"
    assert _verdict("RDS.13", on).status is Status.PASSED


# ----------------------------------------------------------------------------- RDS.16


def test_rds16_cluster_copy_tags_to_snapshot(rds):
    cluster = _cluster(rds)
    verdict = _verdict("RDS.16", cluster)
    assert verdict.status is Status.FAILED
    assert verdict.reason == "CopyTagsToSnapshot is false"
    rds.modify_db_cluster(DBClusterIdentifier="cluster1", CopyTagsToSnapshot=True, ApplyImmediately=True)
    assert _verdict("RDS.16", cluster).status is Status.PASSED


def test_rds_instance_control_rejects_a_cluster_arn(rds):
    cluster = _cluster(rds)
    with pytest.raises(EvaluationError, match="not an RDS DB instance"):
        _verdict("RDS.13", Resource(cluster.id, "AwsRdsDbInstance", ACCOUNT, REGION))
