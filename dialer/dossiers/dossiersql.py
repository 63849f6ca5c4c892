"""The dossier in one PostgreSQL round trip: the same JSON as `build_dossier`, assembled by the server.

`build_dossier` runs about ten ORM queries; under load the panel spends most of its time in them. On
PostgreSQL this module asks for the whole dossier as one JSON document instead. It must stay equal to
`build_dossier` (tests/test_web_api.py compares them); SQLite keeps using `build_dossier`.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from .dossier import (
    ATTEMPTS_SHOWN,
    LATE_WINDOW_DAYS,
    NEW_CUSTOMER_DAYS,
    REPEAT_LATE_THRESHOLD,
    UnknownDebtor,
)


def ts_sql(column: str) -> str:
    """A naive-UTC timestamp as Python's isoformat of the aware value (microseconds only when not zero)."""
    return (f"CASE WHEN {column} IS NULL THEN NULL ELSE to_char({column}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
            f"CASE WHEN (extract(microseconds FROM {column})::bigint % 1000000) <> 0 "
            f"THEN to_char({column}, '.US') ELSE '' END || '+00:00' END")


def _money(column: str) -> str:
    return f"(({column})::numeric / 100)::numeric(20, 2)::text"


DOSSIER_JSON = f"""
WITH d AS (SELECT * FROM debtors WHERE ref = :ref),
inv AS (SELECT i.* FROM invoices i JOIN d ON i.debtor_id = d.id),
pay AS (SELECT p.* FROM payments p JOIN d ON p.debtor_id = d.id),
comp AS (SELECT c.* FROM complaints c JOIN d ON c.debtor_id = d.id),
ag AS (SELECT a.* FROM agreements a JOIN d ON a.debtor_id = d.id),
disputed AS (SELECT DISTINCT ci.invoice_id FROM complaint_invoices ci JOIN comp c ON c.id = ci.complaint_id
             WHERE c.status = 'open'),
paid AS (SELECT invoice_id, max(date) AS last_paid FROM pay WHERE invoice_id IS NOT NULL GROUP BY invoice_id),
invx AS (
    SELECT inv.*, CASE WHEN inv.open_amount > 0 AND CAST(:today AS date) > inv.due_date
                       THEN CAST(:today AS date) - inv.due_date ELSE 0 END AS overdue,
           paid.last_paid,
           inv.id IN (SELECT invoice_id FROM disputed) AS is_disputed
    FROM inv LEFT JOIN paid ON paid.invoice_id = inv.id),
facts AS (
    SELECT coalesce(sum(open_amount) FILTER (WHERE open_amount > 0), 0) AS total_open,
           count(*) FILTER (WHERE open_amount > 0) AS open_invoices,
           count(DISTINCT currency) FILTER (WHERE open_amount > 0) AS currencies,
           min(currency) FILTER (WHERE open_amount > 0) AS the_currency,
           coalesce(max(overdue), 0) AS max_days_overdue,
           count(*) FILTER (WHERE due_date >= CAST(:window_start AS date)
                            AND (overdue > 0 OR (last_paid IS NOT NULL AND last_paid > due_date))) AS late
    FROM invx),
broken AS (SELECT count(*) AS n FROM ag WHERE status = 'broken')
SELECT json_build_object(
  'debtor', json_build_object(
    'id', d.id, 'ref', d.ref, 'name', d.name, 'kind', d.kind, 'country', d.country, 'region', d.region,
    'timezone', d.timezone, 'customer_since', d.customer_since, 'language', d.language,
    'do_not_call', d.do_not_call, 'written_only', d.written_only, 'insolvent', d.insolvent,
    'payment_day', d.payment_day, 'income_note', d.income_note, 'notes', d.notes, 'policy', d.policy,
    'customer_type', CASE WHEN d.customer_since IS NULL THEN 'unknown'
                          WHEN CAST(:today AS date) - d.customer_since < {NEW_CUSTOMER_DAYS} THEN 'new'
                          ELSE 'regular' END,
    'total_open', {_money('facts.total_open')},
    'currency', CASE WHEN facts.currencies = 0 THEN 'EUR' WHEN facts.currencies = 1 THEN facts.the_currency END,
    'open_invoices', facts.open_invoices, 'max_days_overdue', facts.max_days_overdue,
    'late_invoices_last_year', facts.late, 'broken_agreements', broken.n,
    'repeat_late_payer', facts.late >= {REPEAT_LATE_THRESHOLD} OR broken.n > 0),
  'contacts', coalesce((
    SELECT json_agg(json_build_object(
      'id', c.id, 'debtor_ref', d.ref, 'name', c.name, 'role', c.role, 'email', c.email,
      'phone', (SELECT p.number FROM phones p WHERE p.contact_id = c.id ORDER BY p.id LIMIT 1),
      'phone_label', (SELECT p.label FROM phones p WHERE p.contact_id = c.id ORDER BY p.id LIMIT 1),
      'phones', coalesce((SELECT json_agg(json_build_object(
                  'id', p.id, 'number', p.number, 'label', p.label, 'kind', p.kind,
                  'refuses_anonymous', p.refuses_anonymous) ORDER BY p.id)
                FROM phones p WHERE p.contact_id = c.id), '[]'::json)) ORDER BY c.id)
    FROM contacts c WHERE c.debtor_id = d.id), '[]'::json),
  'invoices', coalesce((
    SELECT json_agg(json_build_object(
      'id', i.id, 'debtor_ref', d.ref, 'number', i.number, 'date', i.date, 'due_date', i.due_date,
      'amount', {_money('i.amount')}, 'open_amount', {_money('i.open_amount')}, 'currency', i.currency,
      'delivered_on', i.delivered_on, 'delivery_method', i.delivery_method, 'description', i.description,
      'days_overdue', i.overdue, 'disputed', i.is_disputed) ORDER BY i.due_date, i.number)
    FROM invx i), '[]'::json),
  'payments', coalesce((
    SELECT json_agg(json_build_object(
      'id', p.id, 'debtor_ref', d.ref, 'invoice_number', i.number,
      'date', p.date, 'amount', {_money('p.amount')}, 'reference', nullif(p.reference, ''))
      ORDER BY p.date DESC, p.id DESC)
    FROM pay p LEFT JOIN inv i ON i.id = p.invoice_id), '[]'::json),
  'complaints', coalesce((
    SELECT json_agg(json_build_object(
      'id', c.id, 'status', c.status, 'summary', c.summary, 'opened_on', c.opened_on,
      'resolved_on', c.resolved_on,
      'invoices', coalesce((SELECT json_agg(i.number ORDER BY ci.invoice_id)
                            FROM complaint_invoices ci JOIN invoices i ON i.id = ci.invoice_id
                            WHERE ci.complaint_id = c.id), '[]'::json)) ORDER BY c.id)
    FROM comp c), '[]'::json),
  'agreements', coalesce((
    SELECT json_agg(json_build_object(
      'id', a.id, 'amount', {_money('a.amount')}, 'due_date', a.due_date, 'status', a.status,
      'invoice_number', (SELECT i.number FROM inv i WHERE i.id = a.invoice_id),
      'conditional_on_complaint', a.conditional_on_complaint_id, 'attempt_id', a.attempt_id,
      'agent', a.agent, 'created_at', {ts_sql('a.created_at')},
      'discount_pct', a.discount_pct::numeric(5, 2)::text,
      'invoices', coalesce((SELECT json_agg(i.number ORDER BY i.due_date, i.number)
                            FROM agreement_invoices ai JOIN invoices i ON i.id = ai.invoice_id
                            WHERE ai.agreement_id = a.id),
                           (SELECT json_build_array(i.number) FROM inv i WHERE i.id = a.invoice_id), '[]'::json),
      'instalments', coalesce((SELECT json_agg(json_build_object(
                       'seq', s.seq, 'amount', {_money('s.amount')}, 'due_date', s.due_date) ORDER BY s.seq)
                     FROM instalments s WHERE s.agreement_id = a.id), '[]'::json)) ORDER BY a.id DESC)
    FROM ag a), '[]'::json),
  'attempts', coalesce((
    SELECT json_agg(json_build_object(
      'attempt_id', t.id, 'number', t.number, 'debtor_ref', t.debtor_ref, 'contact_ref', t.contact_ref,
      'agent', t.agent, 'direction', t.direction, 'caller_id', t.caller_id, 'caller_id_withheld', t.caller_id_withheld, 'state', t.state,
      'outcome', t.outcome, 'sip_code', t.sip_code, 'sip_reason', t.sip_reason,
      'sip_code_source', t.sip_code_source, 'created_at', {ts_sql('t.created_at')},
      'ringing_at', {ts_sql('t.ringing_at')}, 'answered_at', {ts_sql('t.answered_at')},
      'ended_at', {ts_sql('t.ended_at')},
      'duration_us', CASE WHEN t.answered_at IS NOT NULL AND t.ended_at IS NOT NULL
                          THEN (extract(epoch FROM t.ended_at - t.answered_at) * 1000000)::bigint END,
      'recording_id', (SELECT r.id FROM recordings r WHERE r.attempt_id = t.id), 'worker', t.worker, 'sip_call_id', t.sip_call_id,
      'wrapup', (SELECT json_build_object(
                   'id', w.id, 'outcome', w.outcome, 'escalation', w.escalation, 'agreement_id', w.agreement_id,
                   'callback_id', w.callback_id, 'agent', w.agent, 'created_at', {ts_sql('w.created_at')})
                 FROM wrapups w WHERE w.attempt_id = t.id ORDER BY w.id DESC LIMIT 1)) ORDER BY t.id DESC)
    FROM (SELECT * FROM attempts WHERE debtor_ref = d.ref ORDER BY id DESC LIMIT {ATTEMPTS_SHOWN}) t), '[]'::json),
  'notes', coalesce((
    SELECT json_agg(json_build_object(
      'id', n.id, 'text', n.text, 'author', n.author, 'created_at', {ts_sql('n.created_at')},
      'attempt_id', n.attempt_id) ORDER BY n.id DESC)
    FROM notes n WHERE n.debtor_id = d.id), '[]'::json)
)
FROM d, facts, broken
"""  # the dossier of :ref as one json value (no row for an unknown reference)

STATEMENT = text(f"SELECT ({DOSSIER_JSON})::text")


def supported(session: Session) -> bool:
    """True where the one-query dossier works (PostgreSQL)."""
    return session.get_bind().dialect.name == "postgresql"


def dossier_params(ref: str, today: date) -> dict[str, Any]:
    """The statement's parameters for `ref` on `today`."""
    return {"ref": ref, "today": today, "window_start": today - timedelta(days=LATE_WINDOW_DAYS)}


def dossier_json(session: Session, ref: str, today: date) -> dict[str, Any]:
    """The dossier of `ref` as `build_dossier` returns it, read in one query; UnknownDebtor if there is none."""
    return finish(session.execute(STATEMENT, dossier_params(ref, today)).scalar(), ref)


def finish(raw: str | None, ref: str) -> dict[str, Any]:
    """The dossier from the statement's JSON text (None: no such debtor)."""
    if raw is None:
        raise UnknownDebtor(ref)
    return shaped(json.loads(raw))


def shaped(dossier: dict[str, Any]) -> dict[str, Any]:
    """The statement's parsed dossier made equal to `build_dossier`'s (the attempts' durations)."""
    for attempt in dossier["attempts"]:
        # Attempt.duration_s is round(timedelta.total_seconds(), 1) on a float: do the same arithmetic here.
        micros = attempt.pop("duration_us")
        attempt["duration_s"] = None if micros is None else round(micros / 10**6, 1)
    return dossier


def read_dossier(session: Session, ref: str, today: date) -> dict[str, Any]:
    """The dossier: in one query on PostgreSQL, else through `build_dossier`."""
    if supported(session):
        return dossier_json(session, ref, today)
    from .dossier import build_dossier

    return build_dossier(session, ref, today)
