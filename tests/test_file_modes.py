"""What Belblok creates is private to the service's user (0600 files, 0700 directories), whatever the umask."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dialer.scheduling.ics import feed_secret
from softphone.recorder import RecordingParts
from tests.test_web_cli import BELBLOK, config_file


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def open_umask() -> Iterator[None]:
    """A careless start-up: umask 000, so only Belblok's own modes keep the files private."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_the_database_is_created_private_under_umask_000(tmp_path: Path) -> None:
    db = tmp_path / "data" / "belblok.db"
    cfg = config_file(tmp_path, f"sqlite:///{db}")
    done = subprocess.run([BELBLOK, "--config", str(cfg), "db", "upgrade"], capture_output=True, text=True,
                          timeout=120, preexec_fn=lambda: os.umask(0))
    assert done.returncode == 0, done.stderr
    assert (mode(db.parent), mode(db)) == (0o700, 0o600)


def test_an_existing_readable_database_is_made_private(tmp_path: Path) -> None:
    from dialer.storage.database import make_engine, upgrade

    db = tmp_path / "belblok.db"
    db.touch(mode=0o644)
    os.chmod(db, 0o644)
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    engine.dispose()
    assert mode(db) == 0o600


def test_recordings_and_the_feed_key_are_private_under_umask_000(tmp_path: Path) -> None:
    with open_umask():
        parts = RecordingParts.for_call(tmp_path / "rec" / "2026", "call-1")
        feed_secret(tmp_path / "var" / "calendar-feed.key")
    assert mode(parts.final.parent) == 0o700
    assert (mode(tmp_path / "var"), mode(tmp_path / "var" / "calendar-feed.key")) == (0o700, 0o600)
