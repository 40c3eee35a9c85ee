#!/usr/bin/env bash
# Run the whole test suite in the project's virtualenv (what 'make test' runs).
#   deployment/run-unit-tests.sh [pytest args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${VENV:-$root/.venv}"
[ -x "$venv/bin/python" ] || { echo "no virtualenv at $venv: run 'make install' first" >&2; exit 1; }
export PATH="$venv/bin:$PATH"
cd "$root"
ruff check .
# A whole run also checks that every IAM grant is exercised or has a written reason (docs/iam.md).
if [ "$#" -eq 0 ]; then set -- --iam-coverage; fi
exec python -m pytest -n "${PYTEST_WORKERS:-2}" "$@"
