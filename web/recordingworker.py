"""Inside `belblok serve`: recordings are post-processed as soon as they are written, off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from dialer.recordings.jobs import record_outcome
from dialer.recordings.pool import AudioPool
from dialer.recordings.store import RecordingStore
from dialer.recordings.transcoder import RecordingError

from .keys import CONFIG, HUB, SESSIONS

log = logging.getLogger(__name__)


async def _process_pending(app: web.Application, pool: AudioPool, store: RecordingStore) -> None:
    cfg = app[CONFIG].recording
    for rec in await asyncio.to_thread(store.pending):
        try:
            outcome = await pool.process(rec.source_path, fmt=cfg.format, min_silence_s=cfg.min_silence_s)
        except RecordingError as exc:
            outcome = exc  # type: ignore[assignment]
        await asyncio.to_thread(record_outcome, store, rec, outcome)


async def recordings_context(app: web.Application) -> AsyncIterator[None]:
    """Process what is pending at start, then each recording the moment a desk reports it."""
    pool = AudioPool(workers=1)
    store = RecordingStore(app[SESSIONS])
    hub = app[HUB]
    events = hub.listen("*")

    async def run() -> None:
        while True:
            try:
                await _process_pending(app, pool, store)
            except Exception:  # a background task: log, and try again on the next recording
                log.exception("processing recordings failed")
            while (await events.get()).kind != "recording":
                pass

    task = asyncio.ensure_future(run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    hub.unlisten("*", events)
    await pool.aclose()
