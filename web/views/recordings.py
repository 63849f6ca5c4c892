"""Recorded-call review: the list, the player with waveform and bookmarks, the QA checklist, audio files."""

from __future__ import annotations

import asyncio
import time
from datetime import date, datetime, timezone
from datetime import time as dtime
from pathlib import Path
from typing import Any

from aiohttp import web

from dialer.calllog.monitoring import actions_on
from dialer.recordings.model import BOOKMARK_KINDS, Recording
from dialer.recordings.reviews import (
    CHECKLIST,
    ReviewError,
    record_review,
    reviews_of,
    suggested,
)
from dialer.recordings.store import (
    RecordingFilter,
    RecordingNotFound,
    RecordingStore,
    file_problem,
    shown_json,
)

from ..auth import SUPERVISORS, current_user, json_error, requires
from ..i18n import _, current_language
from ..keys import CLOCK, CONFIG, PLAYS, SESSIONS, SWITCHBOARD
from ..render import render
from .pages import see_other

MEDIA_TYPES = {"opus": "audio/ogg", "mp3": "audio/mpeg", "wav": "audio/wav"}


def _store(request: web.Request) -> RecordingStore:
    return RecordingStore(request.app[SESSIONS])


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _seconds(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _filter(request: web.Request) -> RecordingFilter:
    q = request.query
    since, until = _day(q.get("since")), _day(q.get("until"))
    return RecordingFilter(
        agent=q.get("agent") or None, debtor=(q.get("q") or "").strip() or None, outcome=q.get("outcome") or None,
        since=datetime.combine(since, dtime.min, timezone.utc) if since else None,
        until=datetime.combine(until, dtime.max, timezone.utc) if until else None,
        min_duration_s=_seconds(q.get("min_s")), max_duration_s=_seconds(q.get("max_s")),
        flag=q.get("flag") or None)


def _visible(request: web.Request) -> dict[str, Any]:
    user = current_user(request)
    return {"viewer": user.name, "all_agents": user.is_supervisor}


def _recording_id(request: web.Request) -> int:
    # The route matches 1-18 digits only: no path can come from the URL, no id beyond 64 bits reaches the database.
    return int(request.match_info["id"])


async def _get(request: web.Request) -> Recording:
    try:
        return await asyncio.to_thread(_store(request).get, _recording_id(request), **_visible(request))
    except RecordingNotFound:
        raise web.HTTPNotFound(text=_("No such recording.")) from None


async def recording_list(request: web.Request) -> web.Response:
    """The review list with filters; agents see their own calls only."""
    rows = await asyncio.to_thread(_store(request).search, _filter(request), **_visible(request))
    return render("recordings.html", request, {"recordings": [shown_json(r) for r in rows],
                                               "query": dict(request.query)})


async def recording_page(request: web.Request) -> web.Response:
    """The player: waveform, bookmarks, the QA checklist and earlier reviews."""
    rec = await _get(request)
    store = _store(request)
    marks, reviews, problem, monitoring = await asyncio.gather(
        asyncio.to_thread(store.bookmarks, rec.attempt_id),
        asyncio.to_thread(reviews_of, request.app[SESSIONS], rec.id),
        asyncio.to_thread(file_problem, rec, paths=False) if rec.status != "purged" else asyncio.sleep(0, _("purged")),
        asyncio.to_thread(_monitoring, request, rec.attempt_id))
    lang = current_language.get()
    checklist = [{"key": i.key, "label": i.nl if lang == "nl" else i.en, "weight": i.weight} for i in CHECKLIST]
    return render("recording.html", request, {
        "rec": shown_json(rec), "waveform": rec.waveform or [], "problem": problem,
        "bookmarks": [{"offset_s": b.offset_s, "kind": b.kind, "label": b.label, "by": b.created_by} for b in marks],
        "reviews": reviews, "checklist": checklist, "suggested": suggested(rec), "monitoring": monitoring,
        "monitor_labels": {"listen": _("listened in"), "whisper": _("whispered to the agent"),
                           "barge": _("joined the conversation"), "stop": _("left the call")}})


def _monitoring(request: web.Request, attempt_id: int) -> list[dict[str, Any]]:
    """Who listened in on the call (supervisors only see it: the agent may not be told of silent monitoring)."""
    if not current_user(request).is_supervisor:
        return []
    with request.app[SESSIONS]() as session:
        return actions_on(session, attempt_id)


async def recording_audio(request: web.Request) -> web.StreamResponse:
    """The audio file itself; every playback and download is logged."""
    rec = await _get(request)
    problem = _("purged") if rec.status == "purged" else await asyncio.to_thread(file_problem, rec)
    if problem:
        return web.Response(status=410, text=_("This recording cannot be played: {problem}").format(problem=problem))
    download = request.query.get("download") == "1"
    user, now = current_user(request), request.app[CLOCK]()
    # A player asks for byte ranges many times: log a playback once per minute per user.
    seen: dict[tuple[int, str], float] = request.app[PLAYS]
    key = (rec.id, user.name)
    if download or time.monotonic() - seen.get(key, -1e9) > 60:
        seen[key] = time.monotonic()
        await asyncio.to_thread(_store(request).log_access, rec.id, user.name, "download" if download else "play",
                                at=now)
    path = Path(rec.path or rec.source_path)
    headers = {"Content-Type": MEDIA_TYPES.get(rec.format or "wav", "application/octet-stream"),
               "Cache-Control": "private, no-store"}
    if download:
        headers["Content-Disposition"] = f'attachment; filename="belblok-call-{rec.attempt_id}{path.suffix}"'
    return web.FileResponse(path, headers=headers)


@requires(*SUPERVISORS)
async def review_form(request: web.Request) -> web.Response:
    """Store a QA review (supervisors); a failed one creates a coaching task for the agent."""
    rec = await _get(request)
    form = await request.post()
    answers = {item.key: form.get(item.key) == "on" for item in CHECKLIST}
    comment = str(form.get("comment") or "").strip()[:4000] or None
    try:
        await asyncio.to_thread(record_review, request.app[SESSIONS], rec.id, reviewer=current_user(request).name,
                                answers=answers, comment=comment, at=request.app[CLOCK]())
    except ReviewError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    return see_other(f"/recordings/{rec.id}")


@requires(*SUPERVISORS)
async def hold_form(request: web.Request) -> web.Response:
    """Put a recording on legal hold (kept whatever the retention), or release it."""
    rec = await _get(request)
    form = await request.post()
    await asyncio.to_thread(_store(request).set_legal_hold, rec.id, form.get("hold") == "1")
    return see_other(f"/recordings/{rec.id}")


async def api_list(request: web.Request) -> web.Response:
    """GET /api/v1/recordings: the same list as JSON."""
    rows = await asyncio.to_thread(_store(request).search, _filter(request), **_visible(request))
    return web.json_response([shown_json(r) for r in rows])


async def api_recording(request: web.Request) -> web.Response:
    """GET /api/v1/recordings/{id}: one recording with bookmarks."""
    rec = await _get(request)
    marks = await asyncio.to_thread(_store(request).bookmarks, rec.attempt_id)
    return web.json_response({**shown_json(rec), "waveform": rec.waveform or [],
                              "bookmarks": [{"offset_s": b.offset_s, "kind": b.kind, "label": b.label} for b in marks]})


async def api_bookmark(request: web.Request) -> web.Response:
    """POST /api/v1/calls/bookmarks {"kind", "label"}: mark this moment of the agent's current call."""
    try:
        data = await request.json() if request.can_read_body else {}
    except ValueError:
        return json_error(400, _("the body must be JSON"))
    if not isinstance(data, dict):
        return json_error(400, "the body must be a JSON object: {\"kind\": \"promise\", \"label\": \"…\"}")
    kind = str(data.get("kind") or "other")
    if kind not in BOOKMARK_KINDS:
        return json_error(400, _("unknown bookmark kind"))
    user = current_user(request)
    desk = request.app[SWITCHBOARD].desk(user.name, user.agent_line)
    mark = desk.bookmark_point()
    if mark is None:
        return json_error(409, _("No call is being recorded right now."))
    attempt_id, offset = mark
    label = data.get("label")
    if label is not None and (not isinstance(label, str) or not label.isprintable()):  # no CR/LF, no surrogate
        return json_error(400, "label must be one line of text", field="label")
    label = (label or "")[:255] or None
    mark_id = await asyncio.to_thread(_store(request).add_bookmark, attempt_id, offset, kind, label=label,
                                      by=user.name, at=request.app[CLOCK]())
    return web.json_response({"id": mark_id, "attempt_id": attempt_id, "offset_s": round(offset, 2), "kind": kind},
                             status=201)


async def api_record(request: web.Request) -> web.Response:
    """POST /api/v1/calls/recording: start recording the current call (on-demand recording)."""
    if request.app[CONFIG].recording.policy == "none":
        return json_error(409, _("This team does not record calls."))
    user = current_user(request)
    desk = request.app[SWITCHBOARD].desk(user.name, user.agent_line)
    if not await desk.start_recording():
        return json_error(409, _("No answered call to record, or it is already recorded."))
    return web.json_response({"recording": True, "attempt_id": desk.current}, status=201)


def setup_routes(app: web.Application) -> None:
    """Register the review pages, the audio route and the recordings API."""
    r = app.router
    r.add_get("/recordings", recording_list, name="recordings")
    r.add_get(r"/recordings/{id:\d{1,18}}", recording_page, name="recording")
    r.add_get(r"/recordings/{id:\d{1,18}}/audio", recording_audio, name="recording_audio")
    r.add_post(r"/recordings/{id:\d{1,18}}/reviews", review_form, name="recording_review")
    r.add_post(r"/recordings/{id:\d{1,18}}/hold", hold_form, name="recording_hold")
    r.add_get("/api/v1/recordings", api_list, name="api_recordings")
    r.add_get(r"/api/v1/recordings/{id:\d{1,18}}", api_recording, name="api_recording")
    r.add_post("/api/v1/calls/bookmarks", api_bookmark, name="api_bookmark")
    r.add_post("/api/v1/calls/recording", api_record, name="api_record")
