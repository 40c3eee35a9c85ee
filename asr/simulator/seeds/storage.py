"""Seeders for Amazon S3, AWS CloudTrail and AWS Config controls (Athena.4: see the end of the module).

Each seeder builds, in the emulated account, the noncompliant shape the control's documentation
describes, next to what the remediation must leave alone (another bucket, other policy statements,
another trail ...). Names are fixed: every test starts from an empty emulated world.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from asr import solution
from asr.controls import Resource
from asr.simulator.seeds import Seeded, Where, seeder

#: The namespace the simulator renders remediation runbooks and their roles for
#: (``DocumentRegistry.from_repo`` default): service roles the member-roles stack creates carry it.
SIM_NAMESPACE = "sim"
#: A second Region, for shapes that span Regions (shadow trails, a bucket away from its trail).
OTHER_REGION = "eu-west-1"
BPA_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


# --------------------------------------------------------------------------- S3 helpers


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _bucket(where: Where, name: str, region: str | None = None) -> str:
    region = region or where.region
    kwargs: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    where.client("s3", region).create_bucket(**kwargs)
    return name


def _arn(where: Where, bucket: str) -> str:
    return f"arn:{where.partition}:s3:::{bucket}"


def _read(fn: Any, absent: tuple[str, ...], **kwargs: Any) -> Any:
    """``fn(**kwargs)`` without ResponseMetadata; None when the setting is absent."""
    try:
        out = dict(fn(**kwargs))
    except ClientError as err:
        if _code(err) in absent:
            return None
        raise
    out.pop("ResponseMetadata", None)
    return out


def bucket_bpa(where: Where, bucket: str) -> Any:
    s3 = where.client("s3")
    out = _read(s3.get_public_access_block, ("NoSuchPublicAccessBlockConfiguration",), Bucket=bucket)
    return out and out["PublicAccessBlockConfiguration"]


def account_bpa(where: Where) -> Any:
    s3control = where.client("s3control")
    out = _read(s3control.get_public_access_block, ("NoSuchPublicAccessBlockConfiguration",), AccountId=where.account)
    return out and out["PublicAccessBlockConfiguration"]


def bucket_policy(where: Where, bucket: str) -> Any:
    out = _read(where.client("s3").get_bucket_policy, ("NoSuchBucketPolicy",), Bucket=bucket)
    return out and json.loads(out["Policy"])


def bucket_acl(where: Where, bucket: str) -> Any:
    out = _read(where.client("s3").get_bucket_acl, (), Bucket=bucket)
    return sorted(json.dumps(g, sort_keys=True) for g in out["Grants"])


def bucket_encryption(where: Where, bucket: str) -> Any:
    s3 = where.client("s3")
    return _read(s3.get_bucket_encryption, ("ServerSideEncryptionConfigurationNotFoundError",), Bucket=bucket)


def bucket_logging(where: Where, bucket: str) -> Any:
    return _read(where.client("s3").get_bucket_logging, (), Bucket=bucket).get("LoggingEnabled")


def bucket_notifications(where: Where, bucket: str) -> Any:
    return _read(where.client("s3").get_bucket_notification_configuration, (), Bucket=bucket)


def bucket_lifecycle(where: Where, bucket: str) -> Any:
    s3 = where.client("s3")
    return _read(s3.get_bucket_lifecycle_configuration, ("NoSuchLifecycleConfiguration",), Bucket=bucket)


def _put_policy(where: Where, bucket: str, *statements: dict[str, Any]) -> None:
    policy = {"Version": "2012-10-17", "Statement": list(statements)}
    where.client("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def _owner_statement(where: Where, bucket: str) -> dict[str, Any]:
    """An Allow for a role of the bucket's own account: a statement every remediation must keep."""
    arn = _arn(where, bucket)
    return {
        "Sid": "OwnAccountApp",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{where.partition}:iam::{where.account}:role/app"},
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": f"{arn}/*",
    }


def _bucket_seed(where: Where, bucket: str, state: Any, *bystanders: Any) -> Seeded:
    return Seeded(
        resource=Resource.of_bucket(bucket, where.account, where.region, where.partition),
        state=state,
        bystanders=lambda: tuple(b() for b in bystanders),
    )


# --------------------------------------------------------------------------- S3.1


@seeder("S3.1")
def account_without_block_public_access(where: Where) -> Seeded:
    """No account-level Block Public Access configuration; a bucket with its own partial
    bucket-level configuration and policy must stay as it is."""
    other = _bucket(where, "seeded-s3-1-bystander")
    where.client("s3").put_public_access_block(
        Bucket=other,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    _put_policy(where, other, _owner_statement(where, other))
    return Seeded(
        resource=Resource.account_level(where.account, where.region, where.partition),
        state=lambda: account_bpa(where),
        bystanders=lambda: (bucket_bpa(where, other), bucket_policy(where, other)),
    )


@seeder("S3.1", shape="partial")
def account_with_some_flags(where: Where) -> Seeded:
    """Account-level Block Public Access with only BlockPublicAcls and BlockPublicPolicy on."""
    where.client("s3control").put_public_access_block(
        AccountId=where.account,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": False,
        },
    )
    other = _bucket(where, "seeded-s3-1-partial-bystander")
    return Seeded(
        resource=Resource.account_level(where.account, where.region, where.partition),
        state=lambda: account_bpa(where),
        bystanders=lambda: bucket_bpa(where, other),
    )


# --------------------------------------------------------------------------- S3.2 / S3.3 / S3.8


def _public_bucket(where: Where, name: str, acl: str | None, public_policy: str | None = None) -> Seeded:
    bucket = _bucket(where, name)
    other = _bucket(where, f"{name}-bystander")
    s3 = where.client("s3")
    if acl == "public-read-write":
        # Explicit grants: moto's canned public-read-write grants READ only, S3's grants READ and WRITE.
        owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]
        everyone = {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}
        grants = [
            {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
            {"Grantee": everyone, "Permission": "READ"},
            {"Grantee": everyone, "Permission": "WRITE"},
        ]
        s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Grants": grants, "Owner": owner})
    elif acl:
        s3.put_bucket_acl(Bucket=bucket, ACL=acl)
    statements = [_owner_statement(where, bucket)]
    if public_policy:
        statements.append(
            {
                "Sid": "Public",
                "Effect": "Allow",
                "Principal": "*",
                "Action": public_policy,
                "Resource": f"{_arn(where, bucket)}/*",
            }
        )
    _put_policy(where, bucket, *statements)
    return _bucket_seed(
        where,
        bucket,
        lambda: bucket_bpa(where, bucket),
        # Block Public Access is the fix: the ACL and the policy themselves are left as they are.
        lambda: bucket_acl(where, bucket),
        lambda: bucket_policy(where, bucket),
        lambda: bucket_bpa(where, other),
    )


@seeder("S3.2")
def bucket_public_read_acl(where: Where) -> Seeded:
    """A bucket whose ACL grants READ to AllUsers (canned ACL public-read), no Block Public Access."""
    return _public_bucket(where, "seeded-s3-2-public-read", "public-read")


@seeder("S3.2", shape="public-policy")
def bucket_public_read_policy(where: Where) -> Seeded:
    """A bucket whose policy allows s3:GetObject to Principal "*"."""
    return _public_bucket(where, "seeded-s3-2-public-policy", None, public_policy="s3:GetObject")


@seeder("S3.3")
def bucket_public_write_acl(where: Where) -> Seeded:
    """A bucket whose ACL grants WRITE to AllUsers (canned ACL public-read-write)."""
    return _public_bucket(where, "seeded-s3-3-public-write", "public-read-write")


@seeder("S3.3", shape="public-policy")
def bucket_public_write_policy(where: Where) -> Seeded:
    """A bucket whose policy allows s3:PutObject to Principal "*"."""
    return _public_bucket(where, "seeded-s3-3-public-policy", None, public_policy="s3:PutObject")


@seeder("S3.8")
def bucket_without_block_public_access(where: Where) -> Seeded:
    """A private bucket with no bucket-level Block Public Access configuration."""
    return _public_bucket(where, "seeded-s3-8-no-bpa", None)


@seeder("S3.8", shape="partial")
def bucket_with_some_flags(where: Where) -> Seeded:
    """A bucket whose Block Public Access has only BlockPublicAcls and IgnorePublicAcls on."""
    seeded = _public_bucket(where, "seeded-s3-8-partial", None)
    where.client("s3").put_public_access_block(
        Bucket=seeded.resource.name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    return seeded


# --------------------------------------------------------------------------- S3.4


@seeder("S3.4")
def bucket_without_default_encryption(where: Where) -> Seeded:
    """A bucket without default encryption and with a policy that does not deny unencrypted puts."""
    bucket = _bucket(where, "seeded-s3-4-unencrypted")
    other = _bucket(where, "seeded-s3-4-bystander")
    _put_policy(where, bucket, _owner_statement(where, bucket))
    return _bucket_seed(
        where,
        bucket,
        lambda: bucket_encryption(where, bucket),
        lambda: bucket_policy(where, bucket),
        lambda: bucket_encryption(where, other),
    )


# --------------------------------------------------------------------------- S3.5


@seeder("S3.5")
def bucket_policy_without_tls_denial(where: Where) -> Seeded:
    """A bucket policy with an Allow for the owner's role and no aws:SecureTransport denial."""
    bucket = _bucket(where, "seeded-s3-5-no-tls")
    other = _bucket(where, "seeded-s3-5-bystander")
    _put_policy(where, bucket, _owner_statement(where, bucket))
    _put_policy(where, other, _owner_statement(where, other))

    def kept() -> Any:
        return [s for s in bucket_policy(where, bucket)["Statement"] if s.get("Sid") == "OwnAccountApp"]

    return _bucket_seed(where, bucket, lambda: bucket_policy(where, bucket), kept, lambda: bucket_policy(where, other))


@seeder("S3.5", shape="no-policy")
def bucket_without_policy(where: Where) -> Seeded:
    """A bucket with no bucket policy at all."""
    bucket = _bucket(where, "seeded-s3-5-no-policy")
    other = _bucket(where, "seeded-s3-5-no-policy-bystander")
    return _bucket_seed(where, bucket, lambda: bucket_policy(where, bucket), lambda: bucket_policy(where, other))


@seeder("S3.5", shape="objects-only")
def bucket_tls_denial_on_objects_only(where: Where) -> Seeded:
    """A TLS denial that covers the objects (bucket/*) but not the bucket ARN itself."""
    bucket = _bucket(where, "seeded-s3-5-objects-only")
    arn = _arn(where, bucket)
    _put_policy(
        where,
        bucket,
        _owner_statement(where, bucket),
        {
            "Sid": "TlsObjectsOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": f"{arn}/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )

    def kept() -> Any:
        kept_sids = ("OwnAccountApp", "TlsObjectsOnly")
        return [s for s in bucket_policy(where, bucket)["Statement"] if s.get("Sid") in kept_sids]

    return _bucket_seed(where, bucket, lambda: bucket_policy(where, bucket), kept)


# --------------------------------------------------------------------------- S3.6

OTHER_ACCOUNT = "222222222222"


@seeder("S3.6")
def bucket_grants_denylisted_actions_to_another_account(where: Where) -> Seeded:
    """A bucket policy that lets a role of another account PutBucketPolicy and PutObjectAcl (denylisted)
    next to GetObject; the owner's own statement and the other account's read access must stay."""
    bucket = _bucket(where, "seeded-s3-6-cross-account")
    other = _bucket(where, "seeded-s3-6-bystander")
    arn = _arn(where, bucket)
    partner = {
        "Sid": "Partner",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{where.partition}:iam::{OTHER_ACCOUNT}:role/partner"},
        "Action": ["s3:GetObject", "s3:PutObjectAcl", "s3:PutBucketPolicy"],
        "Resource": [arn, f"{arn}/*"],
    }
    _put_policy(where, bucket, _owner_statement(where, bucket), partner)
    _put_policy(where, other, _owner_statement(where, other), {**partner, "Resource": f"{_arn(where, other)}/*"})
    return _bucket_seed(
        where,
        bucket,
        lambda: bucket_policy(where, bucket),
        lambda: [s for s in bucket_policy(where, bucket)["Statement"] if s.get("Sid") == "OwnAccountApp"],
        lambda: bucket_policy(where, other),
    )


@seeder("S3.6", shape="wildcard-action")
def bucket_grants_s3_star_to_another_account(where: Where) -> Seeded:
    """A statement granting s3:* to another account next to a role of the owner's account."""
    bucket = _bucket(where, "seeded-s3-6-wildcard")
    arn = _arn(where, bucket)
    mixed = {
        "Sid": "Shared",
        "Effect": "Allow",
        "Principal": {"AWS": [OTHER_ACCOUNT, f"arn:{where.partition}:iam::{where.account}:role/admin"]},
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
    }
    _put_policy(where, bucket, mixed)
    return _bucket_seed(where, bucket, lambda: bucket_policy(where, bucket))


# --------------------------------------------------------------------------- S3.9 (and CloudTrail.7)


@seeder("S3.9")
def bucket_without_access_logging(where: Where) -> Seeded:
    """A bucket with server access logging off."""
    bucket = _bucket(where, "seeded-s3-9-no-logging")
    other = _bucket(where, "seeded-s3-9-bystander")
    _put_policy(where, bucket, _owner_statement(where, bucket))
    return _bucket_seed(
        where,
        bucket,
        lambda: bucket_logging(where, bucket),
        lambda: bucket_policy(where, bucket),
        lambda: bucket_logging(where, other),
    )


# --------------------------------------------------------------------------- S3.11


@seeder("S3.11")
def bucket_without_event_notifications(where: Where) -> Seeded:
    """A bucket with no event notification configuration at all."""
    bucket = _bucket(where, "seeded-s3-11-no-events")
    other = _bucket(where, "seeded-s3-11-bystander")
    return _bucket_seed(
        where, bucket, lambda: bucket_notifications(where, bucket), lambda: bucket_notifications(where, other)
    )


# --------------------------------------------------------------------------- S3.13


@seeder("S3.13")
def bucket_without_lifecycle(where: Where) -> Seeded:
    """A bucket with no lifecycle configuration."""
    bucket = _bucket(where, "seeded-s3-13-no-lifecycle")
    other = _bucket(where, "seeded-s3-13-bystander")
    return _bucket_seed(where, bucket, lambda: bucket_lifecycle(where, bucket), lambda: bucket_lifecycle(where, other))


@seeder("S3.13", shape="disabled-rule")
def bucket_with_disabled_rule(where: Where) -> Seeded:
    """A bucket whose only lifecycle rule is Disabled; that rule must be kept as it is."""
    bucket = _bucket(where, "seeded-s3-13-disabled")
    rule = {"ID": "archive-later", "Status": "Disabled", "Filter": {"Prefix": "archive/"}, "Expiration": {"Days": 400}}
    where.client("s3").put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [rule]})

    def kept() -> Any:
        return [r for r in (bucket_lifecycle(where, bucket) or {}).get("Rules", []) if r.get("ID") == "archive-later"]

    return _bucket_seed(where, bucket, lambda: bucket_lifecycle(where, bucket), kept)


# --------------------------------------------------------------------------- CloudTrail helpers


def _trail_bucket(where: Where, name: str, region: str | None = None) -> str:
    """A bucket CloudTrail may write to (its bucket policy grants cloudtrail.amazonaws.com)."""
    region = region or where.region
    _bucket(where, name, region)
    arn = _arn(where, name)
    where.client("s3", region).put_bucket_policy(
        Bucket=name,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "AWSCloudTrailAclCheck",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudtrail.amazonaws.com"},
                        "Action": "s3:GetBucketAcl",
                        "Resource": arn,
                    },
                    {
                        "Sid": "AWSCloudTrailWrite",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudtrail.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": f"{arn}/AWSLogs/{where.account}/*",
                        "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
                    },
                ],
            }
        ),
    )
    return name


ALL_MANAGEMENT_EVENTS = [{"ReadWriteType": "All", "IncludeManagementEvents": True}]


def _trail(
    where: Where,
    name: str,
    bucket: str,
    *,
    region: str | None = None,
    logging: bool = True,
    selectors: list[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> str:
    """A trail (home Region ``region``) with explicit event selectors (moto's default has none; AWS's
    default is all management events, read and write)."""
    cloudtrail = where.client("cloudtrail", region)
    arn = str(cloudtrail.create_trail(Name=name, S3BucketName=bucket, **kwargs)["TrailARN"])
    cloudtrail.put_event_selectors(TrailName=arn, EventSelectors=selectors or ALL_MANAGEMENT_EVENTS)
    if logging:
        cloudtrail.start_logging(Name=arn)
    return arn


def trail_state(where: Where, arn: str) -> Any:
    """The trail's settings, status and event selectors, read in its home Region."""
    region = arn.split(":")[3]
    cloudtrail = where.client("cloudtrail", region)
    trail = _read(cloudtrail.get_trail, (), Name=arn)["Trail"]
    status = _read(cloudtrail.get_trail_status, (), Name=arn)
    selectors = _read(cloudtrail.get_event_selectors, (), TrailName=arn)
    return trail, bool(status.get("IsLogging")), selectors


def trails_of_account(where: Where) -> Any:
    """ARNs of every trail that applies to the Region (its own and the shadows of multi-Region trails)."""
    cloudtrail = where.client("cloudtrail")
    found = cloudtrail.describe_trails(includeShadowTrails=True)["trailList"]
    return sorted(t["TrailARN"] for t in found)


def _trail_seed(where: Where, arn: str, state: Any, *bystanders: Any, details: Any = None) -> Seeded:
    return Seeded(
        resource=Resource.of_arn(arn, "AwsCloudTrailTrail", details),
        state=state,
        bystanders=lambda: tuple(b() for b in bystanders),
    )


def _account_seed(where: Where, state: Any, *bystanders: Any) -> Seeded:
    return Seeded(
        resource=Resource.account_level(where.account, where.region, where.partition),
        state=state,
        bystanders=lambda: tuple(b() for b in bystanders),
    )


# --------------------------------------------------------------------------- CloudTrail.1 / CloudTrail.3


def _account_trails_state(where: Where) -> Any:
    return tuple(trail_state(where, arn) for arn in trails_of_account(where))


@seeder("CloudTrail.1")
def account_without_trail(where: Where) -> Seeded:
    """No trail at all in the account."""
    return _account_seed(where, lambda: _account_trails_state(where))


@seeder("CloudTrail.1", shape="single-region-only")
def account_with_single_region_trail(where: Where) -> Seeded:
    """A logging single-Region trail only: CloudTrail.1 needs a multi-Region one. The single-Region trail
    must stay as it is."""
    bucket = _trail_bucket(where, "seeded-ct-1-single-bucket")
    arn = _trail(where, "team-single-region", bucket)
    return _account_seed(where, lambda: _account_trails_state(where), lambda: trail_state(where, arn))


@seeder("CloudTrail.1", shape="shadow-read-only")
def account_with_read_only_shadow_trail(where: Where) -> Seeded:
    """A multi-Region trail whose home Region is another Region (seen here as a shadow trail), logging
    read-only management events: it must be corrected where it lives, not duplicated here."""
    bucket = _trail_bucket(where, "seeded-ct-1-shadow-bucket", OTHER_REGION)
    _trail(
        where,
        "org-wide",
        bucket,
        region=OTHER_REGION,
        IsMultiRegionTrail=True,
        selectors=[{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}],
    )
    # No trail may be added: the list of trails that apply here is a bystander.
    return _account_seed(where, lambda: _account_trails_state(where), lambda: trails_of_account(where))


@seeder("CloudTrail.1", shape="management-events-off")
def account_with_data_events_only_trail(where: Where) -> Seeded:
    """A multi-Region trail that records S3 data events only (IncludeManagementEvents false); its data
    event selector must be kept."""
    bucket = _trail_bucket(where, "seeded-ct-1-data-bucket")
    data = {
        "ReadWriteType": "All",
        "IncludeManagementEvents": False,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:{where.partition}:s3:::seeded-ct-1-data/"]}],
    }
    arn = _trail(where, "data-events", bucket, IsMultiRegionTrail=True, selectors=[data])

    def data_selector_kept() -> Any:
        selectors = trail_state(where, arn)[2].get("EventSelectors", [])
        return [s for s in selectors if s.get("DataResources")]

    return _account_seed(
        where, lambda: _account_trails_state(where), lambda: trails_of_account(where), data_selector_kept
    )


@seeder("CloudTrail.1", shape="not-logging")
def account_with_stopped_multi_region_trail(where: Where) -> Seeded:
    """A multi-Region trail recording all management events whose logging is stopped."""
    bucket = _trail_bucket(where, "seeded-ct-1-stopped-bucket")
    _trail(where, "stopped", bucket, IsMultiRegionTrail=True, logging=False)
    return _account_seed(where, lambda: _account_trails_state(where), lambda: trails_of_account(where))


@seeder("CloudTrail.3")
def account_with_stopped_trail(where: Where) -> Seeded:
    """One single-Region trail whose logging is stopped: no trail is logging in the Region. The
    stopped trail is the team's: it must stay as it is."""
    bucket = _trail_bucket(where, "seeded-ct-3-bucket")
    arn = _trail(where, "team-stopped", bucket, logging=False)
    return _account_seed(where, lambda: _account_trails_state(where), lambda: trail_state(where, arn))


@seeder("CloudTrail.3", shape="no-trail")
def account_with_no_trail_for_ct3(where: Where) -> Seeded:
    """No trail at all."""
    return _account_seed(where, lambda: _account_trails_state(where))


# --------------------------------------------------------------------------- CloudTrail.2 / .4 / .5


def _plain_trail_pair(where: Where, prefix: str, **kwargs: Any) -> tuple[str, str]:
    bucket = _trail_bucket(where, f"{prefix}-bucket")
    arn = _trail(where, f"{prefix}-target", bucket, IsMultiRegionTrail=True, **kwargs)
    other = _trail(where, f"{prefix}-bystander", bucket)
    return arn, other


@seeder("CloudTrail.2")
def trail_without_kms(where: Where) -> Seeded:
    """A trail whose log files are not encrypted with SSE-KMS (no KmsKeyId); its bucket is in the trail's
    Region and only this account reads it."""
    arn, other = _plain_trail_pair(where, "seeded-ct-2")
    return _trail_seed(
        where, arn, lambda: trail_state(where, arn)[0].get("KmsKeyId"), lambda: trail_state(where, other)
    )


@seeder("CloudTrail.2", shape="bucket-in-other-region")
def trail_with_bucket_in_other_region(where: Where) -> Seeded:
    """A trail homed here that delivers to a bucket in another Region, where the member stack is deployed
    too (its remediation key behind /Solutions/SO0111/CMK_REMEDIATION_ARN there): CloudTrail needs a key in
    the bucket's Region."""
    kms = where.client("kms", OTHER_REGION)
    key = kms.create_key(Description="ASR remediation key (other Region)")["KeyMetadata"]["Arn"]
    where.client("ssm", OTHER_REGION).put_parameter(
        Name=f"{solution.SSM_PREFIX}/CMK_REMEDIATION_ARN", Value=key, Type="String", Overwrite=True
    )
    bucket = _trail_bucket(where, "seeded-ct-2-eu-bucket", OTHER_REGION)
    arn = _trail(where, "seeded-ct-2-eu", bucket)
    return _trail_seed(where, arn, lambda: trail_state(where, arn)[0].get("KmsKeyId"))


@seeder("CloudTrail.2", shape="partner-reads-with-decrypt")
def trail_read_by_partner_allowed_to_decrypt(where: Where) -> Seeded:
    """A trail whose bucket policy lets another account read the log files; the remediation key's policy
    lets that account decrypt, so encrypting locks no reader out."""
    key_arn = where.client("ssm").get_parameter(Name=f"{solution.SSM_PREFIX}/CMK_REMEDIATION_ARN")["Parameter"]["Value"]
    kms = where.client("kms")
    root = f"arn:{where.partition}:iam::{where.account}:root"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
            {
                "Sid": "LogReaders",
                "Effect": "Allow",
                "Principal": {"AWS": OTHER_ACCOUNT},
                "Action": "kms:Decrypt",
                "Resource": "*",
            },
        ],
    }
    kms.put_key_policy(KeyId=key_arn, PolicyName="default", Policy=json.dumps(policy))
    bucket = _trail_bucket(where, "seeded-ct-2-partner-bucket")
    existing = bucket_policy(where, bucket)
    existing["Statement"].append(
        {
            "Sid": "PartnerReads",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{where.partition}:iam::{OTHER_ACCOUNT}:root"},
            "Action": "s3:GetObject",
            "Resource": f"{_arn(where, bucket)}/*",
        }
    )
    where.client("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps(existing))
    arn = _trail(where, "seeded-ct-2-partner", bucket)
    return _trail_seed(
        where, arn, lambda: trail_state(where, arn)[0].get("KmsKeyId"), lambda: bucket_policy(where, bucket)
    )


@seeder("CloudTrail.4")
def trail_without_validation(where: Where) -> Seeded:
    """A trail with log file integrity validation off."""
    arn, other = _plain_trail_pair(where, "seeded-ct-4")
    return _trail_seed(
        where,
        arn,
        lambda: trail_state(where, arn)[0].get("LogFileValidationEnabled"),
        lambda: trail_state(where, other),
    )


def _cloudtrail_logs_role(where: Where) -> str:
    """The service role the member-roles stack creates for CloudTrail to write to CloudWatch Logs."""
    name = solution.service_role("CloudTrailToCloudWatchLogs", SIM_NAMESPACE)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam = where.client("iam")
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except ClientError:
        return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])


def log_groups(where: Where) -> Any:
    logs = where.client("logs")
    groups = [g for page in logs.get_paginator("describe_log_groups").paginate() for g in page["logGroups"]]
    return sorted((g["logGroupName"], g.get("retentionInDays")) for g in groups)


@seeder("CloudTrail.5")
def trail_without_cloudwatch_logs(where: Where) -> Seeded:
    """A trail that does not deliver to CloudWatch Logs (no CloudWatchLogsLogGroupArn)."""
    _cloudtrail_logs_role(where)
    arn, other = _plain_trail_pair(where, "seeded-ct-5")

    def state() -> Any:
        trail = trail_state(where, arn)[0]
        return trail.get("CloudWatchLogsLogGroupArn"), trail.get("CloudWatchLogsRoleArn"), log_groups(where)

    return _trail_seed(where, arn, state, lambda: trail_state(where, other))


# --------------------------------------------------------------------------- CloudTrail.6 / .7


@seeder("CloudTrail.6")
def trail_bucket_public(where: Where) -> Seeded:
    """The bucket a logging trail delivers to is publicly readable through its ACL."""
    bucket = _trail_bucket(where, "seeded-ct-6-bucket")
    where.client("s3").put_bucket_acl(Bucket=bucket, ACL="public-read")
    _trail(where, "seeded-ct-6-trail", bucket)
    other = _bucket(where, "seeded-ct-6-bystander")
    return _bucket_seed(
        where,
        bucket,
        lambda: bucket_bpa(where, bucket),
        lambda: bucket_policy(where, bucket),
        lambda: bucket_acl(where, bucket),
        lambda: bucket_bpa(where, other),
    )


@seeder("CloudTrail.7")
def trail_bucket_without_access_logging(where: Where) -> Seeded:
    """The bucket a trail delivers to has server access logging off."""
    bucket = _trail_bucket(where, "seeded-ct-7-bucket")
    _trail(where, "seeded-ct-7-trail", bucket)
    other = _bucket(where, "seeded-ct-7-bystander")
    return _bucket_seed(
        where,
        bucket,
        lambda: bucket_logging(where, bucket),
        lambda: bucket_policy(where, bucket),
        lambda: bucket_logging(where, other),
    )


# --------------------------------------------------------------------------- Config.1


def config_state(where: Where) -> Any:
    config = where.client("config")
    recorders = config.describe_configuration_recorders()["ConfigurationRecorders"]
    statuses = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    channels = config.describe_delivery_channels()["DeliveryChannels"]
    return (
        recorders,
        sorted((s["name"], bool(s.get("recording"))) for s in statuses),
        channels,
    )


@seeder("Config.1")
def account_without_config(where: Where) -> Seeded:
    """No configuration recorder and no delivery channel in the Region."""
    return _account_seed(where, lambda: config_state(where))


def _team_config(where: Where, recording_group: dict[str, Any], **extra: Any) -> str:
    """The team's own recorder (its own role) and delivery channel (bucket + topic)."""
    bucket = _bucket(where, "seeded-config-team-bucket")
    topic = where.client("sns").create_topic(Name="team-config")["TopicArn"]
    role = f"arn:{where.partition}:iam::{where.account}:role/team-config-role"
    config = where.client("config")
    config.put_configuration_recorder(
        ConfigurationRecorder={"name": "team", "roleARN": role, "recordingGroup": recording_group, **extra}
    )
    config.put_delivery_channel(DeliveryChannel={"name": "team", "s3BucketName": bucket, "snsTopicARN": topic})
    return "team"


def _channels(where: Where) -> Any:
    return where.client("config").describe_delivery_channels()["DeliveryChannels"]


@seeder("Config.1", shape="custom-role")
def recorder_with_custom_role(where: Where) -> Seeded:
    """A recording recorder of all supported types that runs as the team's own IAM role, with a daily
    recording frequency: it must end on the service-linked role and keep its recording mode, its name
    and its delivery channel."""
    _team_config(
        where,
        {"allSupported": True, "includeGlobalResourceTypes": False},
        recordingMode={"recordingFrequency": "DAILY"},
    )
    where.client("config").start_configuration_recorder(ConfigurationRecorderName="team")

    def kept() -> Any:
        (recorder,) = where.client("config").describe_configuration_recorders()["ConfigurationRecorders"]
        return (
            recorder["name"],
            recorder.get("recordingMode"),
            recorder["recordingGroup"].get("includeGlobalResourceTypes"),
        )

    return _account_seed(where, lambda: config_state(where), kept, lambda: _channels(where))


@seeder("Config.1", shape="some-types-stopped")
def recorder_of_some_types_stopped(where: Where) -> Seeded:
    """A stopped recorder that records only two resource types, with the team's delivery channel."""
    _team_config(
        where,
        {
            "allSupported": False,
            "includeGlobalResourceTypes": False,
            "resourceTypes": ["AWS::S3::Bucket", "AWS::EC2::Instance"],
        },
    )
    return _account_seed(where, lambda: config_state(where), lambda: _channels(where))


# --------------------------------------------------------------------------- Athena.4
#
# No seeder: the remediation (EnableAthenaWorkGroupLogging) turns metrics on with Athena UpdateWorkGroup,
# which moto 5.2.5 does not implement (tests/remediations/test_enable_athena_workgroup_logging.py proves
# the remediation with botocore's Stubber instead).
