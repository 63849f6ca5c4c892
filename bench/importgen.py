"""Benchmark data: debtors and invoices CSVs as a Dutch accounting package exports them.

    .venv/bin/python bench/importgen.py OUTDIR [--debtors 10000] [--invoices 100000] [--seed 1]

Writes OUTDIR/debtors.csv and OUTDIR/invoices.csv: UTF-8 with BOM, ';' between
values, CRLF line ends, dates dd-mm-yyyy, amounts with decimal comma and '.'
thousands separators ("1.234,56"), names with accents, some quoted values.
"""

from __future__ import annotations

import argparse
import random
from datetime import date, timedelta
from pathlib import Path

FIRST = ["Jan", "Petra", "Kees", "Anouk", "Sven", "Noël", "Zoë", "Daan", "Eline", "Ruud", "Aïcha", "Bram"]
LAST = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "de Boer", "Dekker", "Brouwer"]
TRADES = ["Bakkerij", "Installatiebedrijf", "Café", "Garage", "Drukkerij", "Bouwbedrijf", "Bloemisterij"]
FORMS = ["B.V.", "V.O.F.", "BV", "NV", "& Zn."]
METHODS = ["PostNL", "eigen vervoer", "DHL", "afhalen", "e-mail"]


def dutch_amount(cents: int) -> str:
    """'1.234,56' for 123456 cents."""
    whole, rest = divmod(abs(cents), 100)
    return ("-" if cents < 0 else "") + f"{whole:,}".replace(",", ".") + f",{rest:02d}"


def dutch_date(day: date) -> str:
    """'31-01-2025'."""
    return f"{day:%d-%m-%Y}"


def debtors_csv(count: int, rng: random.Random, today: date) -> str:
    """The debtors file: ref, name, kind, country, customer_since, language, do_not_call, written_only, insolvent."""
    lines = ["Ref;Name;Kind;Country;Customer_since;Language;Do_not_call;Written_only;Insolvent"]
    for i in range(count):
        person = rng.random() < 0.2
        name = (f"{rng.choice(FIRST)} {rng.choice(LAST)}" if person else
                f"{rng.choice(TRADES)} {rng.choice(LAST)} {rng.choice(FORMS)}")
        if rng.random() < 0.05:
            name = f'"{name}; filiaal {rng.randint(1, 9)}"'  # a quoted ';' inside a value
        country = "BE" if rng.random() < 0.15 else "NL"
        since = today - timedelta(days=rng.randint(30, 5000))
        lines.append(";".join([f"D{i + 1:06d}", name, "person" if person else "company", country, dutch_date(since),
                               "fr" if country == "BE" and rng.random() < 0.4 else "nl",
                               "ja" if rng.random() < 0.02 else "nee", "nee", "ja" if rng.random() < 0.01 else "nee"]))
    return "\r\n".join(lines) + "\r\n"


def invoices_csv(count: int, debtors: int, rng: random.Random, today: date) -> str:
    """The invoices file: debtor_ref, number, date, due_date, amount, open_amount, currency, delivery, description."""
    lines = ["Debtor_ref;Number;Date;Due_date;Amount;Open_amount;Currency;Delivered_on;Delivery_method;Description"]
    for i in range(count):
        issued = today - timedelta(days=rng.randint(0, 400))
        cents = rng.choice([rng.randint(500, 99_999), rng.randint(100_000, 2_500_000)])
        open_cents = rng.choice([cents, cents, 0, cents // 2])
        delivered = dutch_date(issued - timedelta(days=rng.randint(0, 5))) if rng.random() < 0.7 else ""
        lines.append(";".join([f"D{rng.randint(1, debtors):06d}", f"{issued.year}-{i + 1:07d}", dutch_date(issued),
                               dutch_date(issued + timedelta(days=rng.choice([14, 30, 30, 60]))),
                               dutch_amount(cents), dutch_amount(open_cents), "EUR", delivered,
                               rng.choice(METHODS), f"Levering week {issued.isocalendar().week}"]))
    return "\r\n".join(lines) + "\r\n"


def write(outdir: Path, debtors: int, invoices: int, seed: int = 1, today: date | None = None) -> tuple[Path, Path]:
    """Write both files and return their paths."""
    rng = random.Random(seed)
    today = today or date.today()
    outdir.mkdir(parents=True, exist_ok=True)
    debtors_path, invoices_path = outdir / "debtors.csv", outdir / "invoices.csv"
    debtors_path.write_bytes(debtors_csv(debtors, rng, today).encode("utf-8-sig"))
    invoices_path.write_bytes(invoices_csv(invoices, debtors, rng, today).encode("utf-8-sig"))
    return debtors_path, invoices_path


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--debtors", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for path in write(args.outdir, args.debtors, args.invoices, args.seed):
        print(f"{path}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
