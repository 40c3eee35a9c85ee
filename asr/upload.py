"""Publish a build to your buckets (what ``deployment/upload-s3-dist.sh`` runs).

``python -m asr.upload <region> --bucket <base> --version <v> [--dist DIR] [--dry-run] [--yes]`` copies

* ``DIR/global-s3-assets/**`` to ``s3://<base>-reference/<solution>/<version>/`` (templates; the
  bucket may be in any Region: nested stacks are fetched by URL), and
* ``DIR/regional-s3-assets/**`` to ``s3://<base>-<region>/<solution>/<version>/`` (Lambda zips; this
  bucket must be *in* ``<region>``: Lambda reads function code only from a bucket in the function's
  Region -- https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCode.html, S3Bucket).

Before writing, it checks that both buckets are owned by the calling account (``HeadBucket`` with
``ExpectedBucketOwner``: a typo cannot publish your templates into someone else's bucket) and that
the regional bucket is in ``<region>`` (``GetBucketLocation``); every ``PutObject`` carries
``ExpectedBucketOwner`` too, and each object is read back (``HeadObject``) to compare its size.
``--dry-run`` lists what would be uploaded and makes no AWS call. boto3 takes the endpoint from the
standard ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL_STS`` variables
(https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html), e.g. for an S3-compatible
test endpoint.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from asr import solution
from asr.build import DEFAULT_OUT, GLOBAL_ASSETS, REGIONAL_ASSETS
from asr.cdk_common import Distribution

CONTENT_TYPES = {".template": "application/json", ".json": "application/json", ".zip": "application/zip"}


class UploadError(Exception):
    """Something that stops the upload; the message names the bucket, file or value."""


@dataclass(frozen=True)
class Upload:
    source: Path
    bucket: str
    key: str

    @property
    def size(self) -> int:
        return self.source.stat().st_size


def plan(dist_dir: Path, bucket_base: str, version: str, region: str) -> list[Upload]:
    """Every file to upload, global assets first, in a stable order."""
    if not solution.is_full_match(solution.REGION, region):
        raise UploadError(f"region {region!r} is not an AWS Region name (like us-east-1)")
    try:
        Distribution(bucket_base=bucket_base, version=version)
    except ValueError as err:
        raise UploadError(str(err)) from None
    prefix = f"{solution.TRADEMARKED_NAME}/{version}"
    uploads: list[Upload] = []
    for folder, bucket in ((GLOBAL_ASSETS, f"{bucket_base}-reference"), (REGIONAL_ASSETS, f"{bucket_base}-{region}")):
        root = dist_dir / folder
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
        if not files:
            raise UploadError(f"nothing to upload in {root}: run deployment/build-s3-dist.sh (make) first")
        uploads += [Upload(p, bucket, f"{prefix}/{p.relative_to(root).as_posix()}") for p in files]
    return uploads


def _code(err: Exception) -> str:
    return getattr(err, "response", {}).get("Error", {}).get("Code", type(err).__name__)


def check_buckets(session: Any, region: str, buckets: Sequence[str], regional: str) -> str:
    """The calling account, once every bucket is proven to be its own (and the regional one in ``region``)."""
    from botocore.exceptions import ClientError

    account = session.client("sts", region_name=region).get_caller_identity()["Account"]
    s3 = session.client("s3", region_name=region)
    for bucket in buckets:
        try:
            s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
        except ClientError as err:
            raise UploadError(
                f"bucket {bucket} does not exist or is not owned by account {account} ({_code(err)}): not uploading"
            ) from None
    location = s3.get_bucket_location(Bucket=regional, ExpectedBucketOwner=account).get("LocationConstraint")
    # GetBucketLocation: null means us-east-1, "EU" means eu-west-1
    # (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html).
    actual = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)
    if actual != region:
        raise UploadError(
            f"bucket {regional} is in {actual}, not {region}: Lambda reads code only from a bucket in the "
            f"function's Region; create {regional} in {region}"
        )
    return account


def upload(session: Any, region: str, uploads: Sequence[Upload], account: str, out: TextIO) -> None:
    s3 = session.client("s3", region_name=region)
    for item in uploads:
        extra = {"ContentType": CONTENT_TYPES.get(item.source.suffix, "application/octet-stream")}
        with item.source.open("rb") as body:
            s3.put_object(Bucket=item.bucket, Key=item.key, Body=body, ExpectedBucketOwner=account, **extra)
        stored = s3.head_object(Bucket=item.bucket, Key=item.key, ExpectedBucketOwner=account)["ContentLength"]
        if stored != item.size:
            raise UploadError(f"s3://{item.bucket}/{item.key} holds {stored} bytes after upload, not {item.size}")
        out.write(f"uploaded s3://{item.bucket}/{item.key} ({item.size:,} bytes)\n")


def describe(uploads: Sequence[Upload], out: TextIO, verb: str) -> None:
    for item in uploads:
        out.write(f"{verb} {item.source} -> s3://{item.bucket}/{item.key} ({item.size:,} bytes)\n")
    by_bucket: dict[str, int] = {}
    for item in uploads:
        by_bucket[item.bucket] = by_bucket.get(item.bucket, 0) + 1
    out.write(
        f"{len(uploads)} files, {sum(u.size for u in uploads):,} bytes: "
        + ", ".join(f"{n} to {b}" for b, n in by_bucket.items())
        + "\n"
    )


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout, stdin: TextIO = sys.stdin) -> int:
    parser = argparse.ArgumentParser(prog="python -m asr.upload", description=__doc__.split("\n\n")[0])
    parser.add_argument("region", help="Region of the Lambda code bucket <bucket>-<region>")
    parser.add_argument("--bucket", required=True, help="bucket base name the build used (-b)")
    parser.add_argument("--version", required=True, help="version the build used (-v)")
    parser.add_argument("--dist", type=Path, default=DEFAULT_OUT, help="folder holding global-s3-assets/ etc.")
    parser.add_argument("--dry-run", action="store_true", help="list what would be uploaded; no AWS call")
    parser.add_argument("--yes", action="store_true", help="do not ask before uploading")
    args = parser.parse_args(argv)
    try:
        uploads = plan(args.dist, args.bucket, args.version, args.region)
        reference, regional = f"{args.bucket}-reference", f"{args.bucket}-{args.region}"
        if args.dry_run:
            describe(uploads, out, "would upload")
            out.write("dry run: nothing uploaded\n")
            return 0
        import boto3

        session = boto3.Session()
        account = check_buckets(session, args.region, [reference, regional], regional)
        describe(uploads, out, "will upload")
        out.write("Anyone who can write to these buckets can change what your accounts deploy; keep them private.\n")
        if not args.yes:
            if not stdin.isatty():
                raise UploadError("refusing to upload without confirmation: pass --yes")
            out.write("Upload? [y/N] ")
            out.flush()
            if stdin.readline().strip().lower() not in ("y", "yes"):
                out.write("not uploaded\n")
                return 1
        upload(session, args.region, uploads, account, out)
    except UploadError as err:
        sys.stderr.write(f"upload: {err}\n")
        return 1
    prefix = f"{solution.TRADEMARKED_NAME}/{args.version}"
    out.write(
        f"uploaded {len(uploads)} files; admin template: https://{reference}.s3.amazonaws.com/{prefix}/"
        f"{solution.TEMPLATE_FILES[solution.ADMIN_STACK]}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
