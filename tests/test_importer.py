"""CSV imports on SQLite and PostgreSQL: all of a file or nothing, every error listed, re-imports idempotent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dialer.dossiers.ledger import Invoice, Payment
from dialer.dossiers.parties import Contact, Debtor, Phone
from dialer.imports.importer import ImportFailed, ImportResult, import_csv, payment_key
from tests.conftest import run_cli

TODAY = date(2025, 3, 1)
MODELS = (Debtor, Contact, Phone, Invoice, Payment)

DEBTORS = b"""ref,name,kind,country,customer_since,language,do_not_call,written_only,insolvent
D-1,Bakkerij De Vries B.V.,company,NL,2019-05-01,nl,0,false,no
D-2,Jansen,person,BE,,fr,1,true,yes
"""
CONTACTS = b"""debtor_ref,name,role,phone,phone_label,email
D-1,Jan de Vries,owner,020-1234567,kantoor,jan@devries.nl
D-1,Jan de Vries,owner,06 12345678,mobiel,
D-1,Petra Smit,bookkeeper,,,petra@devries.nl
D-2,Jansen,,+32 2 511 22 33,,
"""
INVOICES = b"""debtor_ref,number,date,due_date,amount,open_amount,currency,delivered_on,delivery_method,description
D-1,F-100,2025-01-01,2025-01-31,1234.56,1234.56,EUR,2024-12-30,PostNL,Brood
D-1,F-101,2025-01-15,2025-02-14,200.00,50.00,,,,
D-2,F-100,2025-02-01,2025-03-03,99.99,,,,,
"""
PAYMENTS = b"""debtor_ref,invoice_number,date,amount,reference
D-1,F-101,2025-02-10,150.00,BANK-1
D-1,,2025-02-11,10.00,
"""


def load(sessions: sessionmaker[Session], kind: str, data: bytes, mapping: dict[str, str] | None = None,
         today: date = TODAY) -> ImportResult:
    """Import in one transaction, as the CLI and the API do."""
    with sessions() as session, session.begin():
        return import_csv(session, kind, data, mapping=mapping, region="NL", today=today)


def refused(sessions: sessionmaker[Session], kind: str, data: bytes, **options: Any) -> list[str]:
    """The errors of an import that must fail; asserts that it wrote nothing."""
    before = snapshot(sessions)
    with pytest.raises(ImportFailed) as info:
        load(sessions, kind, data, **options)
    assert snapshot(sessions) == before
    return [str(error) for error in info.value.errors]


def snapshot(sessions: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """Every imported table's rows, without ids and times, in a stable order."""
    skip = {"id", "created_at", "updated_at"}
    with sessions() as session:
        return {model.__tablename__: sorted(
            (tuple(str(getattr(obj, c.key)) for c in model.__table__.columns if c.key not in skip)
             for obj in session.scalars(select(model))))
            for model in MODELS}


def count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def load_all(sessions: sessionmaker[Session]) -> list[str]:
    return [load(sessions, kind, data).summary for kind, data in
            (("debtors", DEBTORS), ("contacts", CONTACTS), ("invoices", INVOICES), ("payments", PAYMENTS))]


def test_each_kind_imports_with_the_canonical_columns(sessions: sessionmaker[Session]) -> None:
    assert load_all(sessions) == ["imported 2 debtors: 2 new, 0 updated", "imported 3 contacts: 3 new, 0 updated",
                                  "imported 3 invoices: 3 new, 0 updated", "imported 2 payments: 2 new, 0 updated"]
    with sessions() as session:
        bakker = session.scalars(select(Debtor).where(Debtor.ref == "D-1")).one()
        jansen = session.scalars(select(Debtor).where(Debtor.ref == "D-2")).one()
        assert (bakker.name, bakker.kind, bakker.country, bakker.customer_since, bakker.language) == \
            ("Bakkerij De Vries B.V.", "company", "NL", date(2019, 5, 1), "nl")
        assert (bakker.do_not_call, bakker.written_only, bakker.insolvent) == (False, False, False)
        assert (jansen.kind, jansen.country, jansen.customer_since, jansen.language) == ("person", "BE", None, "fr")
        assert (jansen.do_not_call, jansen.written_only, jansen.insolvent) == (True, True, True)
        assert bakker.created_at.tzinfo is not None

        jan, petra = bakker.contacts
        assert (jan.name, jan.role, jan.email) == ("Jan de Vries", "owner", "jan@devries.nl")
        assert [(p.number, p.label, p.kind) for p in jan.phones] == [("+31201234567", "kantoor", "direct"),
                                                                     ("+31612345678", "mobiel", "direct")]
        assert (petra.role, petra.email, petra.phones) == ("bookkeeper", "petra@devries.nl", [])
        assert [(c.role, [p.number for p in c.phones]) for c in jansen.contacts] == [("other", ["+3225112233"])]

        invoices = {(inv.debtor_id, inv.number): inv for inv in session.scalars(select(Invoice))}
        f100 = invoices[bakker.id, "F-100"]
        assert (f100.date, f100.due_date, f100.amount, f100.open_amount, f100.currency) == \
            (date(2025, 1, 1), date(2025, 1, 31), Decimal("1234.56"), Decimal("1234.56"), "EUR")
        assert (f100.delivered_on, f100.delivery_method, f100.description) == (date(2024, 12, 30), "PostNL", "Brood")
        other = invoices[jansen.id, "F-100"]  # the same number at another debtor is another invoice
        assert (other.open_amount, other.currency, other.description) == (Decimal("99.99"), "EUR", None)

        payments = {p.reference: p for p in session.scalars(select(Payment))}
        linked, on_account = payments["BANK-1"], payments[""]
        assert (linked.invoice_id, linked.amount, linked.date) == \
            (invoices[bakker.id, "F-101"].id, Decimal("150.00"), date(2025, 2, 10))
        assert on_account.invoice_id is None
        assert linked.natural_key == payment_key("D-1", "F-101", date(2025, 2, 10), Decimal("150"), "BANK-1")
        # A payment only links; the open amount is the accounting export's.
        assert invoices[bakker.id, "F-101"].open_amount == Decimal("50.00")


def test_a_dutch_export_with_semicolons_decimal_commas_bom_and_dd_mm_yyyy(sessions: sessionmaker[Session]) -> None:
    load(sessions, "debtors", "ref;name;do_not_call;customer_since\r\nD-1;Bakker;nee;01-05-2019\r\n"
                              "D-2;Visser;JA;15/06/2020\r\n".encode("utf-8-sig"))
    data = ("debtor_ref;number;date;due_date;amount;open_amount\r\n"
            "D-1;2025-001;01-01-2025;31-01-2025;1.234,56;1.000,00\r\n"
            "D-2;2025-002;15/01/2025;14/02/2025;12,5;12,5\r\n").encode("utf-8-sig")
    assert load(sessions, "invoices", data).summary == "imported 2 invoices: 2 new, 0 updated"
    with sessions() as session:
        rows = session.execute(select(Debtor.ref, Debtor.do_not_call, Debtor.customer_since).order_by(Debtor.ref))
        assert rows.all() == [("D-1", False, date(2019, 5, 1)), ("D-2", True, date(2020, 6, 15))]
        rows = session.execute(select(Invoice.number, Invoice.date, Invoice.due_date, Invoice.amount,
                                      Invoice.open_amount).order_by(Invoice.number))
        assert rows.all() == [("2025-001", date(2025, 1, 1), date(2025, 1, 31), Decimal("1234.56"), Decimal("1000.00")),
                              ("2025-002", date(2025, 1, 15), date(2025, 2, 14), Decimal("12.50"), Decimal("12.50"))]


def test_a_windows_1252_file_keeps_its_accents(sessions: sessionmaker[Session]) -> None:
    data = "ref;name;notes\nD-1;Café Noël;Ëén keer gebeld, geen reactie\n".encode("cp1252")
    load(sessions, "debtors", data)
    with sessions() as session:
        debtor = session.scalars(select(Debtor)).one()
    assert (debtor.name, debtor.notes) == ("Café Noël", "Ëén keer gebeld, geen reactie")


def test_other_headers_through_a_map_and_loose_header_matching(sessions: sessionmaker[Session]) -> None:
    load(sessions, "debtors", b"  REF ;Name\nD-1;Bakker\n")
    data = (b"Debiteur;Factuurnr;Factuurdatum;Vervaldatum;Bedrag;Saldo;Extra\n"
            b"D-1;F-1;01-01-2025;31-01-2025;100,00;40,00;negeer mij\n")
    mapping = {"debtor_ref": "Debiteur", "number": "factuurnr", "date": "Factuurdatum", "due_date": "Vervaldatum",
               "amount": "Bedrag", "open_amount": "Saldo"}
    assert load(sessions, "invoices", data, mapping=mapping).summary == "imported 1 invoices: 1 new, 0 updated"
    with sessions() as session:
        invoice = session.scalars(select(Invoice)).one()
    assert (invoice.number, invoice.amount, invoice.open_amount) == ("F-1", Decimal("100.00"), Decimal("40.00"))


def test_a_map_that_names_what_is_not_there_is_refused(sessions: sessionmaker[Session]) -> None:
    load(sessions, "debtors", b"ref;name\nD-1;Bakker\n")
    errors = refused(sessions, "invoices", b"Debiteur;Nr;date;due_date;amount\nD-1;F-1;01-01-2025;31-01-2025;1\n",
                     mapping={"debtor_ref": "Debiteur", "number": "Factuurnummer", "colour": "Kleur"})
    assert errors == ["the map names 'colour', which is not a column here; known columns: debtor_ref, "
                      "number, date, due_date, amount, open_amount, currency, delivered_on, delivery_method, "
                      "description, payment_reference",
                      "row 1, column number: the map says it is 'Factuurnummer', but the header has no such column"]


def test_re_importing_the_same_files_changes_nothing(sessions: sessionmaker[Session]) -> None:
    load_all(sessions)
    first = snapshot(sessions)
    assert load_all(sessions) == ["imported 2 debtors: 0 new, 2 updated", "imported 3 contacts: 0 new, 3 updated",
                                  "imported 3 invoices: 0 new, 3 updated", "imported 2 payments: 0 new, 2 updated"]
    assert snapshot(sessions) == first
    assert [count(sessions, model) for model in MODELS] == [2, 3, 3, 3, 2]


def test_a_later_export_updates_by_reference(sessions: sessionmaker[Session]) -> None:
    load_all(sessions)
    result = load(sessions, "invoices", b"debtor_ref;number;date;due_date;amount;open_amount\n"
                                        b"D-1;F-100;01-01-2025;31-01-2025;1234,56;0\n"
                                        b"D-1;F-102;01-03-2025;31-03-2025;10;\n")
    assert (result.new, result.updated) == (1, 1)
    load(sessions, "debtors", b"ref;name;insolvent\nD-2;Jansen;nee\n")
    with sessions() as session:
        rows = session.execute(select(Invoice.number, Invoice.open_amount, Invoice.description)
                               .join(Debtor).where(Debtor.ref == "D-1").order_by(Invoice.number)).all()
        jansen = session.scalars(select(Debtor).where(Debtor.ref == "D-2")).one()
    # A column the file lacks keeps its value; an empty open_amount means nothing was paid.
    assert rows == [("F-100", Decimal("0.00"), "Brood"), ("F-101", Decimal("50.00"), None),
                    ("F-102", Decimal("10.00"), None)]
    assert (jansen.insolvent, jansen.do_not_call, jansen.language) == (False, True, "fr")


def test_missing_columns_are_each_named(sessions: sessionmaker[Session]) -> None:
    load(sessions, "debtors", b"ref;name\nD-1;Bakker\n")
    errors = refused(sessions, "invoices", b"debtor_ref;number;date\nD-1;F-1;01-01-2025\n")
    assert errors == ["row 1, column due_date: missing column (required)",
                      "row 1, column amount: missing column (required)"]
    assert refused(sessions, "contacts", b"debtor_ref;name;role\nD-1;Jan;owner\n") == [
        "row 1, column phone: missing column: contacts need a phone or an email"]


def test_bad_values_are_all_listed_with_row_and_column(sessions: sessionmaker[Session]) -> None:
    load(sessions, "debtors", b"ref;name\nD-1;Bakker\n")
    data = (b"debtor_ref;number;date;due_date;amount;open_amount\n"
            b"D-1;F-1;01-01-2025;31-01-2025;100,00;100,00\n"
            b"D-1;F-2;31-02-2025;31-03-2025;12,3,4;\n"
            b"D-1;F-3;2025-01-01;morgen;1.000,001;abc\n"
            b"D-1;;01-01-2025;;10;\n"
            b"D-1;F-5;01-01-2025;31-01-2025;10;5;\n")
    assert refused(sessions, "invoices", data) == [
        "row 3, column date: '31-02-2025' is not a valid date (day or month out of range; dates are dd-mm-yyyy, "
        "dd/mm/yyyy or yyyy-mm-dd)",
        "row 3, column amount: '12,3,4' is not an amount",
        "row 4, column due_date: 'morgen' is not a date (write dd-mm-yyyy, dd/mm/yyyy or yyyy-mm-dd)",
        "row 4, column amount: '1.000,001' is not an amount",
        "row 4, column open_amount: 'abc' is not an amount",
        "row 5, column number: a value is required",
        "row 5, column due_date: a value is required",
    ]
    assert count(sessions, Invoice) == 0


def test_bad_debtor_fields_and_phone_numbers(sessions: sessionmaker[Session]) -> None:
    errors = refused(sessions, "debtors", b"ref,name,kind,country,do_not_call,payment_day,timezone\n"
                                          b"D-1,Bakker,shop,Nederland,misschien,32,Mars/Olympus\n")
    assert errors == [
        "row 2, column kind: 'shop' is not a kind (use company, person)",
        "row 2, column country: 'Nederland' is not a country code such as 'NL' or 'BE'",
        "row 2, column do_not_call: 'misschien' is not yes or no (write 1/0, true/false, yes/no or ja/nee)",
        "row 2, column timezone: 'Mars/Olympus' is not a time zone such as 'Europe/Amsterdam'",
        "row 2, column payment_day: '32' is not a whole number from 1 to 31",
    ]
    load(sessions, "debtors", b"ref,name\nD-1,Bakker\n")
    errors = refused(sessions, "contacts", b"debtor_ref,name,role,phone,email\n"
                                           b"D-1,Jan,owner,12345,\n"
                                           b"D-1,Piet,boss,,\n"
                                           b"D-1,Kees,,020-1234567,kees@\n")
    assert errors[0].startswith("row 2, column phone: '12345' is not a valid phone number")
    assert errors[1:] == ["row 3, column role: 'boss' is not a role (use bookkeeper, credit_manager, other, owner)",
                          "row 3, column phone: a phone number or an e-mail address is required",
                          "row 4, column email: 'kees@' is not an e-mail address"]


def test_duplicate_references_in_one_file(sessions: sessionmaker[Session]) -> None:
    assert refused(sessions, "debtors", b"ref;name\nD-1;A\nD-2;B\nD-1;C\n") == [
        "row 4, column ref: duplicate reference 'D-1' (also on row 2)"]
    load(sessions, "debtors", b"ref;name\nD-1;A\nD-2;B\n")
    assert refused(sessions, "invoices", b"debtor_ref;number;date;due_date;amount\n"
                                         b"D-1;F-1;01-01-2025;31-01-2025;1\n"
                                         b"D-2;F-1;01-01-2025;31-01-2025;1\n"
                                         b"D-1;F-1;01-01-2025;31-01-2025;2\n") == [
        "row 4, column number: duplicate invoice 'F-1' of debtor 'D-1' (also on row 2)"]
    assert refused(sessions, "contacts", b"debtor_ref;name;phone;email;role\n"
                                         b"D-1;Jan;020-1234567;;owner\n"
                                         b"D-1;Jan;020 123 45 67;;\n"
                                         b"D-1;Els;;els@a.nl;\n"
                                         b"D-1;Els;;els@a.nl;\n"
                                         b"D-1;Jan;0612345678;;bookkeeper\n") == [
        "row 3, column phone: duplicate phone number +31201234567 of 'Jan' of debtor 'D-1' (also on row 2)",
        "row 5, column name: duplicate contact 'Els' of debtor 'D-1' (also on row 4)",
        "row 6, column role: 'bookkeeper' differs from 'owner' given for 'Jan' on row 2"]
    assert refused(sessions, "payments", b"debtor_ref;date;amount;reference\n"
                                         b"D-1;01-02-2025;10,00;X\nD-1;01-02-2025;10;X\nD-1;01-02-2025;10;Y\n") == [
        "row 3, column reference: duplicate payment: same debtor, invoice, date, amount, reference (also on row 2)"]


def test_references_to_what_does_not_exist(sessions: sessionmaker[Session]) -> None:
    load(sessions, "debtors", b"ref;name\nD-1;A\n")
    load(sessions, "invoices", b"debtor_ref;number;date;due_date;amount\nD-1;F-1;01-01-2025;31-01-2025;100\n")
    assert refused(sessions, "payments", b"debtor_ref;invoice_number;date;amount\n"
                                         b"D-1;F-1;01-02-2025;10\n"
                                         b"D-1;F-9;01-02-2025;10\n"
                                         b"D-9;F-1;01-02-2025;10\n"
                                         b"D-1;;01-02-2030;10\n") == [
        "row 3, column invoice_number: no invoice 'F-9' of debtor 'D-1'",
        "row 4, column debtor_ref: no debtor with reference 'D-9'; import it first",
        "row 5, column date: 01-02-2030 is in the future"]
    assert refused(sessions, "invoices", b"debtor_ref;number;date;due_date;amount\n"
                                         b"D-9;F-2;01-01-2025;31-01-2025;1\n") == [
        "row 2, column debtor_ref: no debtor with reference 'D-9'; import it first"]
    assert refused(sessions, "contacts", b"debtor_ref;name;phone\nD-9;Jan;020-1234567\n") == [
        "row 2, column debtor_ref: no debtor with reference 'D-9'; import it first"]


@pytest.mark.parametrize(("data", "message"), [
    (b"", "the file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not a CSV file: it holds binary data"),
    # A workbook is read as one (tests/test_import_sheets.py); a broken one, or another ZIP archive, says so.
    (b"PK\x03\x04\x14\x00\x06\x00\x08\x00", "not a readable spreadsheet (.xlsx, .xls or .ods)"),
    (b"Dit is een brief aan de debiteur.\nMet vriendelijke groet\n", "not a CSV file of invoices: no column of its "
                                                                     "header ('Dit is een brief aan de debiteur.')"),
    (b"aap;noot;mies\n1;2;3\n", "not a CSV file of invoices: no column of its header ('aap', 'noot', 'mies')"),
])
def test_a_file_that_is_not_csv_is_one_clear_error(sessions: sessionmaker[Session], data: bytes,
                                                   message: str) -> None:
    errors = refused(sessions, "invoices", data)
    assert len(errors) == 1
    assert errors[0].startswith(message)


def test_rows_are_counted_like_a_spreadsheet_and_misaligned_rows_are_caught(sessions: sessionmaker[Session]) -> None:
    load(sessions, "debtors", b"ref;name\nD-1;A\n")
    data = (b'debtor_ref,number,date,due_date,amount,description\n'
            b'D-1,F-1,2025-01-01,2025-01-31,10.00,"two\nlines"\n'
            b'\n'
            b'D-1,F-2,2025-01-01,2025-01-31,1,234.50,Brood\n'
            b'D-1,F-3,2025-01-01,2025-01-31,x,\n')
    assert refused(sessions, "invoices", data) == [
        "row 4: 7 cells but the header has 6: a value containing ',' must be in double quotes",
        "row 5, column amount: 'x' is not an amount"]


def test_a_header_only_file_imports_nothing(sessions: sessionmaker[Session]) -> None:
    assert load(sessions, "debtors", b"ref;name\n").summary == "imported 0 debtors: 0 new, 0 updated"


def test_the_progress_callback_sees_every_stage(sessions: sessionmaker[Session]) -> None:
    rows = "".join(f"D-{i};Debiteur {i}\n" for i in range(2500))
    seen: list[tuple[str, int, int]] = []
    with sessions() as session, session.begin():
        import_csv(session, "debtors", ("ref;name\n" + rows).encode(), mapping=None, region="NL", today=TODAY,
                   progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert ("checking", 2000, 2500) in seen
    assert seen[-1] == ("writing debtors", 2500, 2500)
    assert count(sessions, Debtor) == 2500


def test_an_unknown_kind_is_a_programming_error(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(ValueError, match="unknown import kind 'creditors'"):
        load(sessions, "creditors", b"ref;name\n")


# The command line, on both databases.

def write_config(tmp_path: Path, db_url: str) -> Path:
    path = tmp_path / "belblok.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n[sip]\ntrunk = "127.0.0.1:5060"\ncaller_id = "+31201234567"\n'
                    f'[numbers]\ndefault_region = "NL"\n')
    return path


def test_cli_import_prints_a_summary_and_lists_every_error(tmp_path: Path, db_url: str) -> None:
    cfg = str(write_config(tmp_path, db_url))
    (tmp_path / "debiteuren.csv").write_bytes("Nummer;Naam\nD-1;Café Noël\n".encode("cp1252"))
    (tmp_path / "map.toml").write_text('[columns]\nref = "Nummer"\nname = "Naam"\n')
    proc = run_cli("--config", cfg, "import", "debtors", "debiteuren.csv", "--map", "map.toml", cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "imported 1 debtors: 1 new, 0 updated\n", "")

    today = datetime.now(UTC).date()
    (tmp_path / "facturen.csv").write_text(
        "debtor_ref;number;date;due_date;amount\n"
        f"D-1;F-1;{today:%d-%m-%Y};{today + timedelta(days=30):%d-%m-%Y};100,00\n"
        f"D-1;F-2;{today:%d-%m-%Y};{today:%d-%m-%Y};12,3,4\n"
        f"D-9;F-3;{today:%d-%m-%Y};{today:%d-%m-%Y};1\n")
    proc = run_cli("--config", cfg, "import", "invoices", "facturen.csv", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr.splitlines() == ["row 3, column amount: '12,3,4' is not an amount",
                                        "row 4, column debtor_ref: no debtor with reference 'D-9'; import it first",
                                        "belblok: error: facturen.csv: 2 errors, nothing imported"]
    proc = run_cli("--config", cfg, "dossier", "D-1", "--json", cwd=tmp_path)
    assert '"invoices": []' in proc.stdout

    (tmp_path / "plaatje.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    proc = run_cli("--config", cfg, "import", "invoices", "plaatje.png", cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (1, "belblok: error: plaatje.png: not a CSV file: it holds binary data\n")
    (tmp_path / "kapot.toml").write_text("[columns\n")
    proc = run_cli("--config", cfg, "import", "invoices", "facturen.csv", "--map", "kapot.toml", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith("belblok: error: kapot.toml: not a TOML file")


def test_imports_keep_the_queues_stored_statistics_true(sessions: sessionmaker[Session]) -> None:
    from dialer.dossiers.stats import DossierStats

    load_all(sessions)
    with sessions() as session:
        stats = {session.get(Debtor, row.debtor_id).ref: row for row in session.scalars(select(DossierStats))}
        opened = {ref: sum(int(inv.open_amount * 100) for inv in session.scalars(
            select(Invoice).join(Debtor, Debtor.id == Invoice.debtor_id).where(Debtor.ref == ref)))
            for ref in stats}
    assert stats, "no statistics after an import"
    assert {ref: row.open_cents for ref, row in stats.items()} == opened
