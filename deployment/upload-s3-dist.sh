#!/usr/bin/env bash
# Upload a build to your buckets: templates to s3://<base>-reference/<solution>/<version>/
# and Lambda zips to s3://<base>-<region>/<solution>/<version>/.
#
#   deployment/upload-s3-dist.sh <region> [--yes] [--dry-run] [--dist DIR]
#
#   --yes      do not ask before uploading (automation)
#   --dry-run  list every file and where it would go; no AWS call, no credentials needed
#   --dist     folder holding global-s3-assets/, regional-s3-assets/ and setenv.sh (default: deployment/)
#
# Reads <dist>/setenv.sh written by build-s3-dist.sh. Runs python -m asr.upload (boto3, from
# the project's virtualenv; no AWS CLI needed) with your current credentials: it checks that
# both buckets are owned by the calling account (so a typo cannot publish your templates to
# someone else's bucket) and that <base>-<region> is in <region> (Lambda reads code only from
# its own Region), uploads, and reads every object back. AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3
# point it at another S3 endpoint.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
venv="${VENV:-$root/.venv}"
usage() { sed -n '5,9p' "$0" >&2; }

region="${1:-}"
if [[ ! "$region" =~ ^[a-z]{2}(-gov)?-[a-z]+-[0-9]$ ]]; then
  echo "usage: $0 <region> [--yes] [--dry-run] [--dist DIR]   (region like us-east-1, got '${region}')" >&2
  exit 2
fi
shift
dist="$here"
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --yes|--dry-run) extra+=("$1") ;;
    --dist) [ $# -ge 2 ] || { usage; exit 2; }; dist="$2"; shift ;;
    *) echo "unknown option '$1'" >&2; usage; exit 2 ;;
  esac
  shift
done
[ -f "$dist/setenv.sh" ] || { echo "no $dist/setenv.sh: run deployment/build-s3-dist.sh first" >&2; exit 1; }
# shellcheck disable=SC1091
source "$dist/setenv.sh"
[ -x "$venv/bin/python" ] || { echo "no virtualenv at $venv: run 'make install' first" >&2; exit 1; }

cd "$root"
exec "$venv/bin/python" -m asr.upload "$region" --bucket "$DIST_OUTPUT_BUCKET" --version "$DIST_VERSION" \
  --dist "$dist" ${extra[@]+"${extra[@]}"}
