"""Recorded-call review in the panel: who may hear what, logging, the checklist, and a real browser player."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright
from pydub import AudioSegment
from pydub.generators import Sine
from sqlalchemy.orm import sessionmaker

from dialer.calllog.journal import CallLog
from dialer.recordings.jobs import process_one
from dialer.recordings.store import RecordingStore
from dialer.settings.config import parse
from tests.test_web_browser import ARGS, CHROMIUM
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import (
    MakeClient,
    add_account,
    bearer,
    csrf_of,
    login,
    web_config,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CFG = parse('[sip]\ntrunk = "127.0.0.1:9"\ncaller_id = "+31201234567"\n')


def recorded_call(engine, tmp_path: Path, agent: str, seconds: float = 6.0) -> int:
    """A processed recording of a call by `agent` (a tone on both channels)."""
    calllog = CallLog(sessionmaker(engine, expire_on_commit=False))
    attempt = calllog.open_attempt(number="+31612345678", caller_id="+31201234567", caller_id_withheld=False,
                                   at=NOW, agent=agent, debtor_ref="D-1001")
    calllog.mark_answered(attempt, NOW)
    calllog.mark_ended(attempt, at=NOW, outcome="answered", sip_code=200, sip_reason="OK", sip_code_source="wire")
    wav = tmp_path / f"call-{attempt}.wav"
    tone = Sine(330).to_audio_segment(duration=int(seconds * 1000), volume=-12).set_frame_rate(16000)
    with wav.open("wb") as f:
        AudioSegment.from_mono_audiosegments(tone, tone).export(f, format="wav")
    store = RecordingStore(sessionmaker(engine, expire_on_commit=False))
    rid = store.register(attempt, str(wav), at=NOW)
    assert process_one(store, CFG, rid)
    return rid


@pytest.fixture
async def panel(db_url: str, engine, tmp_path: Path, make_client: MakeClient):
    add_account(engine, "anna", "agent")
    add_account(engine, "bert", "agent")
    add_account(engine, "chef", "supervisor")
    return await make_client(web_config(db_url, tmp_path))


async def test_an_agent_hears_only_their_own_recordings(panel, engine, tmp_path: Path) -> None:
    mine = recorded_call(engine, tmp_path, "anna")
    theirs = recorded_call(engine, tmp_path, "bert")
    await login(panel, "anna")
    assert (await panel.get(f"/recordings/{mine}/audio")).status == 200
    assert (await panel.get(f"/recordings/{theirs}/audio")).status == 404
    assert (await panel.get(f"/recordings/{theirs}")).status == 404
    listed = await (await panel.get("/api/v1/recordings")).json()
    assert [r["id"] for r in listed] == [mine]


@pytest.mark.parametrize("path", [
    "/recordings/..%2F..%2Fetc%2Fpasswd/audio", "/recordings/1/audio/../../../../etc/passwd",
    "/recordings/%2e%2e/audio", "/recordings/1%2F..%2F2/audio", "/recordings/-1/audio",
])
async def test_paths_in_recording_urls_are_refused(panel, engine, tmp_path: Path, path: str) -> None:
    recorded_call(engine, tmp_path, "chef")
    await login(panel, "chef")
    response = await panel.get(path)
    assert response.status in (400, 404)
    assert b"root:" not in await response.read()


async def test_every_playback_and_download_is_logged(panel, engine, tmp_path: Path) -> None:
    rid = recorded_call(engine, tmp_path, "anna")
    await login(panel, "chef")  # the audio is a page's, not the API's: a login session, not a token
    play = await panel.get(f"/recordings/{rid}/audio")
    assert play.status == 200 and play.headers["Content-Type"] == "audio/ogg"
    download = await panel.get(f"/recordings/{rid}/audio?download=1")
    assert "attachment" in download.headers["Content-Disposition"]
    store = RecordingStore(sessionmaker(engine, expire_on_commit=False))
    assert [(a.user, a.action) for a in store.accesses(rid)] == [("chef", "play"), ("chef", "download")]


async def test_a_missing_file_is_reported_not_crashed(panel, engine, tmp_path: Path) -> None:
    rid = recorded_call(engine, tmp_path, "anna")
    Path(RecordingStore(sessionmaker(engine, expire_on_commit=False)).get(rid).path).unlink()
    await login(panel, "chef")
    page = await panel.get(f"/recordings/{rid}")
    assert page.status == 200 and "is missing" in await page.text()
    assert (await panel.get(f"/recordings/{rid}/audio")).status == 410


async def test_a_failed_review_creates_coaching_and_needs_a_supervisor(panel, engine, tmp_path: Path) -> None:
    rid = recorded_call(engine, tmp_path, "anna")
    token = await login(panel, "anna")
    refused = await panel.post(f"/recordings/{rid}/reviews", data={"csrf_token": token, "purpose_stated": "on"},
                               allow_redirects=False)
    assert refused.status == 403
    panel.session.cookie_jar.clear()
    token = await login(panel, "chef")
    saved = await panel.post(f"/recordings/{rid}/reviews",
                             data={"csrf_token": token, "purpose_stated": "on", "comment": "No agreement asked"},
                             allow_redirects=False)
    assert saved.status == 303
    page = await (await panel.get(f"/recordings/{rid}")).text()
    assert "No agreement asked" in page and "/100" in page
    forged = await panel.post(f"/recordings/{rid}/hold", data={"csrf_token": "forged", "hold": "1"},
                              allow_redirects=False)
    assert forged.status == 403
    assert csrf_of(page) == token


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                   args=[*ARGS, "--autoplay-policy=no-user-gesture-required"])
        try:
            yield chromium
        finally:
            await chromium.close()


async def test_the_review_page_plays_a_recording_and_seeks(panel, engine, tmp_path: Path, browser: Browser) -> None:
    rid = recorded_call(engine, tmp_path, "anna", seconds=8.0)
    # The panel's CSP forbids eval; Playwright's polling predicates need it.
    page = await browser.new_page(bypass_csp=True)
    await page.goto(str(panel.make_url("/login")))
    await page.fill("input[name=username]", "chef")
    await page.fill("input[name=password]", "correct horse battery staple")
    await page.click("button[type=submit]")
    await page.wait_for_url("**/dossiers")
    await page.goto(str(panel.make_url(f"/recordings/{rid}")))
    await page.wait_for_function("document.getElementById('audio').readyState >= 1")
    duration = await page.evaluate("document.getElementById('audio').duration")
    assert duration == pytest.approx(8.0, abs=0.5)
    await page.click("#play")
    await page.wait_for_function("document.getElementById('audio').currentTime > 0.2")
    box = await page.locator("#waveform").bounding_box()
    assert box is not None
    await page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
    await page.wait_for_function("document.getElementById('audio').currentTime > 5.5")
    assert await page.evaluate("document.getElementById('audio').error") is None


async def test_on_demand_recording_and_bookmarks_during_a_live_call(db_url: str, engine, tmp_path: Path,
                                                                   make_client: MakeClient) -> None:
    from softphone.sipp import SippPeer
    from tests.webfixtures import seeded

    seeded(engine)
    add_account(engine, "anna", "agent")
    auth = bearer(engine, "anna")
    # The debtor (SIPp) hangs up 3 s after answering: the recording has something in it.
    with SippPeer("answer", keys={"ring_ms": 100, "hangup_ms": 3000}) as line:
        cfg = web_config(db_url, tmp_path, trunk=line.uri)
        cfg = cfg.model_copy(update={"recording": cfg.recording.model_copy(update={"policy": "on_demand"})})
        client = await make_client(cfg)
        async with client.ws_connect("/ws", headers=auth) as ws:
            assert (await ws.receive_json(timeout=10))["type"] == "hello"
            refused = await client.post("/api/v1/calls/recording", headers=auth)
            assert refused.status == 409  # no call yet
            dialled = await client.post("/api/v1/calls", json={"debtor_ref": "D-1001", "number": "+31201110001"},
                                        headers=auth)
            assert dialled.status == 201, await dialled.text()
            while (await ws.receive_json(timeout=30)).get("kind") != "answered":
                pass
            started = await client.post("/api/v1/calls/recording", headers=auth)
            assert started.status == 201, await started.text()
            mark = await client.post("/api/v1/calls/bookmarks", json={"kind": "promise", "label": "€ 500 Friday"},
                                     headers=auth)
            assert mark.status == 201, await mark.text()
            assert (await mark.json())["offset_s"] >= 0
            while (last := await ws.receive_json(timeout=30)).get("kind") != "recording":
                pass
    assert last["detail"] == {"recorded": True}, last  # the file stays on the server
    listed = await (await client.get("/api/v1/recordings", headers=auth)).json()
    assert len(listed) == 1 and "promise" in listed[0]["flags"]
    # `belblok serve` processes it at once, off the event loop: wait for the row to say so.
    for _ in range(600):
        listed = await (await client.get("/api/v1/recordings", headers=auth)).json()
        if listed[0]["status"] != "pending":
            break
        await asyncio.sleep(0.05)
    assert (listed[0]["status"], listed[0]["format"]) == ("processed", "opus"), listed[0]
    detail = await (await client.get(f"/api/v1/recordings/{listed[0]['id']}", headers=auth)).json()
    assert [b["kind"] for b in detail["bookmarks"]] == ["promise"]
