#!/usr/bin/env bash
# Installs everything Belblok needs on a Debian machine (run as root or with sudo):
# system packages, a virtualenv in .venv, and the project with its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(sip-tester ffmpeg kamailio chromium wrk systemd)  # wrk: the panel benchmark's load generator; systemd: systemd-analyze checks the shipped units

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts kamailio as a service on 5060; Belblok runs its own on loopback when needed.
  if command -v kamailio >/dev/null && pgrep -x kamailio >/dev/null; then
    $SUDO pkill -x kamailio || true
  fi
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
echo "setup: installing Python packages into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v "is ignored" || true
.venv/bin/python -c "import pjsua2, softphone, dialer" || { echo "setup: the install is incomplete" >&2; exit 1; }
echo "setup: done"
