#!/usr/bin/env bash
# Upload a build to your buckets: templates to s3://<base>-reference/<solution>/<version>/
# and Lambda zips to s3://<base>-<region>/<solution>/<version>/.
#
#   deployment/upload-s3-dist.sh <region> [--yes]
#
# Reads deployment/setenv.sh written by build-s3-dist.sh. Uses the AWS CLI with your
# current credentials, checks that both buckets are owned by the calling account
# (so a typo cannot publish your templates to someone else's bucket), and asks for
# confirmation unless --yes is given.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
region="${1:-}"
confirm="${2:-}"
if [[ ! "$region" =~ ^[a-z]{2}(-gov)?-[a-z]+-[0-9]$ ]]; then
  echo "usage: $0 <region> [--yes]   (region like us-east-1, got '${region}')" >&2
  exit 2
fi
[ -f "$here/setenv.sh" ] || { echo "no deployment/setenv.sh: run deployment/build-s3-dist.sh first" >&2; exit 1; }
# shellcheck disable=SC1091
source "$here/setenv.sh"
command -v aws >/dev/null || { echo "the AWS CLI is required" >&2; exit 1; }

account="$(aws sts get-caller-identity --query Account --output text)"
reference="${DIST_OUTPUT_BUCKET}-reference"
regional="${DIST_OUTPUT_BUCKET}-${region}"
for b in "$reference" "$regional"; do
  if ! aws s3api head-bucket --bucket "$b" --expected-bucket-owner "$account" 2>/dev/null; then
    echo "bucket $b does not exist or is not owned by account $account: not uploading" >&2
    exit 1
  fi
done

prefix="${DIST_SOLUTION_NAME}/${DIST_VERSION}"
echo "About to upload:"
echo "  $here/global-s3-assets   -> s3://$reference/$prefix/"
echo "  $here/regional-s3-assets -> s3://$regional/$prefix/"
echo "Anyone who can write to these buckets can change what your accounts deploy; keep them private."
if [ "$confirm" != "--yes" ]; then
  if [ ! -t 0 ]; then echo "refusing to upload without confirmation: pass --yes" >&2; exit 1; fi
  read -r -p "Upload? [y/N] " answer
  [[ "$answer" =~ ^[Yy]$ ]] || { echo "not uploaded"; exit 1; }
fi
aws s3 sync "$here/global-s3-assets" "s3://$reference/$prefix/" --expected-bucket-owner "$account"
aws s3 sync "$here/regional-s3-assets" "s3://$regional/$prefix/" --expected-bucket-owner "$account"
echo "uploaded; admin template: https://$reference.s3.amazonaws.com/$prefix/automated-security-response-admin.template"
