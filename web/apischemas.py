"""The component schemas of the OpenAPI document (web/openapi.py): the shapes the API's answers and bodies take."""

from __future__ import annotations

from typing import Any

from dialer.live.states import STATES
from dialer.wrapup.form import ESCALATIONS, OUTCOMES

MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "example": "1234.50"}
DATE = {"type": "string", "format": "date"}
NULLABLE_STRING = {"type": "string", "nullable": True}
OUTCOME = {"type": "string", "enum": list(OUTCOMES)}

SCHEMAS: dict[str, Any] = {
    "AgentState": {"type": "object", "required": ["agent", "state", "since"], "properties": {
        "agent": {"type": "string"},
        "state": {"type": "string", "enum": list(STATES)},
        "since": {"type": "string", "format": "date-time", "nullable": True,
                  "description": "When the state began (null: never seen on the floor)"},
        "code": {**NULLABLE_STRING, "description": "The pause code while paused"},
        "debtor_ref": {**NULLABLE_STRING, "description": "The debtor of the call the agent is on"},
        "attempt_id": {"type": "integer", "nullable": True}}},
    "PauseCode": {"type": "object", "properties": {
        "code": {"type": "string"}, "label": {"type": "string", "description": "In the request's language"},
        "max_minutes": {"type": "integer", "nullable": True}}},
    "Error": {"type": "object", "required": ["error"], "properties": {
        "error": {"type": "string"},
        "reason": {"type": "string", "description": "What was refused, for programs: e.g. busy, on_call, "
                                                    "unknown_code, no_code"},
        "text": {"type": "string", "description": "The refusal said for a person, in the page's language "
                                                  "(refused state changes)"},
        "field": {"type": "string", "description": "The field the error is about"},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ImportError"}},
        "warnings": {"type": "array", "items": {"$ref": "#/components/schemas/Warning"}}}},
    "ImportError": {"type": "object", "required": ["row", "column", "message"], "properties": {
        "row": {"type": "integer", "nullable": True}, "column": NULLABLE_STRING, "message": {"type": "string"}}},
    "Dossier": {"type": "object", "description": "Everything known about one debtor (dialer.dossiers.dossier.build_dossier).",
                "required": ["debtor", "contacts", "invoices", "payments", "complaints", "agreements", "attempts",
                             "notes"],
                "properties": {
                    "debtor": {"type": "object", "properties": {
                        "ref": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"},
                        "customer_type": {"type": "string", "enum": ["new", "regular", "unknown"]},
                        "total_open": MONEY, "max_days_overdue": {"type": "integer"},
                        "repeat_late_payer": {"type": "boolean"}}},
                    "contacts": {"type": "array", "items": {"type": "object"}},
                    "invoices": {"type": "array", "items": {"type": "object"}},
                    "payments": {"type": "array", "items": {"type": "object"}},
                    "complaints": {"type": "array", "items": {"type": "object"}},
                    "agreements": {"type": "array", "items": {"type": "object", "properties": {
                        "discount_pct": {"type": "string", "pattern": r"^\d+\.\d{2}$", "example": "2.00"},
                        "invoices": {"type": "array", "items": {"type": "string"},
                                     "description": "Numbers of the invoices the agreement covers"}}}},
                    "attempts": {"type": "array", "items": {"type": "object", "properties": {
                        "direction": {"type": "string", "enum": ["out", "in"],
                                      "description": "out: we dialled; in: the debtor called and was put through"},
                        "wrapup": {"allOf": [{"$ref": "#/components/schemas/WrapUpRecord"}], "nullable": True,
                                   "description": "The last wrap-up saved for this call"}}}},
                    "notes": {"type": "array", "items": {"type": "object"}}}},
    "DossierRow": {"type": "object", "properties": {
        "ref": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"},
        "country": {"type": "string"}, "total_open": MONEY, "open_invoices": {"type": "integer"},
        "max_days_overdue": {"type": "integer"}, "do_not_call": {"type": "boolean"},
        "below_min_amount": {"type": "boolean"}}},
    "UnmatchedPayment": {"type": "object", "properties": {
        "id": {"type": "integer"}, "booked_on": {"type": "string", "format": "date"}, "amount": MONEY,
        "currency": {"type": "string"}, "account": {"type": "string"},
        "counter_iban": {"type": "string", "nullable": True}, "counter_name": {"type": "string", "nullable": True},
        "reference": {"type": "string", "nullable": True}, "remittance": {"type": "string", "nullable": True},
        "entry_ref": {"type": "string"},
        "reason": {"type": "string", "enum": ["bad_check_digits", "unknown_reference", "ambiguous",
                                              "amount_differs", "unknown_payer", "batch", "currency"]},
        "status": {"type": "string", "enum": ["open", "assigned", "dismissed"]},
        "debtor_ref": {"type": "string", "nullable": True, "description": "the likely or the assigned debtor"},
        "debtor_name": {"type": "string", "nullable": True}, "decided_by": {"type": "string", "nullable": True},
        "decided_at": {"type": "string", "format": "date-time", "nullable": True},
        "source": {"type": "string", "description": "the statement file's name"}}},
    "DialRequest": {"type": "object", "required": ["debtor_ref", "number"], "properties": {
        "debtor_ref": {"type": "string"}, "number": {"type": "string", "description": "E.164, one of the dossier's"}}},
    "Dialled": {"type": "object", "properties": {
        "attempt_id": {"type": "integer"}, "debtor_ref": {"type": "string"}, "number": {"type": "string"},
        "contact": {"type": "string"}}},
    "LiveEvent": {"type": "object", "properties": {
        "agent": {"type": "string"},
        "kind": {"type": "string", "enum": ["agent_line", "dialing", "ringing", "answered", "ended", "recording",
                                            "refused", "reminder", "error", "preview", "agent_state",
                                            "monitor"]},
        "at": {"type": "string", "format": "date-time"}, "attempt_id": {"type": "integer", "nullable": True},
        "debtor_ref": NULLABLE_STRING, "contact_ref": NULLABLE_STRING, "number": NULLABLE_STRING,
        "withheld": {"type": "boolean"}, "outcome": NULLABLE_STRING,
        "sip_code": {"type": "integer", "nullable": True}, "sip_reason": NULLABLE_STRING,
        "detail": {"type": "object"}}},
    "NoteRequest": {"type": "object", "required": ["debtor_ref", "text"], "properties": {
        "debtor_ref": {"type": "string"}, "text": {"type": "string"}, "attempt_id": {"type": "integer"}}},
    "Note": {"type": "object", "properties": {
        "id": {"type": "integer"}, "text": {"type": "string"}, "attempt_id": {"type": "integer", "nullable": True},
        "author": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"}}},
    "Payment": {"type": "object", "required": ["amount", "due_date"], "properties": {
        "amount": MONEY, "due_date": DATE}},
    "Agreement": {"type": "object", "required": ["payments"], "properties": {
        "payments": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Payment"},
                     "description": "The first payment first; more than one makes instalments"},
        "discount_pct": {"type": "string", "example": "2"},
        "invoices": {"type": "array", "items": {"type": "string"}, "description": "Invoice numbers; empty: all open"},
        "conditional_on_complaint": {"type": "integer", "description": "A complaint that must be resolved first"}}},
    "WrapUp": {"type": "object", "required": ["debtor_ref", "outcome"], "properties": {
        "debtor_ref": {"type": "string"}, "attempt_id": {"type": "integer"},
        "outcome": OUTCOME,
        "contact": {"type": "string", "description": "Name of the contact spoken to"},
        "agreement": {"$ref": "#/components/schemas/Agreement"},
        "callback": {"type": "object", "required": ["at"], "properties": {
            "at": {"type": "string", "example": "2026-12-01T16:30",
                   "description": "Local wall-clock time in the team's time zone"},
            "note": {"type": "string"}}},
        "complaint": {"type": "string"}, "complaint_invoices": {"type": "array", "items": {"type": "string"}},
        "escalation": {"type": "string", "enum": list(ESCALATIONS)},
        "tasks": {"type": "array", "items": {"type": "string", "enum": ["send_invoice_copy", "check_payment"]}},
        "note": {"type": "string"},
        "confirm": {"type": "boolean", "description": "Save although the agreement leaves the negotiation room"}}},
    "WrapUpRecord": {"type": "object", "properties": {
        "id": {"type": "integer"},
        "outcome": OUTCOME,
        "escalation": {"type": "string", "nullable": True, "enum": [*ESCALATIONS, None]},
        "agreement_id": {"type": "integer", "nullable": True}, "callback_id": {"type": "integer", "nullable": True},
        "agent": NULLABLE_STRING, "created_at": {"type": "string", "format": "date-time"}}},
    "Warning": {"type": "object", "required": ["code", "params"], "properties": {
        "code": {"type": "string", "enum": ["first_payment_below_minimum", "too_many_instalments", "beyond_term",
                                            "discount_not_allowed", "total_below_open", "total_above_open",
                                            "below_min_amount"]},
        "params": {"type": "object", "additionalProperties": {"type": "string"}}, "message": {"type": "string"}}},
    "WrapUpResult": {"type": "object", "properties": {
        "agreement_id": {"type": "integer", "nullable": True}, "email_id": {"type": "integer", "nullable": True},
        "email_status": {"type": "string", "nullable": True, "enum": ["sent", "failed", "queued", None]},
        "email_missing": {"type": "boolean"}, "callback_id": {"type": "integer", "nullable": True},
        "follow_up_id": {"type": "integer", "nullable": True}, "complaint_id": {"type": "integer", "nullable": True},
        "task_ids": {"type": "array", "items": {"type": "integer"}}, "note_id": {"type": "integer"},
        "wrapup_id": {"type": "integer"},
        "warnings": {"type": "array", "items": {"$ref": "#/components/schemas/Warning"}}}},
    "Recording": {"type": "object", "properties": {
        "id": {"type": "integer"}, "attempt_id": {"type": "integer"}, "debtor": NULLABLE_STRING,
        "agent": NULLABLE_STRING, "number": NULLABLE_STRING, "outcome": NULLABLE_STRING,
        "status": {"type": "string", "enum": ["pending", "processed", "missing", "corrupt", "purged"]},
        "audio_url": {"type": "string", "description": "The audio's address in the panel (no server paths are "
                                                         "shown)"},
        "format": {"type": "string"},
        "duration_s": {"type": "number", "nullable": True},
        "silences": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
        "talk_s": {"type": "object", "properties": {"agent": {"type": "number", "nullable": True},
                                                     "debtor": {"type": "number", "nullable": True}}},
        "flags": {"type": "array", "items": {"type": "string"}}, "legal_hold": {"type": "boolean"},
        "error": NULLABLE_STRING}},
    "Email": {"type": "object", "properties": {
        "id": {"type": "integer"}, "debtor_ref": NULLABLE_STRING, "to": {"type": "string"},
        "subject": {"type": "string"}, "body": {"type": "string"}, "status": {"type": "string"},
        "error": NULLABLE_STRING}},
}
