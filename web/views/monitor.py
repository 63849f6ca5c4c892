"""Listening in over HTTP: a supervisor joins, changes or leaves an agent's live call; the log per call."""

from __future__ import annotations

import asyncio

from aiohttp import web

from dialer.calllog.monitoring import ACTIONS, actions_on
from dialer.calls.monitor import MonitorError

from ..auth import SUPERVISORS, current_user, json_error, requires
from ..keys import SESSIONS, SWITCHBOARD


@requires(*SUPERVISORS)
async def monitor(request: web.Request) -> web.Response:
    """POST /api/v1/agents/{name}/monitor {"mode": listen|whisper|barge|stop}: the supervisor's phone rings."""
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or body.get("mode") not in ACTIONS:
        return json_error(400, f"mode is required: one of {', '.join(ACTIONS)}", field="mode")
    agent = request.match_info["name"]
    desk = request.app[SWITCHBOARD].find(agent)
    if desk is None:
        return json_error(409, f"agent {agent} is not on a call here: there is nothing to listen to", field="name")
    user = current_user(request)
    try:
        result = await desk.supervise(user.name, user.agent_line, body["mode"])
    except MonitorError as exc:
        return json_error(409, str(exc))
    return web.json_response(result)


@requires(*SUPERVISORS)
async def monitoring_log(request: web.Request) -> web.Response:
    """GET /api/v1/attempts/{id}/monitoring: who listened in on this call, how, and when."""
    attempt_id = int(request.match_info["id"])
    if attempt_id > 2**63 - 1:
        raise web.HTTPNotFound()

    def read() -> list[dict[str, object]]:
        with request.app[SESSIONS]() as session:
            return [{**a, "at": a["at"].isoformat()} for a in actions_on(session, attempt_id)]

    return web.json_response({"attempt_id": attempt_id, "actions": await asyncio.to_thread(read)})


def setup_routes(app: web.Application) -> None:
    """Register the monitoring routes."""
    app.router.add_post("/api/v1/agents/{name}/monitor", monitor, name="api_monitor")
    app.router.add_get(r"/api/v1/attempts/{id:\d{1,18}}/monitoring", monitoring_log, name="api_monitoring")
