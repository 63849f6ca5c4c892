"""The agent screen's read on PostgreSQL as one statement: the dossier and the debtor's agenda in one JSON value.

Each statement costs the panel ~0.1 ms of CPU in the driver on top of its rows, whether sent one by one or in a
pipeline (docs/performance.md, item 6): the screen asks for everything in one. It must stay equal to
`build_dossier` and `worklists.agenda` (tests/test_web_render.py and tests/test_web_api.py compare them).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from .dossier import UnknownDebtor
from .dossiersql import (  # the statement takes dossiersql.dossier_params
    DOSSIER_JSON,
    shaped,
    ts_sql,
)
from .worklists import AGENDA_LIMIT

_DEBTOR = "(SELECT id FROM debtors WHERE ref = :ref)"

CALLBACKS_JSON = f"""
SELECT coalesce(json_agg(json_build_object(
  'id', c.id, 'kind', c.kind, 'due_at', {ts_sql('c.due_at')}, 'agent', c.agent, 'note', c.note)
  ORDER BY c.due_at, c.id), '[]'::json)
FROM (SELECT * FROM callbacks WHERE debtor_id = {_DEBTOR} AND status IN ('pending', 'claimed')
      ORDER BY due_at, id LIMIT {AGENDA_LIMIT}) c
"""  # worklists.agenda's "callbacks"

TASKS_JSON = f"""
SELECT coalesce(json_agg(json_build_object(
  'id', t.id, 'kind', t.kind, 'title', t.title, 'detail', t.detail, 'agent', t.agent, 'role', t.role,
  'created_at', {ts_sql('t.created_at')}, 'created_by', t.created_by, 'debtor_id', t.debtor_id)
  ORDER BY t.id DESC), '[]'::json)
FROM (SELECT * FROM tasks WHERE debtor_id = {_DEBTOR} AND status = 'open' ORDER BY id DESC LIMIT {AGENDA_LIMIT}) t
"""  # worklists.agenda's "tasks"

STATEMENT = text(f"SELECT json_build_object('dossier', ({DOSSIER_JSON}), 'callbacks', ({CALLBACKS_JSON}), "
                 f"'tasks', ({TASKS_JSON}))::text")

Agenda = dict[str, list[dict[str, Any]]]


def finish_screen(raw: str, ref: str) -> tuple[dict[str, Any], Agenda]:
    """The dossier and the agenda from the statement's JSON text (UnknownDebtor if there is no such debtor)."""
    found = json.loads(raw)
    if found["dossier"] is None:
        raise UnknownDebtor(ref)
    return shaped(found["dossier"]), {"callbacks": found["callbacks"], "tasks": found["tasks"]}
