#!/usr/bin/env bash
# One command for the whole test suite: install (with test tools), then run it on SQLite
# and, when TEST_DATABASE_URL is set, again on that PostgreSQL database.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
echo "== test suite on SQLite"
env -u TEST_DATABASE_URL .venv/bin/python -m pytest "$@"
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  echo "== test suite on PostgreSQL ($TEST_DATABASE_URL)"
  .venv/bin/python -m pytest "$@"
fi
