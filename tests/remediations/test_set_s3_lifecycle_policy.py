"""ASR-SetS3LifecyclePolicy: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import boto3
import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.set_s3_lifecycle_policy import RULE_ID, RemediationError, set_lifecycle_policy
from tests.conftest import ACCOUNT
from tests.remediations.helpers.stubs import stub_every_boto3_client

NAME = "SetS3LifecyclePolicy"
THEIRS = {"ID": "expire-tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 7}}


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name="us-east-1")
    for name in ("target-bucket", "bystander-bucket"):
        client.create_bucket(Bucket=name)
        client.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [THEIRS]})
    return client


def _rules(s3, bucket="target-bucket"):
    return {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}


def _event(transition=30, expiration=0, storage="INTELLIGENT_TIERING", bucket="target-bucket"):
    return {
        "BucketName": bucket,
        "AccountId": ACCOUNT,
        "TargetTransitionDays": transition,
        "TargetExpirationDays": expiration,
        "TargetTransitionStorageClass": storage,
    }


def _assert_theirs_kept(s3, bucket="target-bucket"):
    theirs = _rules(s3, bucket)["expire-tmp"]
    assert (theirs["Filter"], theirs["Expiration"]) == (THEIRS["Filter"], THEIRS["Expiration"])


# --- script ------------------------------------------------------------------------


def test_script_sends_the_size_filter(monkeypatch):
    # moto drops Filter.ObjectSizeGreaterThan when it stores a lifecycle rule (it returns
    # Filter {}), so the exact request is proven with Stubber against the real API shapes.
    stub = stub_every_boto3_client(monkeypatch, "s3")
    rule = {
        "ID": RULE_ID,
        "Status": "Enabled",
        "Filter": {"ObjectSizeGreaterThan": 131072},
        "Transitions": [{"Days": 30, "StorageClass": "INTELLIGENT_TIERING"}],
    }
    stub.add_response("get_bucket_lifecycle_configuration", {"Rules": [THEIRS]})
    stub.add_response(
        "put_bucket_lifecycle_configuration",
        {},
        {
            "Bucket": "target-bucket",
            "ExpectedBucketOwner": ACCOUNT,
            "LifecycleConfiguration": {"Rules": [THEIRS, rule]},
        },
    )
    stub.add_response("get_bucket_lifecycle_configuration", {"Rules": [THEIRS, rule]})
    set_lifecycle_policy(_event(), None)
    stub.assert_no_pending_responses()


def test_script_adds_the_rule_and_keeps_the_others(s3):
    out = set_lifecycle_policy(_event(), None)
    mine = _rules(s3)[RULE_ID]
    assert mine["Transitions"] == [{"Days": 30, "StorageClass": "INTELLIGENT_TIERING"}]
    assert "Expiration" not in mine
    _assert_theirs_kept(s3)
    assert (out["RulesBefore"], out["RulesAfter"]) == (1, 2)


def test_script_sets_expiration_and_updates_only_its_rule(s3):
    set_lifecycle_policy(_event(), None)
    out = set_lifecycle_policy(_event(60, 365, "GLACIER"), None)
    mine = _rules(s3)[RULE_ID]
    assert mine["Transitions"] == [{"Days": 60, "StorageClass": "GLACIER"}]
    assert mine["Expiration"] == {"Days": 365}
    assert out["Message"].startswith("Updated")
    _assert_theirs_kept(s3)


def test_script_bucket_without_lifecycle(s3):
    s3.delete_bucket_lifecycle(Bucket="target-bucket")
    set_lifecycle_policy(_event(), None)
    assert list(_rules(s3)) == [RULE_ID]


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (_event(10, storage="STANDARD_IA"), "TargetTransitionDays 10: S3 needs at least 30 days for STANDARD_IA"),
        (_event(30, 30), "TargetExpirationDays 30: must be greater than TargetTransitionDays 30"),
        (_event("ten"), "TargetTransitionDays 'ten': expected a whole number"),
        (_event(-1), "TargetTransitionDays -1: must not be negative"),
    ],
)
def test_script_refuses_settings_s3_would_reject(s3, event, message):
    with pytest.raises(RemediationError, match=message):
        set_lifecycle_policy(event, None)
    assert list(_rules(s3)) == ["expire-tmp"]


def test_script_missing_bucket(s3):
    with pytest.raises(RemediationError, match="BucketName no-such-bucket: no such bucket"):
        set_lifecycle_policy(_event(bucket="no-such-bucket"), None)


# --- document ----------------------------------------------------------------------


def test_document_adds_the_rule_and_touches_nothing_else(s3, run_runbook):
    result = run_runbook(NAME, BucketName="target-bucket")
    assert result["AutomationExecutionStatus"] == "Success", result.get("FailureMessage")
    assert _rules(s3)[RULE_ID]["Transitions"] == [{"Days": 30, "StorageClass": "INTELLIGENT_TIERING"}]
    _assert_theirs_kept(s3)
    assert list(_rules(s3, "bystander-bucket")) == ["expire-tmp"]


def test_document_passes_its_integer_parameters(s3, run_runbook):
    result = run_runbook(
        NAME,
        BucketName="target-bucket",
        TargetTransitionDays="45",
        TargetExpirationDays=400,
        TargetTransitionStorageClass="DEEP_ARCHIVE",
    )
    assert result["AutomationExecutionStatus"] == "Success", result.get("FailureMessage")
    mine = _rules(s3)[RULE_ID]
    assert (mine["Transitions"], mine["Expiration"]) == ([{"Days": 45, "StorageClass": "DEEP_ARCHIVE"}], {"Days": 400})


def test_document_second_run_changes_nothing(s3, run_runbook):
    assert run_runbook(NAME, BucketName="target-bucket")["AutomationExecutionStatus"] == "Success"
    result = run_runbook(NAME, BucketName="target-bucket")
    assert result["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in str(result["Outputs"])
    assert sorted(_rules(s3)) == sorted([RULE_ID, "expire-tmp"])


@pytest.mark.parametrize(
    ("param", "bad"),
    [
        ("BucketName", "arn:aws:s3:::target-bucket"),
        ("TargetTransitionDays", "-5"),
        ("TargetExpirationDays", "1e3"),
        ("TargetTransitionStorageClass", "REDUCED_REDUNDANCY"),
    ],
)
def test_document_rejects_malformed_input(s3, run_runbook, param, bad):
    with pytest.raises(ParameterValidationError, match=f"parameter '{param}'"):
        run_runbook(NAME, **{"BucketName": "target-bucket", param: bad})
    assert list(_rules(s3)) == ["expire-tmp"]


def test_document_refuses_expiration_before_transition(s3, run_runbook):
    result = run_runbook(NAME, BucketName="target-bucket", TargetTransitionDays=90, TargetExpirationDays=30)
    assert result["AutomationExecutionStatus"] == "Failed"
    assert "TargetExpirationDays 30: must be greater than TargetTransitionDays 90" in result["FailureMessage"]
    assert list(_rules(s3)) == ["expire-tmp"]


def test_document_missing_bucket_fails_naming_it(s3, run_runbook):
    result = run_runbook(NAME, BucketName="no-such-bucket")
    assert result["AutomationExecutionStatus"] == "Failed"
    assert "BucketName no-such-bucket: no such bucket" in result["FailureMessage"]


# --- read back: lifecycle configurations are eventually consistent ---------------------------

_BUCKET = {"Bucket": "target-bucket", "ExpectedBucketOwner": ACCOUNT}


def test_script_reads_back_until_s3_shows_the_rule(monkeypatch):
    from remediation_runbooks.scripts.set_s3_lifecycle_policy import wanted_rule

    stub = stub_every_boto3_client(monkeypatch, "s3")
    stub.add_client_error("get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration", expected_params=_BUCKET)
    stub.add_response("put_bucket_lifecycle_configuration", {}, None)
    stub.add_client_error("get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration", expected_params=_BUCKET)
    stub.add_response("get_bucket_lifecycle_configuration", {"Rules": [wanted_rule(30, 0, "INTELLIGENT_TIERING")]},
                      _BUCKET)
    sleeps = []
    out = set_lifecycle_policy(_event(), None, sleep=sleeps.append)
    assert sleeps == [10] and out["RulesAfter"] == 1
    stub.assert_no_pending_responses()


def test_script_gives_up_after_a_minute_naming_the_bucket(monkeypatch):
    stub = stub_every_boto3_client(monkeypatch, "s3")
    absent = "NoSuchLifecycleConfiguration"
    stub.add_client_error("get_bucket_lifecycle_configuration", absent, expected_params=_BUCKET)
    stub.add_response("put_bucket_lifecycle_configuration", {}, None)
    for _ in range(6):
        stub.add_client_error("get_bucket_lifecycle_configuration", absent, expected_params=_BUCKET)
    sleeps = []
    with pytest.raises(RemediationError, match=f"lifecycle rule '{RULE_ID}' is not shown after 6 reads"):
        set_lifecycle_policy(_event(), None, sleep=sleeps.append)
    assert sleeps == [10] * 5
    stub.assert_no_pending_responses()
