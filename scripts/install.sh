#!/usr/bin/env bash
# Installs everything Agent Academy needs on Debian 12: system packages, a virtualenv,
# Python packages, compiled translation catalogs. Safe to run again (it skips what is there).
#   scripts/install.sh          app dependencies
#   scripts/install.sh --test   also the test tools (pytest, Playwright, the Korean Vosk model)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(espeak-ng sox libsndfile1 chromium fonts-noto-cjk fonts-wqy-zenhei poppler-utils redis-server postgresql-client)
[ "${1:-}" = "--test" ] && APT_PACKAGES+=(nodejs)  # node --test runs the tests of static/js/drill
PYTHON=${PYTHON:-python3.11}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

command -v "$PYTHON" >/dev/null || { echo "install: $PYTHON not found (Python 3.11 is required)" >&2; exit 1; }
"$PYTHON" -c 'import ensurepip' 2>/dev/null || APT_PACKAGES+=(python3.11-venv)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install: apt packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
extras=""
[ "${1:-}" = "--test" ] && extras="[test]"
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}"
.venv/bin/python scripts/i18n.py compile
echo "install: done"
