"""The hourly promise sweep in a child process of its own, off the panel's GIL.

The sweep is ~1.5 s of Python (ORM) work for 20,000 open promises. In a worker thread of the panel's process it
takes the GIL from the event loop while it runs: a saturated panel's p99 went from ~75 to 264 ms with a sweep
every 10 s (docs/performance.md, "Pauses"). It only reads and writes the database, so a child with its own
engine can do it; the panel gets the changed agreements back. The child is `python -m dialer.scheduling.sweeper`: the
arguments go in pickled on stdin, the result comes back pickled on stdout, errors on stderr.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import sys
from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import Engine

from ..core.heap import collector_paused
from ..settings.config import Config
from ..storage.database import make_engine, session_factory, sqlite_file
from . import promises

COMMAND = (sys.executable, "-m", "dialer.scheduling.sweeper")


class SweepFailed(RuntimeError):
    """The child gave no result: it died, the sweep raised (nothing committed), or its answer was unreadable."""


def shareable(engine: Engine) -> bool:
    """True if another process can open the engine's database (a server, or a SQLite file, not memory)."""
    return engine.url.get_backend_name() != "sqlite" or sqlite_file(engine.url) is not None


async def sweep_apart(engine: Engine, day: date, cfg: Config, *, now: datetime) -> tuple[list[int], int]:
    """Run `promises.sweep` for `day` in a child process on the engine's database: (changed agreements, its pid)."""
    url = engine.url.render_as_string(hide_password=False)
    child = await asyncio.create_subprocess_exec(*COMMAND, stdin=asyncio.subprocess.PIPE,
                                                 stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await child.communicate(pickle.dumps((url, day, cfg, now)))
    if child.returncode != 0:
        last = " | ".join(err.decode(errors="replace").strip().splitlines()[-3:])
        raise SweepFailed(f"the sweep's process exited with {child.returncode}: {last or 'no message'}")
    try:
        changed, pid = pickle.loads(out)  # noqa: S301 - our own child's answer on its own pipe
    except Exception as exc:
        raise SweepFailed(f"the sweep's process answered something unreadable ({exc})") from None
    return changed, pid


def _sweep(url: str, day: date, cfg: Config, now: datetime) -> list[int]:
    engine = make_engine(url)
    try:
        # Its ORM objects live until the commit: collecting meanwhile would find nothing.
        with collector_paused(), session_factory(engine).begin() as session:
            return promises.sweep(session, day, cfg, now=now)
    finally:
        engine.dispose()


def main() -> int:
    """The child: read the arguments, sweep, write the result."""
    arguments: Any = pickle.load(sys.stdin.buffer)  # noqa: S301 - from the parent that started us
    changed = _sweep(*arguments)
    sys.stdout.buffer.write(pickle.dumps((changed, os.getpid())))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
