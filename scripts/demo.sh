#!/usr/bin/env bash
# Set up, create the database (SQLite under var/), and run the demo calls.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/belblok db upgrade
exec .venv/bin/belblok demo "$@"
