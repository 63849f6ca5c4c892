#!/usr/bin/env bash
# Set up, create the database (SQLite under var/), and run the panel on a simulated phone network:
# demo dossiers, SIPp debtor lines, a simulated agent phone and a local mail server (var/outbox).
# Open the printed URL and log in as demo / demo (agent) or chef / demo (supervisor); Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/belblok db upgrade
exec .venv/bin/belblok serve --demo "$@"
