#!/usr/bin/env bash
# One command to try Agent Academy: install, migrate, load the shipped content and the
# demo accounts, then serve on http://127.0.0.1:5000 .
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export FLASK_APP=wsgi DEMO_MODE="${DEMO_MODE:-1}"
# Printed certificates link here (their QR code too); this script serves exactly there.
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:5000}"
.venv/bin/flask db upgrade
# The official small zh-CN and en-US speech models, verified against their pinned sha256, unless
# installed already. Offline it prints one line and the app runs typed-only for those languages;
# ACADEMY_FETCH_MODELS=0 turns it off (air-gapped installs). The test command never fetches.
.venv/bin/flask speech fetch || true
if .venv/bin/flask content --help >/dev/null 2>&1; then .venv/bin/flask content sync; fi
.venv/bin/flask demo load
echo "Agent Academy: http://127.0.0.1:5000  (demo accounts: see README)"
# flask serve: loads the installed speech models first, then serves (see app/speechops/serve.py).
exec .venv/bin/flask serve --host 127.0.0.1 --port 5000
