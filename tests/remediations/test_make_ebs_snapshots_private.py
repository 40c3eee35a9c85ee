"""ASR-MakeEBSSnapshotsPrivate (EC2.1): remove public restore permission from the account's snapshots."""

from __future__ import annotations

import boto3
import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.make_ebs_snapshots_private import RemediationError, make_ebs_snapshots_private
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, REGION
from tests.remediations.helpers.stubs import stub_every_boto3_client

NAME = "MakeEBSSnapshotsPrivate"
OUTPUT = "Remediation.Output"
OTHER_REGION = "eu-west-1"


pytestmark = pytest.mark.usefixtures("no_default_amis")


def _snapshot(ec2, region: str, *, public: bool, share_with: str | None = None) -> str:
    volume = ec2.create_volume(AvailabilityZone=f"{region}a", Size=1)["VolumeId"]
    snapshot = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
    # moto implements only the GroupNames/UserIds form of ModifySnapshotAttribute.
    add = {"Attribute": "createVolumePermission", "OperationType": "add"}
    if public:
        ec2.modify_snapshot_attribute(SnapshotId=snapshot, GroupNames=["all"], **add)
    if share_with:
        ec2.modify_snapshot_attribute(SnapshotId=snapshot, UserIds=[share_with], **add)
    return snapshot


def _perms(region: str, snapshot: str) -> list[dict]:
    client = boto3.client("ec2", region_name=region)
    perms = client.describe_snapshot_attribute(SnapshotId=snapshot, Attribute="createVolumePermission")
    return sorted(perms["CreateVolumePermissions"], key=str)


@pytest.fixture
def snapshots(ec2):
    other = boto3.client("ec2", region_name=OTHER_REGION)
    return {
        "public": _snapshot(ec2, REGION, public=True),
        "public_shared": _snapshot(ec2, REGION, public=True, share_with=OTHER_ACCOUNT),
        "private_shared": _snapshot(ec2, REGION, public=False, share_with=OTHER_ACCOUNT),
        "other_region": _snapshot(other, OTHER_REGION, public=True),
    }


def _event(**extra) -> dict:
    return {"AccountId": ACCOUNT, "CallerAccountId": ACCOUNT, "TestMode": False, **extra}


def test_script_makes_public_snapshots_private_and_keeps_named_shares(ec2, snapshots):
    out = make_ebs_snapshots_private(_event(), None)
    assert _perms(REGION, snapshots["public"]) == []
    assert _perms(REGION, snapshots["public_shared"]) == [{"UserId": OTHER_ACCOUNT}]
    assert _perms(REGION, snapshots["private_shared"]) == [{"UserId": OTHER_ACCOUNT}]
    assert _perms(OTHER_REGION, snapshots["other_region"]) == [{"Group": "all"}]
    assert set(out["MadePrivate"].split(", ")) == {snapshots["public"], snapshots["public_shared"]}


def test_script_never_modifies_a_snapshot_owned_by_another_account(monkeypatch):
    """Even if the listing returned a foreign snapshot, it is skipped before any change (Stubber)."""
    stub = stub_every_boto3_client(monkeypatch, "ec2")
    foreign = {"SnapshotId": "snap-0123456789abcdef0", "OwnerId": OTHER_ACCOUNT, "State": "completed"}
    stub.add_response(
        "describe_snapshots",
        {"Snapshots": [foreign]},
        {"OwnerIds": [ACCOUNT], "RestorableByUserIds": ["all"]},
    )
    out = make_ebs_snapshots_private(_event(), None)
    stub.assert_no_pending_responses()
    assert out["MadePrivate"] == "none"


def test_script_refuses_another_account(ec2, snapshots):
    with pytest.raises(RemediationError, match=f"AccountId {OTHER_ACCOUNT} is not the account this runs in"):
        make_ebs_snapshots_private(_event(AccountId=OTHER_ACCOUNT), None)
    assert _perms(REGION, snapshots["public"]) == [{"Group": "all"}]


# --- the document, through the local runner ---------------------------------------


def test_document_makes_the_accounts_public_snapshots_private_only(ec2, snapshots, run_runbook):
    execution = run_runbook(NAME, AccountId=ACCOUNT)

    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert _perms(REGION, snapshots["public"]) == []
    assert _perms(REGION, snapshots["public_shared"]) == [{"UserId": OTHER_ACCOUNT}], "named share kept"
    assert _perms(REGION, snapshots["private_shared"]) == [{"UserId": OTHER_ACCOUNT}]
    assert _perms(OTHER_REGION, snapshots["other_region"]) == [{"Group": "all"}], "other Region untouched"
    assert "Removed public restore permission from 2 snapshot(s)" in str(execution["Outputs"][OUTPUT])


def test_document_second_run_succeeds_and_changes_nothing(ec2, snapshots, run_runbook):
    run_runbook(NAME, AccountId=ACCOUNT)
    execution = run_runbook(NAME, AccountId=ACCOUNT)
    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert "nothing changed" in str(execution["Outputs"][OUTPUT])
    assert _perms(REGION, snapshots["public_shared"]) == [{"UserId": OTHER_ACCOUNT}]


def test_document_test_mode_reports_and_changes_nothing(ec2, snapshots, run_runbook):
    execution = run_runbook(NAME, AccountId=ACCOUNT, TestMode=True)
    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    output = str(execution["Outputs"][OUTPUT])
    assert "TestMode: 2 public snapshot(s) found; nothing changed." in output
    assert snapshots["public"] in output
    assert _perms(REGION, snapshots["public"]) == [{"Group": "all"}]


@pytest.mark.parametrize(
    ("param", "value"), [("AccountId", "12345"), ("AccountId", "arn:aws:iam::111111111111:root"), ("TestMode", "maybe")]
)
def test_document_rejects_malformed_input_naming_it(ec2, snapshots, run_runbook, param, value):
    params = {"AccountId": ACCOUNT, param: value}
    with pytest.raises(ParameterValidationError, match=param):
        run_runbook(NAME, **params)
    assert _perms(REGION, snapshots["public"]) == [{"Group": "all"}]


def test_document_refuses_another_accounts_id_and_changes_nothing(ec2, snapshots, run_runbook):
    execution = run_runbook(NAME, AccountId=OTHER_ACCOUNT)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"AccountId {OTHER_ACCOUNT} is not the account this runs in ({ACCOUNT})" in execution["FailureMessage"]
    assert _perms(REGION, snapshots["public"]) == [{"Group": "all"}]
