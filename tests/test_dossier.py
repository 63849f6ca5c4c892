"""`belblok dossier REF` after `belblok import`: the JSON contract and the summary for people."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import run_cli

TOP_KEYS = {"debtor", "contacts", "invoices", "payments", "complaints", "agreements", "attempts", "notes"}


def nl(day: date) -> str:
    """A date as a Dutch export writes it."""
    return f"{day:%d-%m-%Y}"


@pytest.fixture
def workdir(tmp_path: Path, db_url: str) -> Path:
    """A config and a database filled through `belblok import` with dates around today (UTC)."""
    (tmp_path / "belblok.toml").write_text(
        f'[database]\nurl = "{db_url}"\n[sip]\ntrunk = "127.0.0.1:5060"\ncaller_id = "+31201234567"\n')
    today = datetime.now(UTC).date()
    files = {
        "debtors": "ref;name;kind;customer_since;do_not_call\n"
                   f"D-1;Bakkerij De Vries B.V.;company;{nl(today - timedelta(days=3000))};nee\n"
                   f"D-2;Jansen Fietsen;company;{nl(today - timedelta(days=100))};ja\n",
        "contacts": "debtor_ref;name;role;phone;phone_label;email\n"
                    "D-1;Jan de Vries;owner;020-1234567;kantoor;jan@devries.nl\n"
                    "D-1;Petra Smit;bookkeeper;06-12345678;mobiel;\n",
        "invoices": "debtor_ref;number;date;due_date;amount;open_amount\n"
                    f"D-1;F-1;{nl(today - timedelta(days=75))};{nl(today - timedelta(days=45))};1.234,56;1.234,56\n"
                    f"D-1;F-2;{nl(today - timedelta(days=40))};{nl(today - timedelta(days=10))};500,00;200,00\n"
                    f"D-1;F-3;{nl(today - timedelta(days=10))};{nl(today + timedelta(days=20))};300;\n"
                    f"D-1;F-4;{nl(today - timedelta(days=130))};{nl(today - timedelta(days=100))};80,00;0\n"
                    f"D-2;G-1;{nl(today - timedelta(days=5))};{nl(today + timedelta(days=25))};99,95;99,95\n",
        "payments": "debtor_ref;invoice_number;date;amount;reference\n"
                    f"D-1;F-4;{nl(today - timedelta(days=95))};80,00;NL12BANK-7\n"
                    f"D-1;F-2;{nl(today - timedelta(days=3))};300,00;NL12BANK-8\n",
    }
    for kind, text in files.items():
        (tmp_path / f"{kind}.csv").write_bytes(text.encode("utf-8-sig"))
        proc = run_cli("--config", "belblok.toml", "import", kind, f"{kind}.csv", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    return tmp_path


def dossier(workdir: Path, *args: str) -> dict:
    proc = run_cli("--config", "belblok.toml", "dossier", *args, "--json", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_dossier_json_after_import_with_overdue_days_totals_and_late_payers(workdir: Path) -> None:
    today = datetime.now(UTC).date()
    data = dossier(workdir, "D-1")
    assert set(data) == TOP_KEYS
    debtor = data["debtor"]
    assert (debtor["ref"], debtor["name"], debtor["customer_type"], debtor["do_not_call"]) == \
        ("D-1", "Bakkerij De Vries B.V.", "regular", False)
    assert debtor["customer_since"] == (today - timedelta(days=3000)).isoformat()
    assert (debtor["total_open"], debtor["currency"], debtor["open_invoices"]) == ("1734.56", "EUR", 3)
    assert (debtor["max_days_overdue"], debtor["late_invoices_last_year"], debtor["repeat_late_payer"]) == \
        (45, 3, True)

    invoices = {inv["number"]: inv for inv in data["invoices"]}
    assert [inv["number"] for inv in data["invoices"]] == ["F-4", "F-1", "F-2", "F-3"]  # by due date
    assert invoices["F-1"] | {"id": 0} == {
        "id": 0, "debtor_ref": "D-1", "number": "F-1", "date": (today - timedelta(days=75)).isoformat(),
        "due_date": (today - timedelta(days=45)).isoformat(), "amount": "1234.56", "open_amount": "1234.56",
        "currency": "EUR", "delivered_on": None, "delivery_method": None, "description": None,
        "days_overdue": 45, "disputed": False}
    assert [(n, invoices[n]["open_amount"], invoices[n]["days_overdue"]) for n in ("F-2", "F-3", "F-4")] == \
        [("F-2", "200.00", 10), ("F-3", "300.00", 0), ("F-4", "0.00", 0)]

    assert [(p["invoice_number"], p["date"], p["amount"], p["reference"]) for p in data["payments"]] == [
        ("F-2", (today - timedelta(days=3)).isoformat(), "300.00", "NL12BANK-8"),
        ("F-4", (today - timedelta(days=95)).isoformat(), "80.00", "NL12BANK-7")]
    assert [(c["name"], c["role"], c["phone"], c["phone_label"], c["email"]) for c in data["contacts"]] == [
        ("Jan de Vries", "owner", "+31201234567", "kantoor", "jan@devries.nl"),
        ("Petra Smit", "bookkeeper", "+31612345678", "mobiel", None)]
    assert data["complaints"] == data["agreements"] == data["attempts"] == data["notes"] == []

    # A new customer who pays on time is no repeat late payer.
    debtor = dossier(workdir, "D-2")["debtor"]
    assert (debtor["customer_type"], debtor["do_not_call"], debtor["total_open"], debtor["max_days_overdue"]) == \
        ("new", True, "99.95", 0)
    assert debtor["repeat_late_payer"] is False


def test_the_summary_for_people_and_an_unknown_reference(workdir: Path) -> None:
    proc = run_cli("--config", "belblok.toml", "dossier", "D-1", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    for fragment in ("Bakkerij De Vries B.V. (D-1)", "EUR 1734.56", "2 overdue", "repeat late payer",
                     "F-1  due", "45 days overdue", "F-2", "Jan de Vries (owner): +31201234567 (kantoor)",
                     "Petra Smit (bookkeeper): +31612345678 (mobiel)"):
        assert fragment in text, text
    assert "F-3" not in text  # not overdue

    proc = run_cli("--config", "belblok.toml", "dossier", "D-404", "--json", cwd=workdir)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == "belblok: error: no debtor with reference 'D-404'\n"


def test_an_invoices_last_payment_is_the_latest_of_its_own_payments() -> None:
    from decimal import Decimal

    from dialer.dossiers.dossier import last_payments, paid_late
    from dialer.dossiers.ledger import Invoice, Payment

    def pay(invoice_id: int | None, day: date) -> Payment:
        return Payment(invoice_id=invoice_id, date=day, amount=Decimal("1.00"))

    found = last_payments([pay(1, date(2026, 3, 9)), pay(2, date(2026, 1, 5)), pay(1, date(2026, 4, 1)),
                           pay(None, date(2026, 5, 1)), pay(1, date(2026, 3, 30))])
    assert found == {1: date(2026, 4, 1), 2: date(2026, 1, 5)}
    invoice = Invoice(id=1, due_date=date(2026, 3, 31), open_amount=Decimal("0.00"))
    today = date(2026, 6, 1)
    assert paid_late(invoice, found.get(1), today)  # its last payment came a day after the due date
    assert not paid_late(invoice, date(2026, 3, 31), today) and not paid_late(invoice, None, today)
