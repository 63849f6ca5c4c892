"""The OpenAPI 3 document of /api/v1, as data (served at /api/v1/openapi.json)."""

from __future__ import annotations

import copy
from typing import Any

from dialer.live.states import CHOSEN

from .apischemas import NULLABLE_STRING, SCHEMAS

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "The request is malformed", 401: "Not logged in (no or a wrong bearer token or session)",
            403: "Your role may not do this, or the CSRF token is missing", 404: "Not found",
            409: "Conflict", 422: "Not valid", 501: "Not available", 502: "The telephone failed"}
    return {str(code): _json(_ERROR, text[code]) for code in codes}


_BODY = {"required": True, "content": {"application/json": {"schema": {}}}}


def _body(ref: str) -> dict[str, Any]:
    body = copy.deepcopy(_BODY)
    body["content"]["application/json"]["schema"] = {"$ref": f"#/components/schemas/{ref}"}
    return body


_PATHS: dict[str, Any] = {
    "/api/v1/openapi.json": {"get": {"operationId": "openapi", "summary": "This document",
                                     "responses": {"200": {"description": "OpenAPI 3 document"}}}},
    "/api/v1/debtors": {"get": {
        "operationId": "listDebtors", "summary": "Dossiers by reference prefix or part of the name (at most 50)",
        "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": _json({"type": "object", "properties": {"debtors": {
            "type": "array", "items": {"$ref": "#/components/schemas/DossierRow"}}}}, "Matching dossiers"),
            **_errors(401)}}},
    "/api/v1/debtors/{ref}": {"get": {
        "operationId": "getDebtor", "summary": "The whole dossier of one debtor",
        "parameters": [{"name": "ref", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": _json({"$ref": "#/components/schemas/Dossier"}, "The dossier"), **_errors(401, 404)}}},
    "/api/v1/imports/{kind}": {"post": {
        "operationId": "importCsv",
        "summary": "Import a CSV or workbook, a bank statement or a UBL document (all or nothing); supervisors and "
                   "admins",
        "parameters": [
            {"name": "kind", "in": "path", "required": True, "schema": {"type": "string"},
             "description": "What the body holds: debtors, contacts, invoices, payments (CSV or workbook); "
                            "statement (camt.053, camt.054 or MT940; ?name= the file's name); ubl (one Peppol/UBL "
                            "invoice or credit note)"},
            {"name": "map", "in": "query", "required": False, "style": "form", "explode": True,
             "schema": {"type": "array", "items": {"type": "string"}}, "description": "FIELD=COLUMN, repeatable"},
            {"name": "mapping", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "The column map as a JSON object"}],
        "requestBody": {"required": True, "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object", "required": ["csv"], "properties": {
                "csv": {"type": "string"}, "mapping": {"type": "object", "additionalProperties": {"type": "string"}}}}}}},
        "responses": {"200": _json({"type": "object", "properties": {"kind": {"type": "string"},
                                                                     "result": {"type": "object"}}}, "Imported"),
                      **_errors(400, 401, 403, 422, 501)}}},
    "/api/v1/calls": {"post": {
        "operationId": "dial", "summary": "Dial one of the dossier's numbers from your desk",
        "requestBody": _body("DialRequest"),
        "responses": {"201": _json({"$ref": "#/components/schemas/Dialled"}, "The call is under way"),
                      **_errors(400, 401, 403, 404, 409, 502)}}},
    "/api/v1/calls/current": {"get": {
        "operationId": "currentCall", "summary": "Your desk's latest live event",
        "responses": {"200": _json({"type": "object", "properties": {"event": {
            "allOf": [{"$ref": "#/components/schemas/LiveEvent"}], "nullable": True}}}, "The latest event"),
            **_errors(401)}}},
    "/api/v1/calls/hangup": {"post": {
        "operationId": "hangup", "summary": "Hang up your current call",
        "responses": {"200": _json({"type": "object", "properties": {"ok": {"type": "boolean"}}}, "Done"),
                      **_errors(401, 403)}}},
    "/api/v1/notes": {"post": {
        "operationId": "addNote", "summary": "A note on the dossier, with the call's attempt id",
        "requestBody": _body("NoteRequest"),
        "responses": {"201": _json({"$ref": "#/components/schemas/Note"}, "Saved"),
                      **_errors(400, 401, 403, 404, 422)}}},
    "/api/v1/wrapups": {"post": {
        "operationId": "wrapUp",
        "summary": "Record the call's outcome, agreement, call-back, complaint and escalation",
        "description": "An agreement outside the negotiation room answers 409 with its warnings; send it again "
                       "with confirm=true to save it anyway. An agreement sends a confirmation e-mail.",
        "requestBody": _body("WrapUp"),
        "responses": {"201": _json({"$ref": "#/components/schemas/WrapUpResult"}, "Saved"),
                      **_errors(400, 401, 403, 404, 409, 422)}}},
    "/api/v1/demo/incoming": {"post": {
        "operationId": "demoIncomingCall",
        "summary": "Demo only: the dossier's debtor phones the team number (a simulated caller on loopback)",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["debtor_ref"],
            "properties": {"debtor_ref": {"type": "string"},
                           "number": {"type": "string", "description": "One of the dossier's numbers; "
                                                                       "default: the first"}}}}}},
        "responses": {"202": _json({"type": "object", "properties": {
            "debtor_ref": {"type": "string"}, "number": {"type": "string"}, "contact": {"type": "string"}}},
            "The simulated debtor is calling"), **_errors(400, 401, 403, 404)}}},
    "/api/v1/recordings": {"get": {
        "operationId": "listRecordings", "summary": "Recorded calls (supervisors: all; agents: their own)",
        "parameters": [{"name": n, "in": "query", "schema": {"type": "string"}}
                       for n in ("q", "agent", "outcome", "since", "until", "min_s", "max_s", "flag")],
        "responses": {"200": _json({"type": "array", "items": {"$ref": "#/components/schemas/Recording"}},
                                   "Recordings, newest first"), **_errors(401)}}},
    "/api/v1/recordings/{id}": {"get": {
        "operationId": "getRecording", "summary": "One recording with its waveform and bookmarks",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": _json({"$ref": "#/components/schemas/Recording"}, "The recording"),
                      **_errors(401, 404)}}},
    "/api/v1/calls/bookmarks": {"post": {
        "operationId": "bookmark", "summary": "Mark this moment of your current (recorded) call",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "properties": {
                "kind": {"type": "string", "enum": ["promise", "dispute", "objection", "escalation", "other"]},
                "label": {"type": "string"}}}}}},
        "responses": {"201": _json({"type": "object", "properties": {
            "id": {"type": "integer"}, "attempt_id": {"type": "integer"}, "offset_s": {"type": "number"},
            "kind": {"type": "string"}}}, "Marked"), **_errors(400, 401, 403, 409)}}},
    "/api/v1/session": {"get": {
        "operationId": "getSession", "summary": "Your calling session (null when none)",
        "responses": {"200": _json({"type": "object", "properties": {"session": {"type": "object",
                                                                                  "nullable": True}}},
                                   "The session's state"), **_errors(401)}}},
    "/api/v1/session/{action}": {"post": {
        "operationId": "sessionAction", "summary": "Start (preview or power), preview the next dossier, dial, "
                                                   "pause, resume or end your calling session",
        "parameters": [{"name": "action", "in": "path", "required": True, "schema": {
            "type": "string", "enum": ["start", "preview", "dial", "pause", "resume", "end"]}}],
        "requestBody": {"required": False, "content": {"application/json": {"schema": {
            "type": "object", "properties": {
                "mode": {"type": "string", "enum": ["preview", "power"], "description": "With start"},
                "code": {"type": "string", "description": "With pause: a configured pause code, kept on the "
                                                          "floor as the panel's pause is"}}}}}},
        "responses": {"200": _json({"type": "object", "properties": {"session": {"type": "object"}}},
                                   "The session's state"),
                      **_errors(401, 403, 409),
                      "400": _json(_ERROR, "The pause code is refused (reason unknown_code or no_code)")}}},
    "/api/v1/blocks": {"get": {
        "operationId": "listBlocks", "summary": "Calling blocks in force, the current and the next",
        "responses": {"200": _json({"type": "object"}, "The blocks"), **_errors(401)}}},
    "/api/v1/calendar": {"get": {
        "operationId": "calendarFeed", "summary": "Your call-back appointments as an iCalendar feed address",
        "responses": {"200": _json({"type": "object", "properties": {
            "agent": {"type": "string"}, "url": {"type": "string"}}}, "The feed address (keep it private)"),
            **_errors(401)}}},
    "/api/v1/calendar/revoke": {"post": {
        "operationId": "revokeCalendarFeed",
        "summary": "End your feed address at once (a lost phone, a shared link) and get a new one",
        "description": "The address is built from [web] public_url (a path only when it is not set).",
        "responses": {"200": _json({"type": "object", "properties": {
            "agent": {"type": "string"}, "url": {"type": "string"}, "revoked": {"type": "boolean"}}},
            "The new address; every earlier one answers 404"), **_errors(401, 403)}}},
    "/api/v1/calls/recording": {"post": {
        "operationId": "startRecording", "summary": "Start recording your current answered call (on-demand policy)",
        "responses": {"201": _json({"type": "object", "properties": {"recording": {"type": "boolean"},
                                                                      "attempt_id": {"type": "integer"}}},
                                   "Recording"), **_errors(401, 403, 409)}}},
    "/api/v1/outbox": {"get": {
        "operationId": "outbox", "summary": "Sent and failed e-mail, and the local outbox",
        "responses": {"200": _json({"type": "object", "properties": {
            "emails": {"type": "array", "items": {"$ref": "#/components/schemas/Email"}},
            "outbox": {"type": "array", "items": {"type": "object"}}}}, "The e-mail"), **_errors(401)}}},
    "/api/v1/agent/state": {
        "get": {"operationId": "getAgentState", "summary": "Your state on the floor, and the team's pause codes",
                "responses": {"200": _json({"allOf": [{"$ref": "#/components/schemas/AgentState"}, {
                    "type": "object", "properties": {"pause_codes": {
                        "type": "array", "items": {"$ref": "#/components/schemas/PauseCode"}}}}]}, "Your state"),
                    **_errors(401)}},
        "post": {"operationId": "setAgentState",
                 "summary": "Become ready, pause with a pause code, or go offline (not during a call)",
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["state"], "properties": {
                         "state": {"type": "string", "enum": list(CHOSEN)},
                         "code": {"type": "string", "description": "A configured pause code; only with paused"}}}}}},
                 "responses": {"200": _json({"$ref": "#/components/schemas/AgentState"}, "The new state"),
                               **_errors(400, 401, 403)}}},
    "/api/v1/wallboard": {"get": {
        "operationId": "getWallboard", "summary": "Every agent's state and the team's counters of today (supervisors)",
        "description": "What the wallboard's WebSocket /wallboard/ws sends first; it then sends each state change "
                       "as it happens and the counters again as calls are placed, answered and wrapped up.",
        "responses": {"200": _json({"type": "object", "properties": {
            "agents": {"type": "array", "items": {"$ref": "#/components/schemas/AgentState"}},
            "counters": {"type": "object", "description": "calls_placed, calls_answered, contacts, "
                         "right_party_contacts, promises, amount_promised, callbacks_due, callbacks_overdue, "
                         "promises_due_today, promises_broken_today, queue {kinds, total, more}"},
            "now": {"type": "string", "format": "date-time"}}}, "The board"), **_errors(401, 403)}}},
    "/api/v1/reports/{kind}": {"get": {
        "operationId": "getReport", "summary": "One report's rows over a period (supervisors; docs/reports.md)",
        "parameters": [
            {"name": "kind", "in": "path", "required": True,
             "schema": {"type": "string", "enum": ["agents", "outcomes", "promises", "ageing"]}},
            {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"},
             "description": "First day (the team's time zone); without from and to: this week"},
            {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"},
             "description": "Last day, included"},
            {"name": "agent", "in": "query", "schema": {"type": "string"}, "description": "One agent only"}],
        "responses": {"200": _json({"type": "object", "properties": {
            "report": {"type": "string"},
            "period": {"type": "object", "properties": {"from": {"type": "string", "format": "date"},
                                                        "to": {"type": "string", "format": "date"},
                                                        "timezone": {"type": "string"}}},
            "agent": NULLABLE_STRING,
            "rows": {"type": "array", "items": {"type": "object"},
                     "description": "One object per row with the metric names of docs/reports.md"}}}, "The report"),
            **_errors(400, 401, 403, 404)}}},
    "/api/v1/floor": {"get": {
        "operationId": "getFloor", "summary": "Every agent's state (supervisors and admins)",
        "responses": {"200": _json({"type": "object", "properties": {
            "agents": {"type": "array", "items": {"$ref": "#/components/schemas/AgentState"}},
            "pause_codes": {"type": "array", "items": {"$ref": "#/components/schemas/PauseCode"}}}},
            "The floor"), **_errors(401, 403)}}},
    "/api/v1/agents/{name}/monitor": {"post": {
        "operationId": "monitorAgent",
        "summary": "Listen in on, whisper to, barge into or leave an agent's live call with your own phone "
                   "(supervisors and admins; your phone is the SIP line in your profile)",
        "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["mode"], "properties": {
                "mode": {"type": "string", "enum": ["listen", "whisper", "barge", "stop"]}}}}}},
        "responses": {"200": _json({"type": "object", "properties": {
            "agent": {"type": "string"}, "attempt_id": {"type": "integer"},
            "mode": {"type": "string", "enum": ["listen", "whisper", "barge", "stop"]},
            "supervisor": {"type": "string"},
            "leg": {"type": "string", "description": "the state of the call to your phone: queued, calling, "
                                                     "ringing, answered or ended"}}}, "Done"),
                      **_errors(400, 401, 403, 409)}}},
    "/api/v1/payments/unmatched": {"get": {
        "operationId": "listUnmatchedPayments",
        "summary": "Bank credits not matched with certainty, oldest first (supervisors and admins)",
        "parameters": [{"name": "status", "in": "query", "required": False, "schema": {
            "type": "string", "enum": ["open", "assigned", "dismissed", "all"], "default": "open"}}],
        "responses": {"200": _json({"type": "object", "properties": {
            "status": {"type": "string"}, "open_amount": {"type": "string"},
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/UnmatchedPayment"}}}},
            "The list"), **_errors(400, 401, 403)}}},
    "/api/v1/payments/unmatched/{id}/assign": {"post": {
        "operationId": "assignUnmatchedPayment",
        "summary": "Book the credit as a debtor's payment into the invoices named (none: on account)",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["debtor_ref"], "properties": {
                "debtor_ref": {"type": "string"},
                "invoices": {"type": "array", "items": {"type": "string"}, "maxItems": 100}}}}}},
        "responses": {"200": _json({"$ref": "#/components/schemas/UnmatchedPayment"}, "Assigned"),
                      **_errors(400, 401, 403, 404, 409, 422)}}},
    "/api/v1/payments/unmatched/{id}/dismiss": {"post": {
        "operationId": "dismissUnmatchedPayment", "summary": "Take the credit off the list: not a debtor's payment",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}],
        "responses": {"200": _json({"$ref": "#/components/schemas/UnmatchedPayment"}, "Dismissed"),
                      **_errors(401, 403, 404, 409)}}},
    "/api/v1/attempts/{id}/monitoring": {"get": {
        "operationId": "getMonitoring", "summary": "Who listened in on a call, how and when (supervisors and admins)",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}],
        "responses": {"200": _json({"type": "object", "properties": {
            "attempt_id": {"type": "integer"},
            "actions": {"type": "array", "items": {"type": "object", "properties": {
                "supervisor": {"type": "string"},
                "action": {"type": "string", "enum": ["listen", "whisper", "barge", "stop"]},
                "at": {"type": "string", "format": "date-time"}}}}}}, "The actions in order"),
                      **_errors(401, 403)}}},
}

_DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Belblok API", "version": "1.0.0",
             "description": "Dossiers, imports and the agent's call controls. Authenticate with a bearer token "
                            "(`belblok token create NAME`) or a browser session; a session's unsafe requests carry "
                            "its CSRF token in the X-CSRF-Token header. The live call is pushed over the WebSocket "
                            "/ws as LiveEvent objects."},
    "servers": [{"url": "/"}],
    "security": [{"bearerAuth": []}, {"cookieAuth": []}],
    "paths": _PATHS,
    "components": {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer"},
            "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "belblok_session"}},
        "schemas": SCHEMAS},
}


def document() -> dict[str, Any]:
    """A copy of the OpenAPI document."""
    return copy.deepcopy(_DOCUMENT)
