#!/usr/bin/env bash
# One command for the whole test suite: install (with test tools), then run it on SQLite
# and, when TEST_DATABASE_URL is set, again on that PostgreSQL database.
# Two processes (pytest-xdist), each with its own app and database; the browser and production-mode
# tests run on one of them one after another (tests/support/parallel.py). `-n 0` runs in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
parallel=(-n 2 --dist loadgroup)
echo "== test suite on SQLite"
env -u TEST_DATABASE_URL .venv/bin/python -m pytest "${parallel[@]}" "$@"
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  echo "== test suite on PostgreSQL ($TEST_DATABASE_URL)"
  .venv/bin/python -m pytest "${parallel[@]}" "$@"
fi
