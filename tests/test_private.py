"""Nothing private leaks: the API names recordings by id and address, never by their path on the server."""

from __future__ import annotations

from pathlib import Path

from tests.test_web_recordings import recorded_call
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, bearer, seeded, web_config


async def test_api_answers_show_recording_ids_not_server_paths(db_url: str, engine, tmp_path: Path,
                                                               make_client: MakeClient) -> None:
    seeded(engine)
    rid = recorded_call(engine, tmp_path, "chef")  # a call to D-1001, its file under tmp_path
    client = await make_client(web_config(db_url, tmp_path))
    auth = bearer(engine, "chef")
    for path in ("/api/v1/debtors/D-1001", "/api/v1/recordings", f"/api/v1/recordings/{rid}"):
        response = await client.get(path, headers=auth)
        assert response.status == 200, path
        text = await response.text()
        assert str(tmp_path) not in text and ".wav" not in text and ".ogg" not in text, (path, text[:300])
    dossier = await (await client.get("/api/v1/debtors/D-1001", headers=auth)).json()
    (call,) = [a for a in dossier["attempts"] if a["agent"] == "chef"]
    assert call["recording_id"] == rid and "recording" not in call
    listed = await (await client.get("/api/v1/recordings", headers=auth)).json()
    assert listed[0]["audio_url"] == f"/recordings/{rid}/audio" and "path" not in listed[0]
