"""Where the policy lives: one S3 object in the admin account, in a bucket with versioning.

Why S3: a policy outgrows a stack parameter (4,096 bytes) as soon as it has a few exemptions;
an object keeps it whole up to MAX_DOCUMENT_BYTES, is deployable by StackSets / IaC (the
bucket and key are parameters, the object an asset), and with versioning every change is kept:
the history of the policy is the list of object versions, each with who wrote it (CloudTrail
data events) and when. ``apply`` validates before it uploads, sends the SHA-256 of the bytes
(S3 refuses the upload if the bytes it got differ:
https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html, x-amz-checksum-sha256) and
keeps the hex digest in the object's metadata, the value a Decision reports as the policy hash.
Versioning: https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html

Next to the YAML, ``apply`` writes ``<key>.json`` (COMPILED_SUFFIX): the normalized document
(``Policy.to_json()``), its version, the SHA-256 and object version of the YAML, and the map of
every standard's control id to its consolidated id. The orchestrator reads that one object with
the standard library only (``Policy.from_json``): its Lambda zip has no PyYAML and no jsonschema.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from asr import solution
from asr.policy import document as doc

DEFAULT_KEY = "asr/policy.yaml"
SHA256_METADATA = "sha256"  # x-amz-meta-sha256: hex digest of the document
CONTENT_TYPE = "application/yaml"
COMPILED_SUFFIX = solution.POLICY_COMPILED_SUFFIX  # the compiled form, next to the YAML: <key>.json
COMPILED_FORMAT = 1


def compiled_key(key: str) -> str:
    return f"{key}{COMPILED_SUFFIX}"


def aliases() -> dict[str, str]:
    """``<StandardShortName>:<version>:<ControlId>`` (what the orchestrator reads from a finding and
    the standard's SSM parameters) -> consolidated control id, for every playbook entry."""
    from asr.controls.mapping import MappingError, security_control
    from asr.playbooks import data

    out: dict[str, str] = {}
    for std in data.standards():
        for entry in std.entries:
            try:
                out[f"{std.short_name}:{std.version}:{entry.control_id}"] = security_control(std.key, entry.control_id)
            except (KeyError, MappingError):
                continue
    return dict(sorted(out.items()))


def compile_policy(policy: doc.Policy, *, source: str, revision: str | None) -> bytes:
    """The compiled form the orchestrator reads (see the module docstring)."""
    body = {
        "format": COMPILED_FORMAT,
        "source": source,
        "version": policy.version,
        "sha256": policy.sha256,
        "revision": revision,
        "policy": policy.to_json(),
        "keys": {cid: rules.key for cid, rules in sorted(policy.controls.items())},  # as written
        "aliases": aliases(),
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


class StoreError(RuntimeError):
    """The store cannot be used; the message names the bucket, key and why."""


@dataclass(frozen=True)
class Applied:
    bucket: str
    key: str
    version_id: str
    sha256: str
    size: int
    changed: bool  # False: the current version already held these bytes, nothing uploaded


@dataclass(frozen=True)
class Version:
    version_id: str
    last_modified: dt.datetime
    size: int
    is_latest: bool


class PolicyStore:
    def __init__(self, s3: Any, bucket: str, key: str = DEFAULT_KEY) -> None:
        self.s3, self.bucket, self.key = s3, bucket, key

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def _fail(self, err: ClientError, doing: str) -> StoreError:
        code = err.response.get("Error", {}).get("Code", "")
        return StoreError(f"{self.where}: {doing} failed ({code}): {err.response.get('Error', {}).get('Message', err)}")

    def check_versioning(self) -> None:
        try:
            status = self.s3.get_bucket_versioning(Bucket=self.bucket).get("Status")
        except ClientError as err:
            raise self._fail(err, "GetBucketVersioning") from None
        if status != "Enabled":
            raise StoreError(
                f"bucket {self.bucket} has versioning {status or 'never enabled'}: the policy store keeps every "
                "change as an object version; enable versioning (put-bucket-versioning Status=Enabled) first"
            )

    def current_sha256(self) -> str | None:
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=self.key)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self._fail(err, "HeadObject") from None
        return head.get("Metadata", {}).get(SHA256_METADATA)

    def apply(self, data: bytes, *, now: dt.datetime | None = None) -> tuple[Applied, doc.Policy]:
        """Validate ``data``, then upload it as a new version (unless the latest holds the same bytes)."""
        policy = doc.loads(data, source=self.where, now=now)
        self.check_versioning()
        digest = hashlib.sha256(data).digest()
        hexdigest = digest.hex()
        if self.current_sha256() == hexdigest:
            head = self.s3.head_object(Bucket=self.bucket, Key=self.key)
            self._put_compiled(policy, head.get("VersionId", ""))
            return Applied(self.bucket, self.key, head.get("VersionId", ""), hexdigest, len(data), False), policy
        try:
            response = self.s3.put_object(
                Bucket=self.bucket,
                Key=self.key,
                Body=data,
                ContentType=CONTENT_TYPE,
                ChecksumSHA256=base64.b64encode(digest).decode("ascii"),
                Metadata={SHA256_METADATA: hexdigest, "policy-version": str(policy.version)},
            )
        except ClientError as err:
            raise self._fail(err, "PutObject") from None
        self._put_compiled(policy, response.get("VersionId", ""))
        return Applied(self.bucket, self.key, response.get("VersionId", ""), hexdigest, len(data), True), policy

    def _put_compiled(self, policy: doc.Policy, revision: str) -> None:
        """Write ``<key>.json`` unless it already is the compiled form of this YAML version."""
        key = compiled_key(self.key)
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=key)
            meta = head.get("Metadata", {})
            if meta.get(SHA256_METADATA) == policy.sha256 and meta.get("revision", "") == (revision or ""):
                return
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise self._fail(err, f"HeadObject {key}") from None
        body = compile_policy(policy, source=self.where, revision=revision or None)
        try:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                ChecksumSHA256=base64.b64encode(hashlib.sha256(body).digest()).decode("ascii"),
                Metadata={SHA256_METADATA: policy.sha256, "revision": revision or ""},
            )
        except ClientError as err:
            raise self._fail(err, f"PutObject {key}") from None

    def load(self, version_id: str | None = None, *, now: dt.datetime | None = None) -> doc.Policy:
        """The policy in force (or one version of it); its ``revision`` is the object version id."""
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": self.key}
        if version_id:
            args["VersionId"] = version_id
        try:
            response = self.s3.get_object(**args)
        except ClientError as err:
            raise self._fail(err, "GetObject") from None
        if response.get("ContentLength", 0) > doc.MAX_DOCUMENT_BYTES:
            raise StoreError(f"{self.where}: {response['ContentLength']} bytes, more than {doc.MAX_DOCUMENT_BYTES}")
        data = response["Body"].read(doc.MAX_DOCUMENT_BYTES + 1)
        expected = response.get("Metadata", {}).get(SHA256_METADATA)
        actual = hashlib.sha256(data).hexdigest()
        if expected is not None and expected != actual:
            raise StoreError(f"{self.where}: content SHA-256 {actual} differs from its metadata {expected}")
        policy = doc.loads(data, source=self.where, now=now)
        return dataclasses.replace(policy, revision=response.get("VersionId"))

    def versions(self) -> list[Version]:
        """Every version of the policy object, newest first (the history of changes)."""
        out: list[Version] = []
        try:
            for page in self.s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=self.key):
                for v in page.get("Versions", []):
                    if v["Key"] == self.key:
                        out.append(Version(v["VersionId"], v["LastModified"], v["Size"], v["IsLatest"]))
        except ClientError as err:
            raise self._fail(err, "ListObjectVersions") from None
        return sorted(out, key=lambda v: v.last_modified, reverse=True)
