"""The systemd units shipped in deploy/ pass `systemd-analyze verify` (as installed: paths to a real belblok)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNITS = ROOT / "deploy" / "systemd"
VENV = Path(sys.executable).parent.parent  # the unit names /opt/belblok/.venv; here the project's own venv


@pytest.mark.parametrize(("unit", "installed_as"), [("belblok.service", "belblok.service"),
                                                     ("belblok@.service", "belblok@8081.service")])
def test_the_unit_verifies_without_a_warning(unit: str, installed_as: str, tmp_path: Path) -> None:
    text = (UNITS / unit).read_text()
    assert "/opt/belblok/.venv/bin/belblok" in text
    (tmp_path / installed_as).write_text(text.replace("/opt/belblok/.venv", str(VENV)))
    done = subprocess.run(["systemd-analyze", "verify", str(tmp_path / installed_as)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stdout + done.stderr


def test_a_unit_with_a_mistake_is_caught(tmp_path: Path) -> None:
    # The check above can fail: a misspelt key is reported.
    text = (UNITS / "belblok.service").read_text().replace("KillMode=mixed", "KilMode=mixed")
    (tmp_path / "belblok.service").write_text(text.replace("/opt/belblok/.venv", str(VENV)))
    done = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "belblok.service")], capture_output=True,
                          text=True, timeout=60)
    assert "KilMode" in done.stdout + done.stderr


def test_the_template_unit_serves_on_its_instance_port() -> None:
    text = (UNITS / "belblok@.service").read_text()
    assert "--port %i" in text and "WorkingDirectory=/var/lib/belblok/%i" in text
