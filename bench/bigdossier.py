"""One big customer's dossier against a typical one: the agent screen and the API, one request at a time.

    .venv/bin/python bench/bigdossier.py --db postgresql://postgres@127.0.0.1:5433/belblok_bench

Adds (once) the debtor BIG0001 to the generated database: --invoices invoices (a third open), two payments on
each paid one, 300 notes; then starts the panel as bench/panel.py does and asks for BIG0001 and for a typical
generated dossier --repeat times each, one request at a time. Per route it prints the median wall time, the
panel's and PostgreSQL's CPU per request (from /proc, over all the requests) and the size of the answer. The typical dossier is the baseline of
the same run. `--drop` removes BIG0001 again. `--sqlite` measures `build_dossier` (the embedded database's path)
on a fresh SQLite file holding the same big debtor beside a small one.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import panel  # noqa: E402  (bench/ is on sys.path as the script's folder)
from cpuuse import postgres_cpu, process_cpu, spent  # noqa: E402

REF = "BIG0001"

_ADD = """
INSERT INTO debtors (ref, name, kind, country, customer_since, language, payment_day, priority_boost,
                     created_at, updated_at)
VALUES (%(ref)s, 'Groothandel Groot B.V.', 'company', 'NL', DATE '2012-03-01', 'nl', 25, 0, now(), now());
INSERT INTO invoices (debtor_id, number, date, due_date, amount, open_amount, currency, delivered_on,
                      delivery_method, description)
SELECT d.id, 'G' || lpad(g::text, 6, '0'), DATE '2024-01-01' + g %% 900, DATE '2024-01-31' + g %% 900, 10000 + g,
       CASE WHEN g %% 3 = 0 THEN 10000 + g ELSE 0 END, 'EUR', DATE '2024-01-01' + g %% 900, 'post', 'Levering ' || g
FROM debtors d, generate_series(1, %(invoices)s) g WHERE d.ref = %(ref)s;
INSERT INTO payments (debtor_id, invoice_id, date, amount, reference, natural_key)
SELECT i.debtor_id, i.id, i.due_date + k, i.amount / 2, 'BET' || i.id || '-' || k, 'big-' || i.id || '-' || k
FROM invoices i JOIN debtors d ON d.id = i.debtor_id, generate_series(1, 2) k
WHERE d.ref = %(ref)s AND i.open_amount = 0;
INSERT INTO notes (debtor_id, author, text, created_at)
SELECT d.id, 'bench', 'Notitie ' || g, now() - g * interval '1 day' FROM debtors d, generate_series(1, 300) g
WHERE d.ref = %(ref)s;
"""


def add_big_debtor(db_url: str, invoices: int) -> None:
    """Create BIG0001 unless it is there."""
    import psycopg

    with psycopg.connect(db_url) as conn:
        if conn.execute("SELECT 1 FROM debtors WHERE ref = %s", (REF,)).fetchone() is None:
            for statement in _ADD.split(";\n"):
                if statement.strip():
                    conn.execute(statement, {"ref": REF, "invoices": invoices})
            conn.execute("ANALYZE invoices; ANALYZE payments")


def drop_big_debtor(db_url: str) -> None:
    """Remove BIG0001 and everything of it."""
    import psycopg

    with psycopg.connect(db_url) as conn:
        conn.execute("DELETE FROM debtors WHERE ref = %s", (REF,))


def _ask(port: int, path: str, headers: dict[str, str]) -> tuple[float, int]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    started = time.perf_counter()
    with urllib.request.urlopen(request) as answer:
        size = len(answer.read())
    return (time.perf_counter() - started) * 1000, size


def _measure(port: int, pid: int, db_url: str, path: str, headers: dict[str, str],
             repeat: int) -> tuple[float, float, float, int]:
    """Median wall ms; panel and PostgreSQL CPU ms per request (CPU is counted in ticks: taken over all)."""
    _ask(port, path, headers)  # warm-up
    cpu, pg = process_cpu(pid), postgres_cpu(db_url)
    runs = [_ask(port, path, headers) for _ in range(repeat)]
    return (statistics.median(wall for wall, _ in runs), (process_cpu(pid) - cpu) * 1000 / repeat,
            spent(pg, postgres_cpu(db_url)) * 1000 / repeat, runs[0][1])


def run(args: argparse.Namespace) -> int:
    """Measure and print the table."""
    from softphone.processes import free_port

    add_big_debtor(args.db, args.invoices)
    api, page = panel._credentials(args.db)
    port = free_port("tcp")
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "panel.py"), "--serve", "app", "--port", str(port),
                             "--db", args.db], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        panel._wait_listening(port, proc)
        print("| dossier | route | KiB | wall ms | panel CPU ms | PostgreSQL CPU ms |")
        print("|---|---|---:|---:|---:|---:|")
        for ref in ("B0000100", REF):
            for label, path, headers in (("agent screen", f"/dossiers/{ref}", page),
                                         ("API", f"/api/v1/debtors/{ref}", api)):
                wall, cpu, pg, size = _measure(port, proc.pid, args.db, path, headers, args.repeat)
                print(f"| {ref} | {label} | {size // 1024} | {wall:.1f} | {cpu:.1f} | {pg:.1f} |", flush=True)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    return 0


def sqlite_build(invoices: int, repeat: int) -> int:
    """`build_dossier` of the big debtor and of a small one on a fresh SQLite file: median ms of `repeat`."""
    import tempfile
    from datetime import date, datetime, timedelta
    from decimal import Decimal

    from dialer.dossiers.dossier import build_dossier
    from dialer.dossiers.ledger import Invoice, Payment
    from dialer.dossiers.parties import Debtor
    from dialer.storage.database import make_engine, session_factory, upgrade

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/big.db")
        upgrade(engine)
        now = datetime.now().astimezone()
        with session_factory(engine).begin() as session:
            for ref, count in ((REF, invoices), ("SMALL1", 3)):
                debtor = Debtor(ref=ref, name=ref, kind="company", country="NL", language="nl", created_at=now,
                                updated_at=now, customer_since=date(2012, 3, 1))
                session.add(debtor)
                session.flush()
                for g in range(1, count + 1):
                    day = date(2024, 1, 1) + timedelta(days=g % 900)
                    paid = g % 3 != 0
                    invoice = Invoice(debtor_id=debtor.id, number=f"G{g:06d}", date=day, due_date=day + timedelta(30),
                                      amount=Decimal(100 + g), open_amount=Decimal(0 if paid else 100 + g),
                                      currency="EUR")
                    session.add(invoice)
                    session.flush()
                    for k in (1, 2) if paid else ():
                        session.add(Payment(debtor_id=debtor.id, invoice_id=invoice.id, date=day + timedelta(30 + k),
                                            amount=Decimal(50), reference=f"BET{invoice.id}-{k}",
                                            natural_key=f"{ref}-{invoice.id}-{k}"))
        print("| dossier (SQLite) | invoices | build_dossier ms |")
        print("|---|---:|---:|")
        for ref, count in (("SMALL1", 3), (REF, invoices)):
            times = []
            for _ in range(repeat):
                with session_factory(engine)() as session:
                    started = time.perf_counter()
                    build_dossier(session, ref, date.today())
                    times.append((time.perf_counter() - started) * 1000)
            print(f"| {ref} | {count} | {statistics.median(times):.1f} |", flush=True)
        engine.dispose()
    return 0


def main() -> int:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=panel.DEFAULT_DB, help=f"the generated database (default {panel.DEFAULT_DB})")
    parser.add_argument("--invoices", type=int, default=3000, help="invoices of the big debtor (made once)")
    parser.add_argument("--repeat", type=int, default=50, help="requests per route and dossier")
    parser.add_argument("--drop", action="store_true", help="remove the big debtor and stop")
    parser.add_argument("--sqlite", action="store_true", help="measure build_dossier on SQLite instead")
    args = parser.parse_args()
    if args.sqlite:
        return sqlite_build(args.invoices, min(args.repeat, 9))
    if args.drop:
        drop_big_debtor(args.db)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
