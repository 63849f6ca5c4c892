"""Generate the queue benchmark database: 1,000,000 overdue dossiers in PostgreSQL, with their statistics.

    .venv/bin/python bench/gen_queue.py                     # belblok_bench_queue on 127.0.0.1:5432, user postgres
    .venv/bin/python bench/gen_queue.py --debtors 100000

The database is dropped and created anew, migrated with Belblok's own migrations, filled with
INSERT … SELECT generate_series (no row leaves the server), its dossier statistics computed with
`dialer.dossiers.stats.refresh_stats` (what an import or the nightly refresh does), and analysed.
Everything is dated relative to ANCHOR (a Tuesday), the day bench/queuebench.py asks its queue for.

Per debtor: a credit manager with a direct line (every 3rd also a switchboard), every 2nd a bookkeeper,
1 to 3 invoices due 1 to 400 days before ANCHOR (every 10th debtor one still to fall due), some paid late.
Every 100th debtor is flagged do-not-call, every 200th written-only, every 250th insolvent, every 50th has
no phone, every 40th an open complaint, every 30th a running promise. What is due before any first call,
as a team of 20 would have it at 10:00: 24 call-backs around ANCHOR (half of them due), a promise expired
(every 2000th) or broken (every 5000th) without a follow-up yet, and 30,000 attempts in the week before
(what 20 agents dial in a week), a third unanswered, so thousands of retries are due.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dialer.dossiers.stats import refresh_stats  # noqa: E402
from dialer.storage.database import make_engine, upgrade  # noqa: E402

SERVER = "postgresql://postgres@127.0.0.1:5432"
DATABASE = "belblok_bench_queue"
ANCHOR = date(2026, 11, 24)  # a Tuesday
NOW = datetime.combine(ANCHOR, clock(10, 0), tzinfo=ZoneInfo("Europe/Amsterdam")).astimezone(UTC)  # in a block


def _step(conn: psycopg.Connection, what: str, statement: str, **params: object) -> None:
    started = time.monotonic()
    conn.execute(statement, params)  # type: ignore[arg-type]
    conn.commit()
    print(f"  {what}: {time.monotonic() - started:.1f} s", flush=True)


def generate(url: str, debtors: int) -> None:
    """Fill an empty, migrated database."""
    anchor, now = ANCHOR, NOW
    with psycopg.connect(url) as conn:
        conn.execute("SET synchronous_commit = off")
        _step(conn, f"{debtors:,} debtors", """
            INSERT INTO debtors (id, ref, name, kind, country, language, do_not_call, written_only, insolvent,
                                 priority_boost, created_at, updated_at)
            SELECT i, 'Q' || lpad(i::text, 7, '0'), 'Bedrijf ' || i || ' B.V.', 'company', 'NL', 'nl',
                   i %% 100 = 1, i %% 200 = 3, i %% 250 = 5, CASE WHEN i %% 5000 = 7 THEN 1 ELSE 0 END, %(now)s, %(now)s
            FROM generate_series(1, %(n)s::int) AS i""", n=debtors, now=now)
        _step(conn, "contacts", """
            INSERT INTO contacts (id, debtor_id, name, role)
            SELECT 2 * i - 1 + k, i, CASE k WHEN 0 THEN 'Creditmanager ' ELSE 'Boekhouder ' END || i,
                   CASE k WHEN 0 THEN 'credit_manager' ELSE 'bookkeeper' END
            FROM generate_series(1, %(n)s::int) AS i, generate_series(0, 1) AS k
            WHERE k = 0 OR i %% 2 = 0""", n=debtors)
        _step(conn, "phones", """
            INSERT INTO phones (contact_id, number, label, kind, refuses_anonymous)
            SELECT c.id, '+316' || lpad(c.id::text, 8, '0'), NULL, 'direct', false FROM contacts c
            WHERE c.debtor_id %% 50 <> 9
            UNION ALL
            SELECT c.id, '+3120' || lpad(c.id::text, 7, '0'), 'centrale', 'switchboard', false FROM contacts c
            WHERE c.debtor_id %% 50 <> 9 AND c.role = 'credit_manager' AND c.debtor_id %% 3 = 0""")
        _step(conn, "invoices", """
            INSERT INTO invoices (debtor_id, number, date, due_date, amount, open_amount, currency)
            SELECT i, 'F' || i || '-' || k, d - 30, d, a, CASE WHEN k = 3 THEN a / 2 ELSE a END, 'EUR'
            FROM generate_series(1, %(n)s::int) AS i, generate_series(1, 3) AS k,
                 LATERAL (SELECT %(anchor)s::date - (1 + (i::bigint * 7919 + k * 104729) %% 400)::int
                                 + CASE WHEN k = 1 AND i %% 10 = 0 THEN 420 ELSE 0 END AS d,
                                 (1000 + (i * 31 + k * 17) %% 1500000)::bigint AS a) AS x
            WHERE k = 1 OR (k = 2 AND i %% 2 = 0) OR (k = 3 AND i %% 5 = 0)""", n=debtors, anchor=anchor)
        _step(conn, "payments (late ones make repeat late payers)", """
            INSERT INTO payments (debtor_id, invoice_id, date, amount, reference, natural_key)
            SELECT inv.debtor_id, inv.id, inv.due_date + 10, inv.amount / 2, 'bank', 'p' || inv.id
            FROM invoices inv WHERE inv.number LIKE '%%-3'""")
        _step(conn, "complaints", """
            INSERT INTO complaints (id, debtor_id, status, summary, opened_on)
            SELECT i / 40 + 1, i, 'open', 'goods never received', %(anchor)s::date - 5
            FROM generate_series(11, %(n)s::int, 40) AS i""", n=debtors, anchor=anchor)
        _step(conn, "disputed invoices", """
            INSERT INTO complaint_invoices (complaint_id, invoice_id)
            SELECT c.id, inv.id FROM complaints c JOIN invoices inv ON inv.debtor_id = c.debtor_id""")
        _step(conn, "promises (running, expired, broken)", """
            INSERT INTO agreements (debtor_id, amount, due_date, status, created_at)
            SELECT i, 10000, %(anchor)s::date + 1 + i %% 20, 'open', %(now)s
            FROM generate_series(13, %(n)s::int, 30) AS i
            UNION ALL
            SELECT i, 10000, %(anchor)s::date - 1 - i %% 30, 'open', %(now)s
            FROM generate_series(17, %(n)s::int, 2000) AS i
            UNION ALL
            SELECT i, 10000, %(anchor)s::date - 20 - i %% 30, 'broken', %(now)s
            FROM generate_series(19, %(n)s::int, 5000) AS i
            """, n=debtors, anchor=anchor, now=now - timedelta(days=30))
        _step(conn, "call-backs", """
            INSERT INTO callbacks (debtor_id, kind, due_at, agent, status, created_at)
            SELECT 1 + (i * 7907) %% %(n)s, (ARRAY['appointment', 'return', 'follow_up'])[1 + i %% 3],
                   %(now)s + ((i %% 240) - 120) * interval '1 minute',
                   CASE WHEN i %% 3 = 0 THEN 'agent' || lpad((i %% 20)::text, 2, '0') END, 'pending',
                   %(now)s - interval '1 day'
            FROM generate_series(1, 24) AS i""", n=debtors, now=now)
        _step(conn, "attempts (a week of 20 agents)", """
            INSERT INTO attempts (number, debtor_ref, agent, caller_id, caller_id_withheld, state, created_at,
                                  answered_at, ended_at, outcome, sip_code)
            SELECT '+316' || lpad((2 * d - 1)::text, 8, '0'), 'Q' || lpad(d::text, 7, '0'),
                   'agent' || lpad((i %% 20)::text, 2, '0'), '+31201234567', false, 'ended', t,
                   CASE WHEN i %% 3 = 0 THEN t + interval '5 seconds' END, t + interval '40 seconds',
                   (ARRAY['answered', 'no_answer', 'busy', 'answered', 'no_answer', 'unavailable'])[1 + i %% 6],
                   (ARRAY[200, 487, 486, 200, 487, 480])[1 + i %% 6]
            FROM generate_series(1, 30000) AS i,
                 LATERAL (SELECT (1 + (i::bigint * 104723) %% %(n)s)::int AS d,
                                 %(now)s - (i %% 10080) * interval '1 minute' AS t) AS x""", n=debtors, now=now)
        _step(conn, "each dossier's last call, as the dialer notes it in dossier_claims", """
            INSERT INTO dossier_claims (debtor_id, last_called_at, last_outcome, last_ended_at)
            SELECT DISTINCT ON (d.id) d.id, a.created_at, a.outcome, a.ended_at
            FROM attempts a JOIN debtors d ON d.ref = a.debtor_ref
            ORDER BY d.id, a.created_at DESC""")
        for table in ("invoices", "payments", "agreements", "callbacks", "attempts", "phones", "complaints"):
            conn.execute(sql.SQL("SELECT setval(pg_get_serial_sequence({t}, 'id'), (SELECT max(id) FROM {i}))")
                         .format(t=sql.Literal(table), i=sql.Identifier(table)))
        conn.commit()
    engine = make_engine(url)
    try:
        started = time.monotonic()
        with engine.begin() as connection:
            rows = refresh_stats(connection, ANCHOR, NOW)
        print(f"  dossier statistics ({rows:,} rows, refresh_stats): {time.monotonic() - started:.1f} s", flush=True)
    finally:
        engine.dispose()
    with psycopg.connect(url, autocommit=True) as conn:
        started = time.monotonic()
        conn.execute("VACUUM ANALYZE")
        print(f"  vacuum analyze: {time.monotonic() - started:.1f} s", flush=True)


def main() -> None:
    """Drop, create, migrate and fill the benchmark database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--debtors", type=int, default=1_000_000)
    parser.add_argument("--server", default=SERVER)
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args()
    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(args.database)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(args.database)))
    url = f"{args.server}/{args.database}"
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    started = time.monotonic()
    print(f"generating {args.debtors:,} dossiers in {url}", flush=True)
    generate(url, args.debtors)
    print(f"done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
