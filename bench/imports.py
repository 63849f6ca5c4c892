"""Benchmark: importing 100,000 invoices on SQLite and PostgreSQL, beside a bare csv.reader + executemany baseline.

    .venv/bin/python bench/imports.py [--invoices 100000] [--debtors 10000]
                                      [--postgres postgresql://postgres@127.0.0.1:5432]

Generates Dutch-formatted CSVs (bench/importgen.py), then per database:
a fresh database (a SQLite file; a new PostgreSQL database, dropped after),
the debtors imported, and

- baseline: one bare `csv.reader` pass over the invoices file (decoding
  included), plus one bare DB-API `executemany` INSERT of rows parsed
  beforehand, committed, into a second fresh database;
- `import_csv` of the same file into an empty invoices table, committed
  (decode, sniff, check every cell, resolve debtors, bulk insert);
- the same file again: every invoice found and updated.

Target: ≤ 30 s per 100,000-invoice import. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import csv
import io
import platform
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from importgen import write  # noqa: E402  (bench/ is the script's directory)

from dialer.imports.importer import import_csv  # noqa: E402
from dialer.storage.database import make_engine, session_factory, upgrade  # noqa: E402

COLUMNS = ("debtor_id", "number", "date", "due_date", "amount", "open_amount", "currency", "delivered_on",
           "delivery_method", "description")
TARGET_S = 30.0


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds `action` took, and what it returned."""
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


@contextmanager
def database(kind: str, workdir: Path, server: str, name: str) -> Iterator[str]:
    """A fresh, empty database URL; a PostgreSQL one is dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / name}.db"
        return
    dbname = f"belblok_bench_{name}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        try:
            yield f"{server}/{dbname}"
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def prepared(url: str, debtors: bytes, today: date) -> Any:
    """An engine on `url` with the schema and the debtors imported."""
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as session, session.begin():
        import_csv(session, "debtors", debtors, mapping=None, region="NL", today=today)
    return engine


def parsed_rows(data: bytes, debtor_ids: dict[str, int]) -> list[tuple[Any, ...]]:
    """The invoices as the DB-API wants them (cents, ISO dates), parsed outside the timing."""
    def cents(text: str) -> int:
        return int(Decimal(text.replace(".", "").replace(",", ".")) * 100)

    def iso(text: str) -> str | None:
        return f"{text[6:10]}-{text[3:5]}-{text[0:2]}" if text else None

    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";")
    next(reader)
    return [(debtor_ids[r[0]], r[1], iso(r[2]), iso(r[3]), cents(r[4]), cents(r[5]), r[6], iso(r[7]), r[8], r[9])
            for r in reader]


def bare_insert(engine: Any, rows: list[tuple[Any, ...]]) -> None:
    """One DB-API executemany of all rows, committed."""
    marks = ", ".join(["?" if engine.dialect.name == "sqlite" else "%s"] * len(COLUMNS))
    statement = f"INSERT INTO invoices ({', '.join(COLUMNS)}) VALUES ({marks})"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.executemany(statement, rows)
        raw.commit()
    finally:
        raw.close()


def run_backend(kind: str, workdir: Path, server: str, debtors: bytes, invoices: bytes, today: date) -> list[tuple]:
    """Every measurement on one kind of database, as table rows."""
    label = "SQLite" if kind == "sqlite" else "PostgreSQL"
    results = []
    with database(kind, workdir, server, "baseline") as url:
        engine = prepared(url, debtors, today)
        with engine.connect() as conn:
            ids = dict(conn.exec_driver_sql("SELECT ref, id FROM debtors").all())
        rows = parsed_rows(invoices, ids)
        reading, records = timed(lambda: list(csv.reader(io.StringIO(invoices.decode("utf-8-sig")), delimiter=";")))
        writing, _ = timed(lambda: bare_insert(engine, rows))
        engine.dispose()
    baseline = reading + writing
    results += [(label, "baseline: bare csv.reader pass", len(records) - 1, reading, None),
                (label, "baseline: bare executemany INSERT (pre-parsed)", len(rows), writing, None),
                (label, "baseline: both", len(rows), baseline, 1.0)]
    with database(kind, workdir, server, "import") as url:
        engine = prepared(url, debtors, today)
        sessions = session_factory(engine)

        def load() -> Any:
            with sessions() as session, session.begin():
                return import_csv(session, "invoices", invoices, mapping=None, region="NL", today=today)

        first, new = timed(load)
        again, updated = timed(load)
        with engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT count(*) FROM invoices").scalar_one()
        engine.dispose()
    assert (new.new, updated.updated, stored) == (len(rows), len(rows), len(rows)), (new, updated, stored)
    results += [(label, "import_csv, all new", new.total, first, first / baseline),
                (label, "import_csv again, all updated", updated.total, again, again / baseline)]
    return results


def server_version(server: str) -> str:
    """PostgreSQL's version string, short."""
    with psycopg.connect(f"{server}/postgres") as conn:
        return str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]


def main() -> None:
    """Generate the files, measure both databases, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--debtors", type=int, default=10_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432", help="server URL, no database")
    args = parser.parse_args()
    today = date.today()
    with tempfile.TemporaryDirectory(prefix="belblok-bench-") as tmp:
        workdir = Path(tmp)
        debtors_path, invoices_path = write(workdir / "csv", args.debtors, args.invoices, today=today)
        debtors, invoices = debtors_path.read_bytes(), invoices_path.read_bytes()
        results = [row for kind in ("sqlite", "postgres")
                   for row in run_backend(kind, workdir, args.postgres, debtors, invoices, today)]
    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
          f"PostgreSQL {server_version(args.postgres)}, {platform.machine()}; "
          f"{args.invoices:,} invoices ({len(invoices):,} bytes) "
          f"for {args.debtors:,} debtors, ';' + decimal comma + dd-mm-yyyy + BOM\n")
    print("| database | step | rows | seconds | rows/s | × baseline |")
    print("|---|---|---:|---:|---:|---:|")
    for label, step, rows, seconds, ratio in results:
        shown = f"{ratio:.1f}" if ratio is not None else ""
        print(f"| {label} | {step} | {rows:,} | {seconds:.2f} | {rows / seconds:,.0f} | {shown} |")
    worst = max(seconds for _, step, _, seconds, _ in results if step.startswith("import_csv"))
    print(f"\nslowest import: {worst:.1f} s (target ≤ {TARGET_S:.0f} s): {'met' if worst <= TARGET_S else 'MISSED'}")


if __name__ == "__main__":
    main()
