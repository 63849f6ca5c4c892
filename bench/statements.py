"""Benchmark: a bank statement of 10,000 credits against 100,000 open invoices, beside a bare baseline.

    .venv/bin/python bench/statements.py [--entries 10000] [--invoices 100000]
                                         [--postgres postgresql://postgres@127.0.0.1:5432]

Per database (a fresh SQLite file; a new PostgreSQL database, dropped after): 50,000 debtors with an IBAN
each, two open invoices each (a third with an OGM payment reference), 10,000 open promises with their
follow-up calls. The statement is a camt.053 written by tests/bankfiles.py: 40 % of the credits pay by
reference, 30 % name the invoice in the text, 20 % come from a known IBAN with an invoice's amount, 10 %
match nothing.

- baseline: parse the same XML with bare ElementTree, and one bare DB-API `executemany` of 10,000 payment
  rows prepared beforehand, committed;
- `belblok import statement`'s work: read (defusedxml), load the book, match, write payments, open amounts and
  the unmatched list, settle the debtors' promises, refresh their queue statistics, commit;
- the same statement again: every credit found as already booked.

Target: ≤ 10 s. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from imports import database, timed  # noqa: E402  (bench/ is the script's directory)
from sqlalchemy import insert  # noqa: E402
from stdnum import iban as iban_numbers  # noqa: E402
from stdnum.be import ogm_vcs  # noqa: E402

from dialer.banking.booking import book_statement  # noqa: E402
from dialer.dossiers.callbacks import Callback  # noqa: E402
from dialer.dossiers.casework import Agreement  # noqa: E402
from dialer.dossiers.ledger import Invoice  # noqa: E402
from dialer.dossiers.parties import Debtor  # noqa: E402
from dialer.imports.bankfile import read_statement  # noqa: E402
from dialer.settings.config import parse  # noqa: E402
from dialer.storage.database import make_engine, session_factory, upgrade  # noqa: E402
from tests.bankfiles import Entry, Tx, camt  # noqa: E402

TARGET_S = 10.0
DAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def an_iban(n: int) -> str:
    """A valid Dutch IBAN for debtor n."""
    bban = f"INGB{n:010d}"
    return f"NL{iban_numbers.calc_check_digits('NL00' + bban)}{bban}"


def an_ogm(n: int) -> str:
    """A valid Belgian structured communication (12 digits) for invoice n."""
    base = f"{n:010d}"
    return base + ogm_vcs.calc_check_digits(base)


def fill(url: str, debtors: int, invoices: int, promises: int = 10_000) -> None:
    """The ledger: debtors with IBANs, their open invoices, open promises with follow-up calls."""
    promises = min(promises, debtors)
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine).begin() as session:
        session.execute(insert(Debtor), [{"id": d, "ref": f"D{d:06d}", "name": f"Debtor {d}", "kind": "company",
                                          "country": "NL", "language": "nl", "iban": an_iban(d), "created_at": NOW,
                                          "updated_at": NOW} for d in range(1, debtors + 1)])
        session.execute(insert(Invoice), [
            {"id": i, "debtor_id": (i - 1) % debtors + 1, "number": f"F{i:07d}", "date": date(2026, 9, 1),
             "due_date": date(2026, 10, 1) + timedelta(days=i % 30), "amount": Decimal(100 + i % 900),
             "open_amount": Decimal(100 + i % 900), "currency": "EUR",
             "payment_reference": an_ogm(i) if i % 3 == 0 else None} for i in range(1, invoices + 1)])
        if not promises:
            return
        session.execute(insert(Agreement), [
            {"id": a, "debtor_id": a, "amount": Decimal(100 + a % 900), "due_date": date(2026, 12, 11),
             "status": "open", "created_at": NOW - timedelta(days=3), "agent": "anna"} for a in range(1, promises + 1)])
        session.execute(insert(Callback), [
            {"debtor_id": a, "kind": "follow_up", "due_at": datetime(2026, 12, 14, 8, 0, tzinfo=UTC),
             "status": "pending", "agreement_id": a, "created_at": NOW - timedelta(days=3), "created_by": "promises"}
            for a in range(1, promises + 1)])
    engine.dispose()


def statement(entries: int, debtors: int, invoices: int) -> bytes:
    """The day's camt.053: credits by reference, by invoice number, by IBAN and amount, and unknown ones."""
    rng, out = random.Random(7), []
    for n in range(entries):
        i = rng.randrange(1, invoices // 3) * 3  # an invoice with a reference
        d = (i - 1) % debtors + 1
        amount = f"{100 + i % 900}.00"
        kind = n % 10
        if kind < 4:
            tx = Tx(amount, f"Debtor {d}", an_iban(d), reference=an_ogm(i), issuer="BBA")
        elif kind < 7:
            tx = Tx(amount, f"Debtor {d}", None, text=f"betaling factuur F{i:07d} dank u")
        elif kind < 9:
            tx = Tx(amount, f"Debtor {d}", an_iban(d), text="termijn")
        else:
            tx = Tx("12.34", "Onbekend", an_iban(debtors + n), text="gift")
        out.append(Entry(f"E{n:06d}", DAY, [tx]))
    return camt(out)


def bare(url: str, data: bytes, rows: int) -> float:
    """ElementTree over the file, and one DB-API executemany of `rows` payments, committed."""
    start = time.perf_counter()
    ElementTree.fromstring(data)
    engine = make_engine(url)
    with engine.raw_connection() as raw:  # type: ignore[attr-defined]
        cursor = raw.cursor()
        marker = "%s" if url.startswith("postgresql") else "?"
        cursor.executemany(f"INSERT INTO payments (debtor_id, invoice_id, date, amount, reference, natural_key) "
                           f"VALUES ({', '.join([marker] * 6)})",
                           [(1, None, DAY, 1000, f"E{n}", f"bare:{n}") for n in range(rows)])
        raw.commit()
    engine.dispose()
    return time.perf_counter() - start


def run_one(url: str, data: bytes) -> tuple[float, float, float, object]:
    """(read + book + commit, the same again, bare), and the first booking's result."""
    cfg = parse(f'[database]\nurl = "{url}"\n[sip]\ntrunk = "127.0.0.1:5060"\ncaller_id = "+31201234567"\n'
                '[team]\ntimezone = "Europe/Amsterdam"\ncountry = "NL"\n', "bench")
    engine = make_engine(url)
    sessions = session_factory(engine)

    def once() -> object:
        parsed = read_statement(data, "bench.xml")
        with sessions.begin() as session:
            return book_statement(session, parsed, source="bench.xml", cfg=cfg, now=NOW)

    first, booked = timed(once)
    second, _ = timed(once)
    engine.dispose()
    return first, second, 0.0, booked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--postgres", metavar="SERVER", help="also PostgreSQL, e.g. postgresql://postgres@127.0.0.1")
    args = parser.parse_args()
    debtors = args.invoices // 2
    data = statement(args.entries, debtors, args.invoices)
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}; statement "
          f"{len(data) / 1e6:.1f} MB, {args.entries:,} credits, {args.invoices:,} open invoices, {debtors:,} debtors,"
          f" 10,000 open promises\n")
    print("| database | bare ElementTree + executemany | import statement | again (all known) | matched | "
          "unmatched | promises settled | target |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    kinds = ["sqlite"] + (["postgresql"] if args.postgres else [])
    with tempfile.TemporaryDirectory() as workdir:
        for kind in kinds:
            with database(kind, Path(workdir), args.postgres or "", "stmt") as url, \
                    database(kind, Path(workdir), args.postgres or "", "bare") as bare_url:
                fill(url, debtors, args.invoices)
                fill(bare_url, 10, 20, promises=0)
                baseline = bare(bare_url, data, args.entries)
                first, second, _, booked = run_one(url, data)
                print(f"| {kind} | {baseline:.2f} s | **{first:.2f} s** | {second:.2f} s | {booked.matched:,} | "
                      f"{booked.unmatched:,} | {len(booked.promises_settled):,} | "
                      f"{'met' if first <= TARGET_S else 'MISSED'} (≤ {TARGET_S:.0f} s) |")


if __name__ == "__main__":
    main()
