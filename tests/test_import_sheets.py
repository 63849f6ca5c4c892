"""Workbooks as accounting packages export them: Excel cell types, a title block above the header, any sheet."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZIP_STORED, ZipFile

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dialer.dossiers.ledger import Invoice
from dialer.dossiers.parties import Debtor, Phone
from tests.conftest import run_cli
from tests.test_queue_fixtures import make_config
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, bearer, web_config


def export(path: Path, bad_amount: bool = False) -> Path:
    """A workbook like an accounting package's: a title and a blank row above each header, typed cells."""
    book = Workbook()
    debtors = book.active
    debtors.title = "Debiteuren"
    debtors.append(["Debiteurenlijst per 30-11-2026"])
    debtors.append([])
    debtors.append(["ref", "name", "customer_since", "do_not_call"])
    debtors.append(["D-1", "Bakkerij Jansen", date(2019, 5, 1), False])
    debtors.append(["D-2", "Smit Transport", datetime(2021, 3, 15), True])
    invoices = book.create_sheet("Facturen")
    invoices.append(["Openstaande posten", None, None, "Exact Online"])
    invoices.append(["debtor_ref", "number", "date", "due_date", "amount", "open_amount"])
    invoices.append(["D-1", 2026001, date(2026, 9, 1), date(2026, 10, 1), 1234.5, 1234.5])
    invoices.append(["D-1", "F-2", "01-10-2026", "2026-10-31", "1.210,00", 0.1 + 0.2])
    invoices.append(["D-2", "F-3", date(2026, 10, 5), date(2026, 11, 4), "abc" if bad_amount else 99, 99])
    contacts = book.create_sheet("Contacten")
    contacts.append(["debtor_ref", "name", "phone"])
    contacts.append(["D-1", "Jan Jansen", 612345678])  # Excel dropped the leading 0 of 0612345678
    book.save(path)
    return path


def test_a_workbook_with_title_rows_and_typed_cells_imports(engine: Engine, db_url: str, tmp_path: Path) -> None:
    _, config = make_config(tmp_path, db_url=db_url)
    book = export(tmp_path / "export.xlsx")
    for kind, sheet in (("debtors", "Debiteuren"), ("invoices", "Facturen"), ("contacts", "Contacten")):
        done = run_cli("--config", str(config), "import", kind, str(book), "--sheet", sheet, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    with Session(engine) as s:
        d2 = s.scalars(select(Debtor).where(Debtor.ref == "D-2")).one()
        assert (d2.customer_since, d2.do_not_call) == (date(2021, 3, 15), True)
        found = {i.number: (i.date, i.due_date, i.amount, i.open_amount) for i in s.scalars(select(Invoice))}
        assert found == {"2026001": (date(2026, 9, 1), date(2026, 10, 1), Decimal("1234.50"), Decimal("1234.50")),
                         "F-2": (date(2026, 10, 1), date(2026, 10, 31), Decimal("1210.00"), Decimal("0.30")),
                         "F-3": (date(2026, 10, 5), date(2026, 11, 4), Decimal("99.00"), Decimal("99.00"))}
        assert s.scalar(select(Phone.number)) == "+31612345678"


def test_a_bad_cell_refuses_the_whole_sheet_naming_its_row(engine: Engine, db_url: str, tmp_path: Path) -> None:
    _, config = make_config(tmp_path, db_url=db_url)
    book = export(tmp_path / "export.xlsx", bad_amount=True)
    assert run_cli("--config", str(config), "import", "debtors", str(book), cwd=tmp_path).returncode == 0
    refused = run_cli("--config", str(config), "import", "invoices", str(book), "--sheet", "Facturen", cwd=tmp_path)
    assert refused.returncode == 1
    assert "row 5" in refused.stderr and "amount" in refused.stderr and "nothing imported" in refused.stderr
    with Session(engine) as s:
        assert s.scalar(select(Invoice.id)) is None
    missing = run_cli("--config", str(config), "import", "invoices", str(book), "--sheet", "Nope", cwd=tmp_path)
    assert missing.returncode == 1 and "no sheet 'Nope'" in missing.stderr and "Facturen" in missing.stderr


def test_the_map_file_names_the_header_row(engine: Engine, db_url: str, tmp_path: Path) -> None:
    _, config = make_config(tmp_path, db_url=db_url)
    book = Workbook()
    sheet = book.active
    sheet.append(["Klantnummer", "Naam"])  # looks like a header, but it is the package's title block
    sheet.append(["Exportdatum", "30-11-2026"])
    sheet.append(["Klantnummer", "Naam"])
    sheet.append(["K-1", "Bakker"])
    book.save(tmp_path / "klanten.xlsx")
    (tmp_path / "map.toml").write_text('header_row = 3\n[columns]\nref = "Klantnummer"\nname = "Naam"\n')
    done = run_cli("--config", str(config), "import", "debtors", str(tmp_path / "klanten.xlsx"),
                   "--map", str(tmp_path / "map.toml"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with Session(engine) as s:
        assert list(s.scalars(select(Debtor.ref))) == ["K-1"]


def ods(path: Path) -> Path:
    """A minimal OpenDocument spreadsheet, as LibreOffice writes its parts."""
    content = ("""<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
  xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
  xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
<office:body><office:spreadsheet><table:table table:name="Blad1">
<table:table-row><table:table-cell office:value-type="string"><text:p>ref</text:p></table:table-cell>
<table:table-cell office:value-type="string"><text:p>name</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell office:value-type="string"><text:p>O-1</text:p></table:table-cell>
<table:table-cell office:value-type="string"><text:p>Open Kantoor</text:p></table:table-cell></table:table-row>
</table:table></office:spreadsheet></office:body></office:document-content>""").replace(">\n<", "><")
    manifest = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"""
    with ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=ZIP_STORED)
        z.writestr("META-INF/manifest.xml", manifest, compress_type=ZIP_DEFLATED)
        z.writestr("content.xml", content, compress_type=ZIP_DEFLATED)
    return path


async def test_the_api_imports_a_workbook_and_an_ods_file(engine: Engine, db_url: str, tmp_path: Path,
                                                          make_client: MakeClient) -> None:
    from tests.webfixtures import add_account

    add_account(engine, "chef", "supervisor")
    client = await make_client(web_config(db_url, tmp_path))
    data = export(tmp_path / "export.xlsx").read_bytes()
    headers = {**bearer(engine, "chef"),
               "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    done = await client.post("/api/v1/imports/debtors?sheet=Debiteuren", data=data, headers=headers)
    assert done.status == 200, await done.text()
    assert (await done.json())["result"]["new"] == 2
    odf = ods(tmp_path / "klanten.ods").read_bytes()
    done = await client.post("/api/v1/imports/debtors", data=odf,
                             headers={**headers, "Content-Type": "application/vnd.oasis.opendocument.spreadsheet"})
    assert done.status == 200, await done.text()
    with Session(engine) as s:
        assert sorted(s.scalars(select(Debtor.ref))) == ["D-1", "D-2", "O-1"]
    broken = await client.post("/api/v1/imports/debtors", data=b"PK\x03\x04 not really a zip", headers=headers)
    assert broken.status == 422 and "spreadsheet" in (await broken.json())["errors"][0]["message"]
