"""ASR-S3BlockDenylist: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import json

import boto3
import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.s3_block_denylist import DENY_SID, RemediationError, block_denylist
from tests.conftest import ACCOUNT
from tests.remediations.helpers.stubs import stub_every_boto3_client

NAME = "S3BlockDenylist"
ARN = "arn:aws:s3:::target-bucket"
DENY = "s3:DeleteBucketPolicy,s3:PutBucketAcl,s3:PutBucketPolicy,s3:PutEncryptionConfiguration,s3:PutObjectAcl"
OTHER = "arn:aws:iam::222222222222:role/partner"
THIRD = "333333333333"
CROSS = {
    "Sid": "Partners",
    "Effect": "Allow",
    "Principal": {"AWS": [OTHER, THIRD, f"arn:aws:iam::{ACCOUNT}:root"]},
    "Action": ["s3:GetObject", "s3:PutObjectAcl"],
    "Resource": f"{ARN}/*",
}
PUBLIC = {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{ARN}/*"}
# CROSS after the remediation: the owner keeps the statement as it was; the other accounts keep
# every action but the denylisted ones (S3.6 reads the Allow statements, not a Deny next to them).
CROSS_OWNER = {**CROSS, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}
CROSS_OTHERS = {**CROSS, "Sid": "PartnersOtherAccounts", "Principal": {"AWS": [OTHER, THIRD]}, "Action": "s3:GetObject"}


def _policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name="us-east-1")
    for name in ("target-bucket", "bystander-bucket"):
        client.create_bucket(Bucket=name)
        client.put_bucket_policy(Bucket=name, Policy=_policy(CROSS))
    return client


def _statements(s3, bucket="target-bucket"):
    return json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]


def _event(bucket="target-bucket", deny=DENY):
    return {"BucketName": bucket, "DenyList": deny, "AccountId": ACCOUNT, "Partition": "aws"}


def _deny(*principals, actions=DENY):
    return {
        "Sid": DENY_SID,
        "Effect": "Deny",
        "Principal": {"AWS": list(principals)},
        "Action": actions.split(","),
        "Resource": [ARN, f"{ARN}/*"],
    }


# --- script ------------------------------------------------------------------------


def test_script_denies_other_accounts_only_and_keeps_the_statements(s3):
    out = block_denylist(_event(), None)
    assert _statements(s3) == [CROSS_OWNER, CROSS_OTHERS, _deny(OTHER, THIRD)]
    assert out["DeniedPrincipals"] == [OTHER, THIRD]
    assert out["NarrowedStatements"] == ["'Partners'"]


def test_script_all_principals_wildcard_is_never_denied(s3):
    # A Deny for "*" would lock everyone out: never written. A "*" statement that grants no denylisted
    # action passes S3.6 as it is.
    s3.put_bucket_policy(Bucket="target-bucket", Policy=_policy(PUBLIC))
    out = block_denylist(_event(), None)
    assert "nothing changed" in out["Message"]
    assert _statements(s3) == [PUBLIC]


def test_script_takes_denylisted_actions_away_from_everyone(s3):
    public = {**PUBLIC, "Action": ["s3:GetObject", "s3:PutObjectAcl"]}
    s3.put_bucket_policy(Bucket="target-bucket", Policy=_policy(public))
    out = block_denylist(_event(), None)
    assert _statements(s3) == [PUBLIC]  # no Deny statement for "*"
    assert out["DeniedPrincipals"] == [] and out["NarrowedStatements"] == ["'PublicRead'"]


def test_script_s3_star_for_another_account_becomes_every_action_but_the_denylist(s3):
    shared = {**CROSS, "Action": "s3:*"}
    s3.put_bucket_policy(Bucket="target-bucket", Policy=_policy(shared))
    block_denylist(_event(), None)
    narrowed = {k: v for k, v in CROSS_OTHERS.items() if k != "Action"}
    assert _statements(s3) == [
        {**shared, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}},
        {**narrowed, "NotAction": DENY.split(",")},
        _deny(OTHER, THIRD),
    ]


def test_script_not_action_statement_gets_the_denylist_added(s3):
    statement = {"Sid": "NotAct", "Effect": "Allow", "Principal": {"AWS": OTHER}, "NotAction": "s3:DeleteBucket",
                 "Resource": f"{ARN}/*"}
    s3.put_bucket_policy(Bucket="target-bucket", Policy=_policy(statement))
    block_denylist(_event(), None)
    assert _statements(s3)[0] == {**statement, "NotAction": ["s3:DeleteBucket", *DENY.split(",")]}


def test_script_statement_left_with_no_action_is_dropped(s3):
    only = {**CROSS, "Principal": {"AWS": OTHER}, "Action": "s3:PutObjectAcl"}
    s3.put_bucket_policy(Bucket="target-bucket", Policy=_policy(PUBLIC, only))
    block_denylist(_event(), None)
    assert _statements(s3) == [PUBLIC, _deny(OTHER)]


def test_script_refuses_a_partial_wildcard_it_cannot_narrow(s3):
    put_star = {**CROSS, "Action": ["s3:GetObject", "s3:Put*"]}
    s3.put_bucket_policy(Bucket="target-bucket", Policy=_policy(put_star))
    with pytest.raises(RemediationError, match=r"statement 'Partners' allows s3:Put\* to another account"):
        block_denylist(_event(), None)
    assert _statements(s3) == [put_star]


def test_script_reads_the_policy_back_until_s3_shows_it(monkeypatch):
    # Bucket policies are eventually consistent: the first read-back may still show the old policy.
    stub = stub_every_boto3_client(monkeypatch, "s3")
    params = {"Bucket": "target-bucket", "ExpectedBucketOwner": ACCOUNT}
    stub.add_response("get_bucket_policy", {"Policy": _policy(CROSS)}, params)
    stub.add_response("put_bucket_policy", {}, None)
    stub.add_response("get_bucket_policy", {"Policy": _policy(CROSS)}, params)
    stub.add_response("get_bucket_policy", {"Policy": _policy(CROSS_OWNER, CROSS_OTHERS, _deny(OTHER, THIRD))}, params)
    sleeps = []
    out = block_denylist(_event(), None, sleep=sleeps.append)
    assert sleeps == [10] and out["NarrowedStatements"] == ["'Partners'"]
    stub.assert_no_pending_responses()


def test_script_fails_when_the_policy_never_shows_the_change(monkeypatch):
    stub = stub_every_boto3_client(monkeypatch, "s3")
    params = {"Bucket": "target-bucket", "ExpectedBucketOwner": ACCOUNT}
    stub.add_response("get_bucket_policy", {"Policy": _policy(CROSS)}, params)
    stub.add_response("put_bucket_policy", {}, None)
    for _ in range(6):
        stub.add_response("get_bucket_policy", {"Policy": _policy(CROSS)}, params)
    sleeps = []
    with pytest.raises(RemediationError, match="after 6 reads the policy still allows s3:PutObjectAcl"):
        block_denylist(_event(), None, sleep=sleeps.append)
    assert sleeps == [10] * 5


def test_script_wildcard_next_to_other_accounts_denies_the_accounts(s3):
    s3.put_bucket_policy(Bucket="target-bucket", Policy=_policy(PUBLIC, CROSS))
    block_denylist(_event(), None)
    assert _statements(s3) == [PUBLIC, CROSS_OWNER, CROSS_OTHERS, _deny(OTHER, THIRD)]


def test_script_same_account_only_changes_nothing(s3):
    mine = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"},
        "Action": "s3:*",
        "Resource": ARN,
    }
    s3.put_bucket_policy(Bucket="target-bucket", Policy=_policy(mine))
    out = block_denylist(_event(), None)
    assert "allows no principal of another account" in out["Message"]
    assert _statements(s3) == [mine]


def test_script_no_policy_changes_nothing(s3):
    s3.delete_bucket_policy(Bucket="target-bucket")
    out = block_denylist(_event(), None)
    assert "no bucket policy" in out["Message"]


def test_script_extends_its_own_statement_on_a_new_deny_list(s3):
    block_denylist(_event(deny="s3:PutBucketPolicy"), None)
    assert _statements(s3) == [CROSS, _deny(OTHER, THIRD, actions="s3:PutBucketPolicy")]
    block_denylist(_event(deny="s3:PutObjectAcl"), None)
    assert _statements(s3) == [
        CROSS_OWNER,
        CROSS_OTHERS,
        _deny(OTHER, THIRD, actions="s3:PutBucketPolicy,s3:PutObjectAcl"),
    ]


def test_script_skips_unique_id_principals(s3):
    ghost = {
        "Effect": "Allow",
        "Principal": {"AWS": "AROAEXAMPLEDELETEDROLE"},
        "Action": "s3:GetObject",
        "Resource": f"{ARN}/*",
    }
    s3.put_bucket_policy(Bucket="target-bucket", Policy=_policy(ghost))
    out = block_denylist(_event(), None)
    assert "nothing changed" in out["Message"]


@pytest.mark.parametrize("bad", ["", "PutBucketPolicy", "s3:PutBucketPolicy;rm", "iam:PassRole"])
def test_script_rejects_a_bad_deny_list(s3, bad):
    with pytest.raises(RemediationError, match="DenyList"):
        block_denylist(_event(deny=bad), None)
    assert _statements(s3) == [CROSS]


def test_script_explains_access_denied_from_s3(monkeypatch):
    # moto does not enforce Block Public Access on PutBucketPolicy; real S3 answers AccessDenied.
    stub = stub_every_boto3_client(monkeypatch, "s3")
    stub.add_response(
        "get_bucket_policy",
        {"Policy": _policy(PUBLIC, CROSS)},
        {"Bucket": "target-bucket", "ExpectedBucketOwner": ACCOUNT},
    )
    stub.add_client_error("put_bucket_policy", service_error_code="AccessDenied", http_status_code=403)
    with pytest.raises(
        RemediationError, match="BucketName target-bucket: S3 denied PutBucketPolicy. If Block Public Access"
    ):
        block_denylist(_event(), None)
    stub.assert_no_pending_responses()


# --- document ----------------------------------------------------------------------


def test_document_denies_other_accounts_and_touches_nothing_else(s3, run_runbook):
    result = run_runbook(NAME, BucketName="target-bucket", DenyList=DENY)
    assert result["AutomationExecutionStatus"] == "Success", result.get("FailureMessage")
    assert _statements(s3) == [CROSS_OWNER, CROSS_OTHERS, _deny(OTHER, THIRD)]
    assert _statements(s3, "bystander-bucket") == [CROSS]
    assert OTHER in str(result["Outputs"]["PutS3BucketPolicyDeny.Output"])


def test_document_second_run_changes_nothing(s3, run_runbook):
    assert run_runbook(NAME, BucketName="target-bucket", DenyList=DENY)["AutomationExecutionStatus"] == "Success"
    result = run_runbook(NAME, BucketName="target-bucket", DenyList=DENY)
    assert result["AutomationExecutionStatus"] == "Success"
    assert "nothing changed" in str(result["Outputs"])
    assert _statements(s3) == [CROSS_OWNER, CROSS_OTHERS, _deny(OTHER, THIRD)]


def test_document_wildcard_it_cannot_narrow_fails_clearly(s3, run_runbook):
    put_star = {**CROSS, "Action": "s3:Put*"}
    s3.put_bucket_policy(Bucket="target-bucket", Policy=_policy(put_star))
    result = run_runbook(NAME, BucketName="target-bucket", DenyList=DENY)
    assert result["AutomationExecutionStatus"] == "Failed"
    assert "cannot be narrowed" in result["FailureMessage"]
    assert _statements(s3) == [put_star]


@pytest.mark.parametrize(("param", "bad"), [("BucketName", ARN), ("DenyList", "s3:*;iam:*"), ("DenyList", "")])
def test_document_rejects_malformed_input(s3, run_runbook, param, bad):
    params = {"BucketName": "target-bucket", "DenyList": DENY, param: bad}
    with pytest.raises(ParameterValidationError, match=f"parameter '{param}'"):
        run_runbook(NAME, **params)
    assert _statements(s3) == [CROSS]


def test_document_missing_bucket_fails_naming_it(s3, run_runbook):
    result = run_runbook(NAME, BucketName="no-such-bucket", DenyList=DENY)
    assert result["AutomationExecutionStatus"] == "Failed"
    assert "BucketName no-such-bucket: no such bucket" in result["FailureMessage"]
