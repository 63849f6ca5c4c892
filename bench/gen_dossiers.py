"""Generate a large dossier database for bench/panel.py: 1,000,000 debtors and 10,000,000 attempts in PostgreSQL.

    .venv/bin/python bench/gen_dossiers.py                      # belblok_bench on 127.0.0.1:5432, user postgres
    .venv/bin/python bench/gen_dossiers.py --debtors 100000 --attempts 1000000

The database is dropped and created anew, migrated with Belblok's own migrations, then filled with
INSERT … SELECT generate_series (no data leaves the server), and analysed. Per debtor: 2 contacts with a
phone each, 3 invoices (one settled, two open of different ages), 2 payments, a note; every 5th debtor an
agreement (kept, broken or, for every 100th debtor, open with its follow-up call planned by the scheduler's own
promise sweep, and then with two instalments), every 20th an open complaint on an invoice, every 25th a call-back
appointment, every 100th an open task; the attempts are spread evenly over the debtors and over the last 347 days
(20 a minute, by 50 agents agent01-agent50), each answered one with its wrap-up (when the schema has wrap-ups).

For the reports (bench/reports.py) the floor behind those calls too: the wrap-ups' outcomes in a collection team's
mix (of the answered calls 35 % no contact, 10 % wrong number, 20 % call-back, 15 % promise, 10 % refused, 5 % broke
off, 5 % complaint), each promise an agreement on account due 7 days after the call (kept by a payment two days
before, or broken, a third of those half paid; open while not due), and each call's agent states (dialing, ringing,
talking, wrap-up, ready; every 40th call followed by a 5-15 minute pause with a pause code, which replaces the
states of the calls during it, as the floor holds one state at a time) in agent_state_intervals (when the schema
has them): ~3.5 intervals a call.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dialer.storage.database import make_engine, upgrade  # noqa: E402

SERVER = "postgresql://postgres@127.0.0.1:5432"
CHUNK = 1_000_000
AGENTS = 50
# Attempt a of n is made at T0 - 3 (n - a) s: 20 a minute, in id order as a live call log is (the reports' range
# scans depend on it), each agent's next call 50 attempts (150 s) after its last.
T = "%(t0)s::timestamptz - make_interval(secs => 3 * (%(n)s::bigint - a))"
AGENT = "'agent' || lpad((1 + a %% 50)::text, 2, '0')"
# A hash of a (Knuth's multiplicative), so outcomes and pauses do not follow the agent (a %% 50).
H = "(a * 2654435761 %% 4294967296)"
# The wrap-up outcome of answered attempt a, by (a / 3) %% 20: the mix of the module's docstring.
MIX = ("no_contact",) * 6 + ("wrong_number",) * 2 + ("callback",) * 4 + ("promise_to_pay",) * 3 + ("refused",) * 2 \
    + ("broke_off", "complaint_raised", "no_contact")
OUTCOME = "(ARRAY[" + ", ".join(f"'{o}'" for o in MIX) + f"])[1 + {H} / 65536 %% 20]"
PROMISED = (12, 13, 14)  # the MIX positions of promise_to_pay


def _step(conn: psycopg.Connection, what: str, statement: str, **params: int | str) -> None:
    started = time.monotonic()
    conn.execute(statement, params)
    conn.commit()
    print(f"  {what}: {time.monotonic() - started:.1f} s", flush=True)


def _exists(conn: psycopg.Connection, table: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0]  # type: ignore[index]


OPTIONAL = ("wrapups", "agent_state_intervals")  # tables of newer migrations: filled when the schema has them


def casework(conn: psycopg.Connection, debtors: int, attempts: int, t0: str) -> None:
    """Agreements as a live book has them (mostly settled, 2 % open), instalments, appointments, tasks, wrap-ups."""
    # Open agreements stay few (every 100th debtor, and the calls' promises not yet due): the scheduler settles
    # every open promise at start and hourly.
    _step(conn, "agreements", """
        INSERT INTO agreements (id, debtor_id, amount, due_date, status, invoice_id, agent, created_at)
        SELECT i / 5, i, 20000,
               CASE WHEN i %% 100 = 0 THEN current_date + 14 WHEN i %% 10 = 0 THEN current_date - 120
                    ELSE current_date - 200 END,
               CASE WHEN i %% 100 = 0 THEN 'open' WHEN i %% 10 = 0 THEN 'broken' ELSE 'kept' END,
               3 * (i - 1) + 3, 'agent' || lpad((1 + i %% 50)::text, 2, '0'),
               CASE WHEN i %% 100 = 0 THEN now() - interval '3 days' ELSE now() - interval '220 days' END
        FROM generate_series(5, %(n)s::int, 5) AS i""", n=debtors)
    _step(conn, "instalments", """
        INSERT INTO instalments (id, agreement_id, seq, amount, due_date)
        SELECT 2 * (i / 100) - 2 + k, i / 5, k, 10000, current_date + 7 * k
        FROM generate_series(100, %(n)s::int, 100) AS i, generate_series(1, 2) AS k""", n=debtors)
    if _exists(conn, "agreement_invoices"):
        _step(conn, "agreement invoices", "INSERT INTO agreement_invoices (agreement_id, invoice_id) "
                                          "SELECT id, invoice_id FROM agreements")
    _step(conn, "appointments", """
        INSERT INTO callbacks (id, debtor_id, kind, due_at, agent, note, status, contact_id, created_at, created_by)
        SELECT i / 25, i, 'appointment', date_trunc('hour', now()) + make_interval(days => i %% 14, hours => 1),
               'agent', 'Belt terug na de 25e', 'pending', 2 * i - 1, now() - interval '1 day', 'agent'
        FROM generate_series(25, %(n)s::int, 25) AS i""", n=debtors)
    _step(conn, "tasks", """
        INSERT INTO tasks (id, kind, status, debtor_id, role, title, created_at, created_by)
        SELECT i / 100, 'written_reminder', 'open', i, 'supervisor', 'Send a written reminder to Bedrijf ' || i,
               now() - interval '2 days', 'agent'
        FROM generate_series(100, %(n)s::int, 100) AS i""", n=debtors)
    if _exists(conn, "wrapups"):
        promises(conn, debtors, attempts, t0)  # first: the wrap-ups refer to them
        for start in range(3, attempts + 1, 3 * CHUNK):
            end = min(start + 3 * CHUNK - 1, attempts)
            _step(conn, f"wrap-ups of answered attempts {start:,}–{end:,}", f"""
                INSERT INTO wrapups (id, attempt_id, debtor_id, agent, outcome, agreement_id, created_at)
                SELECT a / 3, a, 1 + (a - 1) %% %(debtors)s::bigint, {AGENT}, {OUTCOME},
                       CASE WHEN {H} / 65536 %% 20 IN {PROMISED} THEN {_promise_id("a")} END,
                       {T} + interval '90 s'
                FROM generate_series(%(start)s::bigint, %(end)s::bigint, 3) AS a""",
                  debtors=debtors, start=start, end=end, t0=t0, n=attempts, base=debtors // 5)
    if _exists(conn, "agent_state_intervals"):
        floor(conn, attempts, t0)


def _promise_id(a: str) -> str:
    # After the case work's agreements, one id per answered attempt (with gaps: 15 % of them promise).
    return f"%(base)s::bigint + {a} / 3"


def promises(conn: psycopg.Connection, debtors: int, attempts: int, t0: str) -> None:
    """The calls' promises: on account, due a week after the call, kept (paid 2 days before) or broken."""
    for start in range(3, attempts + 1, 3 * CHUNK):
        end = min(start + 3 * CHUNK - 1, attempts)
        _step(conn, f"promises of attempts {start:,}–{end:,}", f"""
            INSERT INTO agreements (id, debtor_id, amount, due_date, status, invoice_id, agent, created_at, attempt_id)
            SELECT {_promise_id("a")}, 1 + (a - 1) %% %(debtors)s::bigint, 5000 + {H} / 7 %% 40 * 500, due,
                   CASE WHEN due >= current_date THEN 'open' WHEN {H} / 20 %% 3 = 0 THEN 'broken' ELSE 'kept' END,
                   NULL, {AGENT}, t + interval '90 s', a
            FROM (SELECT a, {T} AS t, (({T}) AT TIME ZONE 'UTC')::date + 7 AS due
                  FROM generate_series(%(start)s::bigint, %(end)s::bigint, 3) AS a
                  WHERE {H} / 65536 %% 20 IN {PROMISED}) AS s""",
              debtors=debtors, start=start, end=end, t0=t0, n=attempts, base=debtors // 5)
    # Payments on account: a kept promise paid in full two days before its due date, every other broken one half.
    _step(conn, "payments on the calls' promises", """
        INSERT INTO payments (id, debtor_id, invoice_id, date, amount, reference, natural_key)
        SELECT 2 * %(debtors)s::bigint + row_number() OVER (ORDER BY id), debtor_id, NULL, due_date - 2,
               CASE WHEN status = 'kept' THEN amount ELSE amount / 2 END, 'bank', 'bench:promise:' || id
        FROM agreements
        WHERE attempt_id IS NOT NULL AND (status = 'kept' OR (status = 'broken' AND id %% 2 = 0))""",
          debtors=debtors)


def floor(conn: psycopg.Connection, attempts: int, t0: str) -> None:
    """Each call's agent states, as the floor stores them: dialing, ringing, talking, wrap-up, ready, a pause."""
    # Loaded without the two secondary indexes, which are built once at the end (several times faster).
    conn.execute("DROP INDEX IF EXISTS ix_agent_state_intervals_agent_started, ix_agent_state_intervals_started")
    codes = f"(ARRAY['break', 'lunch', 'meeting', 'admin', 'coaching'])[1 + {H} / 800 %% 5]"
    for start in range(1, attempts + 1, CHUNK):
        end = min(start + CHUNK - 1, attempts)
        _step(conn, f"agent states of attempts {start:,}–{end:,}", f"""
            INSERT INTO agent_state_intervals (id, agent, state, code, started_at, ended_at)
            SELECT 6 * (a - 1) + k + 1, {AGENT},
                   (ARRAY['dialing', 'ringing', 'talking', 'wrap_up', 'ready', 'paused'])[k + 1],
                   CASE WHEN k = 5 THEN {codes} END,
                   t + make_interval(secs => (ARRAY[0, 2, 8, 60, CASE WHEN answered THEN 90 ELSE 60 END, 120])[k + 1]),
                   t + make_interval(secs => (ARRAY[2, CASE WHEN answered THEN 8 ELSE 60 END, 60, 90, 120,
                                                    120 + 60 * (5 + {H} / 4000 %% 11)])[k + 1])
            FROM (SELECT a, {T} AS t, a %% 3 = 0 AS answered
                  FROM generate_series(%(start)s::bigint, %(end)s::bigint) AS a) AS s,
                 generate_series(0, 5) AS k
            WHERE (k IN (0, 1, 4) OR (k IN (2, 3) AND answered) OR (k = 5 AND {H} / 20 %% 40 = 7))""",
              start=start, end=end, t0=t0, n=attempts)
    _step(conn, "agent state index (agent, started_at)",
          "CREATE INDEX ix_agent_state_intervals_agent_started ON agent_state_intervals (agent, started_at)")
    _step(conn, "agent state index (started_at)",
          "CREATE INDEX ix_agent_state_intervals_started ON agent_state_intervals (started_at)")
    one_state_at_a_time(conn)


def one_state_at_a_time(conn: psycopg.Connection) -> None:
    """A pause replaces the states of the calls the agent would have made meanwhile: the floor holds one at a time."""
    _step(conn, "states within pauses removed", """
        DELETE FROM agent_state_intervals AS i USING agent_state_intervals AS p
        WHERE p.state = 'paused' AND i.agent = p.agent AND i.started_at > p.started_at
          AND i.started_at < p.ended_at""")


def follow_ups(url: str) -> None:
    """Let the scheduler's own promise sweep plan the follow-up call of every open agreement, as it would live."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from dialer.scheduling.promises import sweep
    from dialer.scheduling.rules import local_day
    from dialer.settings.config import parse
    from dialer.storage.database import make_engine, session_factory

    cfg = parse('[database]\nurl = "sqlite://"\n[sip]\ntrunk = "127.0.0.1:9"\ncaller_id = "+31201234567"\n')
    engine = make_engine(url)
    started = time.monotonic()
    now = datetime.now(UTC)
    with session_factory(engine).begin() as session:
        changed = sweep(session, local_day(now, ZoneInfo(cfg.team.timezone)), cfg, now=now)
        session.execute(text("ANALYZE callbacks"))
    engine.dispose()
    print(f"  promise sweep ({len(changed)} changed): {time.monotonic() - started:.1f} s", flush=True)


def generate(url: str, debtors: int, attempts: int) -> None:
    """Fill an empty, migrated database."""
    with psycopg.connect(url) as conn:
        conn.execute("SET synchronous_commit = off")
        # One moment for every step (each commits, so now() moves): calls, wrap-ups and states line up.
        t0 = conn.execute("SELECT now()::text").fetchone()[0]  # type: ignore[index]
        _step(conn, f"{debtors:,} debtors", """
            INSERT INTO debtors (id, ref, name, kind, country, language, customer_since, do_not_call, written_only,
                                 insolvent, priority_boost, payment_day, created_at, updated_at)
            SELECT i, 'B' || lpad(i::text, 7, '0'), 'Bedrijf ' || i || ' B.V.',
                   CASE WHEN i %% 10 = 0 THEN 'person' ELSE 'company' END, 'NL',
                   CASE WHEN i %% 7 = 0 THEN 'en' ELSE 'nl' END,
                   date '2015-01-01' + (i %% 3650), false, false, false, 0, 1 + i %% 28, now(), now()
            FROM generate_series(1, %(n)s::int) AS i""", n=debtors)
        _step(conn, "contacts", """
            INSERT INTO contacts (id, debtor_id, name, role, email)
            SELECT 2 * i - 1 + k, i, CASE k WHEN 0 THEN 'Eigenaar ' ELSE 'Boekhouder ' END || i,
                   CASE k WHEN 0 THEN 'owner' ELSE 'bookkeeper' END, 'contact' || (2 * i - 1 + k) || '@debiteur.example'
            FROM generate_series(1, %(n)s::int) AS i, generate_series(0, 1) AS k""", n=debtors)
        _step(conn, "phones", """
            INSERT INTO phones (id, contact_id, number, label, kind, refuses_anonymous)
            SELECT c, c, '+3120' || lpad(c::text, 7, '0'), 'direct', 'direct', false
            FROM generate_series(1, %(n)s::int) AS c""", n=2 * debtors)
        _step(conn, "invoices", """
            INSERT INTO invoices (id, debtor_id, number, date, due_date, amount, open_amount, currency, delivered_on,
                                  delivery_method, description)
            SELECT 3 * (i - 1) + k, i, 'F' || i || '-' || k, current_date - (30 + k * 40 + i %% 30),
                   current_date - (k * 40 + i %% 30), 10000 + (i %% 500) * 100 + k,
                   CASE WHEN k = 1 THEN 0 ELSE 10000 + (i %% 500) * 100 + k END, 'EUR',
                   current_date - (31 + k * 40 + i %% 30), 'bezorgd', 'Levering ' || k
            FROM generate_series(1, %(n)s::int) AS i, generate_series(1, 3) AS k""", n=debtors)
        _step(conn, "payments", """
            INSERT INTO payments (id, debtor_id, invoice_id, date, amount, reference, natural_key)
            SELECT 2 * (i - 1) + k, i, CASE k WHEN 1 THEN 3 * (i - 1) + 1 ELSE NULL END,
                   current_date - (60 + k * 10 + i %% 30), 5000 + k, 'bank', 'bench:' || i || ':' || k
            FROM generate_series(1, %(n)s::int) AS i, generate_series(1, 2) AS k""", n=debtors)
        _step(conn, "notes", """
            INSERT INTO notes (id, debtor_id, author, text, created_at)
            SELECT i, i, 'agent', 'Belt terug na de 25e', now() - make_interval(days => i %% 100)
            FROM generate_series(1, %(n)s::int) AS i""", n=debtors)
        _step(conn, "complaints", """
            INSERT INTO complaints (id, debtor_id, status, summary, opened_on)
            SELECT i / 20, i, 'open', 'Levering beschadigd', current_date - 5
            FROM generate_series(20, %(n)s::int, 20) AS i""", n=debtors)
        _step(conn, "complaint invoices", """
            INSERT INTO complaint_invoices (complaint_id, invoice_id)
            SELECT i / 20, 3 * (i - 1) + 2 FROM generate_series(20, %(n)s::int, 20) AS i""", n=debtors)
        for start in range(1, attempts + 1, CHUNK):
            end = min(start + CHUNK - 1, attempts)
            _step(conn, f"attempts {start:,}–{end:,}", f"""
                INSERT INTO attempts (id, number, debtor_ref, contact_ref, agent, caller_id, caller_id_withheld, state,
                                      created_at, ringing_at, answered_at, ended_at, outcome, sip_code, sip_reason,
                                      sip_code_source)
                SELECT a, '+3120' || lpad((2 * d - 1)::text, 7, '0'), 'B' || lpad(d::text, 7, '0'),
                       'Eigenaar ' || d, agent, '+31201234567', false, 'ended', t, t + interval '2 s',
                       CASE WHEN a %% 3 = 0 THEN t + interval '8 s' END, t + interval '60 s',
                       CASE WHEN a %% 3 = 0 THEN 'answered' ELSE 'no_answer' END,
                       CASE WHEN a %% 3 = 0 THEN 200 ELSE 408 END, 'OK', 'wire'
                FROM (SELECT a, 1 + (a - 1) %% %(debtors)s::bigint AS d, {T} AS t, {AGENT} AS agent
                      FROM generate_series(%(start)s::bigint, %(end)s::bigint) AS a) AS s""",
                  debtors=debtors, start=start, end=end, t0=t0, n=attempts)
        casework(conn, debtors, attempts, t0)
        for table in ("debtors", "contacts", "phones", "invoices", "payments", "notes", "agreements", "complaints",
                      "attempts", "instalments", "callbacks", "tasks") + tuple(t for t in OPTIONAL if _exists(conn, t)):
            conn.execute(sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), (SELECT max(id) FROM {}))")
                         .format(sql.Literal(table), sql.Identifier(table)))
        conn.commit()
        conn.autocommit = True
        # VACUUM too: the first reads of freshly loaded rows set their hint bits (writes, CPU); a panel benchmark
        # right after the generator otherwise measures that instead of the dossier (PostgreSQL CPU per request
        # 2.2 ms in the first run, 1.0 ms after).
        _step(conn, "VACUUM (ANALYZE)", "VACUUM (ANALYZE)")
        # And write the dirty pages out now: otherwise the checkpointer spends the next minutes doing it under
        # the benchmark's feet.
        _step(conn, "CHECKPOINT", "CHECKPOINT")


def main() -> int:
    """Drop, create, migrate and fill the bench database."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=SERVER, help=f"PostgreSQL server URL (default {SERVER})")
    parser.add_argument("--database", default="belblok_bench")
    parser.add_argument("--debtors", type=int, default=1_000_000)
    parser.add_argument("--attempts", type=int, default=10_000_000)
    args = parser.parse_args()
    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(args.database)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(args.database)))
    url = f"{args.server}/{args.database}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    started = time.monotonic()
    print(f"generating {args.debtors:,} debtors and {args.attempts:,} attempts in {args.database}", flush=True)
    generate(url, args.debtors, args.attempts)
    follow_ups(url)
    print(f"done in {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
