"""The policy store: a versioned S3 object, on moto."""

from __future__ import annotations

import hashlib

import boto3
import pytest
from moto import mock_aws

from asr.policy import document as doc
from asr.policy import store

BUCKET = "asr-policy-123456789012"
V1 = b"version: 1\nglobal: {mode: dry-run}\n"
V2 = b"version: 1\nglobal: {mode: dry-run}\ncontrols:\n  S3.2: {mode: auto}\n"


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield client


def test_apply_keeps_every_change_as_a_version(s3):
    target = store.PolicyStore(s3, BUCKET)
    first, _ = target.apply(V1)
    second, policy = target.apply(V2)
    assert first.changed and second.changed and first.version_id != second.version_id
    assert second.sha256 == hashlib.sha256(V2).hexdigest() == policy.sha256
    history = target.versions()
    assert [v.version_id for v in history] == [second.version_id, first.version_id]
    assert history[0].is_latest and not history[1].is_latest
    loaded = target.load()
    assert loaded.revision == second.version_id and list(loaded.controls) == ["S3.2"]
    old = target.load(first.version_id)
    assert old.revision == first.version_id and old.controls == {}
    head = s3.head_object(Bucket=BUCKET, Key=store.DEFAULT_KEY, ChecksumMode="ENABLED")
    assert head["Metadata"][store.SHA256_METADATA] == second.sha256
    assert head["ContentType"] == store.CONTENT_TYPE


def test_apply_same_bytes_creates_no_version(s3):
    target = store.PolicyStore(s3, BUCKET)
    first, _ = target.apply(V1)
    again, _ = target.apply(V1)
    assert not again.changed and again.version_id == first.version_id
    assert len(target.versions()) == 1


def test_invalid_policy_is_never_uploaded(s3):
    target = store.PolicyStore(s3, BUCKET)
    with pytest.raises(doc.PolicyError, match="global.mode"):
        target.apply(b"version: 1\nglobal: {mode: fast}\n")
    assert target.versions() == []


def test_bucket_without_versioning_is_refused(s3):
    s3.create_bucket(Bucket="plain-bucket")
    with pytest.raises(store.StoreError, match="bucket plain-bucket has versioning never enabled"):
        store.PolicyStore(s3, "plain-bucket").apply(V1)
    s3.put_bucket_versioning(Bucket="plain-bucket", VersioningConfiguration={"Status": "Suspended"})
    with pytest.raises(store.StoreError, match="versioning Suspended"):
        store.PolicyStore(s3, "plain-bucket").apply(V1)


def test_missing_bucket_and_tampered_object(s3):
    with pytest.raises(store.StoreError, match="s3://no-such-bucket/asr/policy.yaml: GetBucketVersioning failed"):
        store.PolicyStore(s3, "no-such-bucket").apply(V1)
    target = store.PolicyStore(s3, BUCKET)
    target.apply(V1)
    s3.put_object(Bucket=BUCKET, Key=store.DEFAULT_KEY, Body=V2, Metadata={store.SHA256_METADATA: "0" * 64})
    with pytest.raises(store.StoreError, match="differs from its metadata"):
        target.load()
