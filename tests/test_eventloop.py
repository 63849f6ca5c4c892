"""The server's event loop: uvloop by default, asyncio's own on request."""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from web import eventloop


def test_the_server_runs_on_uvloop_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BELBLOK_EVENT_LOOP", raising=False)

    async def which() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    assert isinstance(eventloop.run(which()), uvloop.Loop)


def test_belblok_event_loop_asyncio_gives_asyncios_own_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELBLOK_EVENT_LOOP", "asyncio")
    loop = eventloop.new_event_loop()
    try:
        assert not isinstance(loop, uvloop.Loop) and isinstance(loop, asyncio.BaseEventLoop)
    finally:
        loop.close()
