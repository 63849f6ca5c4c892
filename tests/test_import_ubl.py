"""E-invoices (Peppol BIS Billing 3.0 / UBL 2.1) on SQLite and PostgreSQL: all files or none, every problem named."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.dossiers.ledger import CreditNote, Invoice
from dialer.dossiers.parties import Debtor
from dialer.dossiers.stats import DossierStats
from dialer.imports.einvoice import EInvoiceResult, import_einvoices
from dialer.imports.errors import ImportFailed
from dialer.imports.ubl import read_document, read_documents
from tests.conftest import run_cli
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, bearer, seeded, web_config

TODAY = date(2026, 3, 1)
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
MODELS = (Debtor, Invoice, CreditNote, DossierStats)
PEPPOL = ("<cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
          "</cbc:CustomizationID>\n  <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>")
NAMESPACES = ('xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
              'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"')
SUPPLIER = """<cac:AccountingSupplierParty><cac:Party>
      <cbc:EndpointID schemeID="0208">0202239951</cbc:EndpointID>
      <cac:PartyName><cbc:Name>Groothandel Vanhoutte</cbc:Name></cac:PartyName>
      <cac:PostalAddress><cbc:StreetName>Kouter 12</cbc:StreetName><cbc:CityName>Gent</cbc:CityName>
        <cbc:PostalZone>9000</cbc:PostalZone><cac:Country><cbc:IdentificationCode>BE</cbc:IdentificationCode>
        </cac:Country></cac:PostalAddress>
      <cac:PartyTaxScheme><cbc:CompanyID>BE0202239951</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID>
        </cac:TaxScheme></cac:PartyTaxScheme>
      <cac:PartyLegalEntity><cbc:RegistrationName>Groothandel Vanhoutte NV</cbc:RegistrationName>
        <cbc:CompanyID schemeID="0208">0202239951</cbc:CompanyID></cac:PartyLegalEntity>
    </cac:Party></cac:AccountingSupplierParty>"""
BELGIAN = """<cac:AccountingCustomerParty><cac:Party>
      <cbc:EndpointID schemeID="9925">BE0403170701</cbc:EndpointID>
      <cac:PartyIdentification><cbc:ID>K-1001</cbc:ID></cac:PartyIdentification>
      <cac:PartyName><cbc:Name>De Klok</cbc:Name></cac:PartyName>
      <cac:PostalAddress><cbc:StreetName>Grote Markt 1</cbc:StreetName><cbc:CityName>Brugge</cbc:CityName>
        <cbc:PostalZone>8000</cbc:PostalZone><cac:Country><cbc:IdentificationCode>BE</cbc:IdentificationCode>
        </cac:Country></cac:PostalAddress>
      <cac:PartyTaxScheme><cbc:CompanyID>{vat}</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
        </cac:PartyTaxScheme>
      <cac:PartyLegalEntity><cbc:RegistrationName>Brouwerij De Klok NV</cbc:RegistrationName>
        <cbc:CompanyID schemeID="0208">0403.170.701</cbc:CompanyID></cac:PartyLegalEntity>
      <cac:Contact><cbc:Name>An Peeters</cbc:Name><cbc:ElectronicMail>boekhouding@deklok.be</cbc:ElectronicMail>
        </cac:Contact>
    </cac:Party></cac:AccountingCustomerParty>"""
DUTCH = """<cac:AccountingCustomerParty><cac:Party>
      <cbc:EndpointID schemeID="0106">34110447</cbc:EndpointID>
      <cac:PartyName><cbc:Name>Bakkerij Smit</cbc:Name></cac:PartyName>
      <cac:PostalAddress><cbc:StreetName>Dorpsstraat 3</cbc:StreetName><cbc:CityName>Zwolle</cbc:CityName>
        <cbc:PostalZone>8011 AB</cbc:PostalZone><cac:Country><cbc:IdentificationCode>NL</cbc:IdentificationCode>
        </cac:Country></cac:PostalAddress>
      <cac:PartyTaxScheme><cbc:CompanyID>NL004495445B01</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID>
        </cac:TaxScheme></cac:PartyTaxScheme>
      <cac:PartyLegalEntity><cbc:RegistrationName>Bakkerij Smit B.V.</cbc:RegistrationName>
        <cbc:CompanyID schemeID="0106">34110447</cbc:CompanyID></cac:PartyLegalEntity>
    </cac:Party></cac:AccountingCustomerParty>"""


def peppol(number: str, *, buyer: str = BELGIAN.format(vat="BE0403170701"), payable: str | None = "1210.00",
           inclusive: str = "1210.00", payment_id: str | None = "+++202/6000/01206+++",
           due: str | None = "2026-02-14", terms: str = "Betaling binnen 30 dagen", credits: str | None = None,
           issued: str = "2026-01-15") -> bytes:
    """A Peppol BIS 3.0 invoice (or, with `credits`, a credit note for that invoice) as e-invoicing software
    writes it: the supplier, the buyer, payment means, tax, totals and a line."""
    root, line = ("CreditNote", "CreditNoteLine") if credits else ("Invoice", "InvoiceLine")
    head = ("<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>" if credits else
            (f"<cbc:DueDate>{due}</cbc:DueDate>" if due else "") + "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>")
    billing = (f"<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{credits}</cbc:ID>"
               f"<cbc:IssueDate>2026-01-15</cbc:IssueDate></cac:InvoiceDocumentReference></cac:BillingReference>"
               if credits else "")
    paid = f"<cbc:PaymentID>{payment_id}</cbc:PaymentID>" if payment_id else ""
    total = (f'<cbc:PayableAmount currencyID="EUR">{payable}</cbc:PayableAmount>' if payable is not None else "")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2" {NAMESPACES}>
  {PEPPOL}
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>{issued}</cbc:IssueDate>
  {head}
  <cbc:Note>Levering week 2</cbc:Note>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cbc:BuyerReference>PO-4711</cbc:BuyerReference>
  {billing}
  {SUPPLIER}
  {buyer}
  <cac:PaymentMeans><cbc:PaymentMeansCode name="Credit transfer">30</cbc:PaymentMeansCode>{paid}
    <cac:PayeeFinancialAccount><cbc:ID>BE71096123456769</cbc:ID><cbc:Name>Groothandel Vanhoutte</cbc:Name>
    </cac:PayeeFinancialAccount></cac:PaymentMeans>
  <cac:PaymentTerms><cbc:Note>{terms}</cbc:Note></cac:PaymentTerms>
  <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">210.00</cbc:TaxAmount><cac:TaxSubtotal>
    <cbc:TaxableAmount currencyID="EUR">1000.00</cbc:TaxableAmount>
    <cbc:TaxAmount currencyID="EUR">210.00</cbc:TaxAmount>
    <cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>21</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
    </cac:TaxCategory></cac:TaxSubtotal></cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">1000.00</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">1000.00</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">{inclusive}</cbc:TaxInclusiveAmount>
    {total}
  </cac:LegalMonetaryTotal>
  <cac:{line}><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode="C62">10</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">1000.00</cbc:LineExtensionAmount>
    <cac:Item><cbc:Name>Tripel 33cl, bak van 24</cbc:Name><cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID>
      <cbc:Percent>21</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory>
    </cac:Item><cac:Price><cbc:PriceAmount currencyID="EUR">100.00</cbc:PriceAmount></cac:Price>
  </cac:{line}>
</{root}>
""".encode()


def load(sessions: sessionmaker[Session], *files: tuple[str, bytes]) -> EInvoiceResult:
    """Read the files and import them in one transaction, as the CLI does."""
    documents = read_documents(list(files), region="NL")
    with sessions() as session, session.begin():
        return import_einvoices(session, documents, today=TODAY, now=NOW)


def snapshot(sessions: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """Every table an import writes, row by row, in a stable order."""
    with sessions() as session:
        return {model.__tablename__: sorted(tuple(str(getattr(obj, c.key)) for c in model.__table__.columns)
                                            for obj in session.scalars(select(model))) for model in MODELS}


def refused(sessions: sessionmaker[Session], *files: tuple[str, bytes]) -> list[str]:
    """The problems of an import that must fail; asserts that it wrote nothing."""
    before = snapshot(sessions)
    with pytest.raises(ImportFailed) as info:
        load(sessions, *files)
    assert snapshot(sessions) == before
    return [str(error) for error in info.value.errors]


def invoice(sessions: sessionmaker[Session], number: str) -> Invoice:
    with sessions() as session:
        return session.scalars(select(Invoice).where(Invoice.number == number)).one()


def test_a_belgian_invoice_with_an_ogm_makes_its_debtor_and_invoice(sessions: sessionmaker[Session]) -> None:
    result = load(sessions, ("F-2026-001.xml", peppol("F-2026-001")))
    assert result.summary == ("imported 1 e-invoices: 1 new, 0 updated; 0 credit notes: 0 new, 0 already imported; "
                              "1 debtors created")
    with sessions() as session:
        debtor = session.scalars(select(Debtor)).one()
        assert (debtor.ref, debtor.name, debtor.kind, debtor.country, debtor.vat_number, debtor.company_number) == (
            "BE0403170701", "Brouwerij De Klok NV", "company", "BE", "BE0403170701", "0403170701")
        stats = session.get(DossierStats, debtor.id)
        assert stats is not None and stats.open_cents == 121000
    found = invoice(sessions, "F-2026-001")
    assert (found.date, found.due_date, found.amount, found.open_amount, found.currency, found.payment_reference,
            found.description) == (date(2026, 1, 15), date(2026, 2, 14), Decimal("1210.00"), Decimal("1210.00"),
                                   "EUR", "202600001206", "buyer reference PO-4711")


def test_a_dutch_invoice_without_payment_id_finds_its_debtor_by_kvk(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        session.add(Debtor(ref="D-77", name="Bakkerij Smit", country="NL", company_number="34110447",
                           created_at=NOW, updated_at=NOW))
    data = peppol("2026-0042", buyer=DUTCH, payment_id=None, due=None, terms="Betalen binnen 14 dagen",
                  payable="400.00", inclusive="484.00")
    result = load(sessions, ("2026-0042.xml", data))
    assert (result.invoices_new, result.debtors_created) == (1, 0)
    found = invoice(sessions, "2026-0042")
    # No cbc:DueDate: the payment terms' "14 dagen" from the issue date; 84.00 of the total was prepaid.
    assert (found.due_date, found.amount, found.payment_reference, found.description) == (
        date(2026, 1, 29), Decimal("400.00"), None, "buyer reference PO-4711; prepaid 84.00 of 484.00")
    with sessions() as session:
        debtor = session.scalars(select(Debtor)).one()
        assert (debtor.ref, debtor.name, debtor.vat_number) == ("D-77", "Bakkerij Smit", "NL004495445B01")


def test_the_buyers_identifier_finds_a_debtor_by_its_reference(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        session.add(Debtor(ref="K-1001", name="De Klok", country="BE", created_at=NOW, updated_at=NOW))
    result = load(sessions, ("F-1.xml", peppol("F-1", terms="zonder termijn", due=None)))
    assert result.debtors_created == 0
    assert invoice(sessions, "F-1").due_date == date(2026, 2, 14)  # no terms: the statutory 30 days


def test_a_buyer_known_by_its_kvk_alone_and_a_vat_number_two_debtors_share(sessions: sessionmaker[Session]) -> None:
    only_kvk = DUTCH.replace("<cac:PartyTaxScheme><cbc:CompanyID>NL004495445B01", "<cac:PartyTaxScheme><cbc:CompanyID>")
    load(sessions, ("N-1.xml", peppol("N-1", buyer=only_kvk, payment_id=None)))
    with sessions() as session, session.begin():
        assert [(d.ref, d.country, d.language) for d in session.scalars(select(Debtor))] == [("KvK 34110447", "NL",
                                                                                             "nl")]
        for ref in ("D-1", "D-2"):
            session.add(Debtor(ref=ref, name=ref, vat_number="BE0403170701", created_at=NOW, updated_at=NOW))
    assert refused(sessions, ("F-1.xml", peppol("F-1"))) == [
        "F-1.xml: cac:AccountingCustomerParty/cac:Party: VAT number BE0403170701 is on 2 debtors (D-1, D-2): keep "
        "it on one, so the invoice has one debtor"]


def test_a_credit_note_lowers_its_invoice_once(sessions: sessionmaker[Session]) -> None:
    load(sessions, ("F-2026-001.xml", peppol("F-2026-001")))
    credit = ("C-2026-001.xml", peppol("C-2026-001", credits="F-2026-001", payable="210.00", payment_id=None))
    result = load(sessions, credit)
    assert (result.credit_notes_new, result.credit_notes_known) == (1, 0)
    assert invoice(sessions, "F-2026-001").open_amount == Decimal("1000.00")
    before = snapshot(sessions)
    again = load(sessions, credit, ("F-2026-001.xml", peppol("F-2026-001")))
    assert (again.credit_notes_new, again.credit_notes_known, again.invoices_updated) == (0, 1, 1)
    assert snapshot(sessions) == before  # the same files again change nothing
    with sessions() as session:
        note = session.scalars(select(CreditNote)).one()
        assert (note.number, note.amount, note.date, note.invoice_id) == (
            "C-2026-001", Decimal("210.00"), date(2026, 1, 15), invoice(sessions, "F-2026-001").id)
        assert session.scalars(select(DossierStats)).one().open_cents == 100000


def test_a_directory_holds_invoices_and_the_credit_notes_that_lower_them(sessions: sessionmaker[Session],
                                                                          tmp_path: Path) -> None:
    files = [("a-credit.xml", peppol("C-9", credits="F-9", payable="5000.00")),  # more than is open: down to 0
             ("b-invoice.xml", peppol("F-9")), ("c-dutch.xml", peppol("N-1", buyer=DUTCH, payment_id=None))]
    result = load(sessions, *files)
    assert (result.invoices_new, result.credit_notes_new, result.debtors_created) == (2, 1, 2)
    assert invoice(sessions, "F-9").open_amount == Decimal("0.00")


def test_a_corrected_invoice_keeps_what_was_credited(sessions: sessionmaker[Session]) -> None:
    load(sessions, ("F-1.xml", peppol("F-1")), ("C-1.xml", peppol("C-1", credits="F-1", payable="10.00")))
    load(sessions, ("F-1.xml", peppol("F-1", payable="1300.00")))
    found = invoice(sessions, "F-1")
    assert (found.amount, found.open_amount) == (Decimal("1300.00"), Decimal("1290.00"))


def test_an_access_points_sbdh_envelope_is_opened() -> None:
    inner = peppol("F-5").split(b"?>", 1)[1]
    wrapped = (b'<?xml version="1.0"?><StandardBusinessDocument xmlns="http://www.unece.org/cefact/namespaces/'
               b'StandardBusinessDocumentHeader"><StandardBusinessDocumentHeader><HeaderVersion>1.0</HeaderVersion>'
               b'</StandardBusinessDocumentHeader>' + inner + b'</StandardBusinessDocument>')
    assert read_document("F-5.xml", wrapped).number == "F-5"


LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><cbc:ID>&lol9;</cbc:ID></Invoice>
"""
BAD = {
    "malformed": (peppol("F-1").replace(b"</cbc:IssueDate>", b"</cbc:IssueDat>"),
                  "F-bad.xml: line 6, column 30: not well-formed XML (mismatched tag)"),
    "billion laughs": (LAUGHS, "F-bad.xml: the file declares a DTD or entities; e-invoices never do, so it is "
                               "refused unread (entity expansion is a known attack)"),
    "bad VAT": (peppol("F-1", buyer=BELGIAN.format(vat="BE 0403.170.702")),
                "F-bad.xml: cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID: "
                "'BE 0403.170.702' is not a valid VAT number (wrong check digits; write it with its country "
                "prefix, e.g. NL…B01 or BE0…)"),
    "bad OGM": (peppol("F-1", payment_id="+++202/6000/01207+++"),
                "F-bad.xml: cac:PaymentMeans/cbc:PaymentID: '+++202/6000/01207+++': the check digits of the "
                "structured communication are wrong"),
    "no PayableAmount": (peppol("F-1", payable=None), "F-bad.xml: cac:LegalMonetaryTotal/cbc:PayableAmount: "
                                                      "missing (required)"),
    "not an amount": (peppol("F-1", payable="abc"),
                      "F-bad.xml: cac:LegalMonetaryTotal/cbc:PayableAmount: 'abc' is not an amount"),
    "unknown invoice": (peppol("C-1", credits="F-404", payable="10.00"),
                        "F-bad.xml: cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID: no invoice 'F-404' "
                        "of debtor 'BE0403170701', neither in the database nor in this import"),
    "not UBL": (b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.02'/>",
                "F-bad.xml: not a UBL invoice or credit note: the root element is "
                "{urn:iso:std:iso:20022:tech:xsd:camt.053.001.02}Document"),
    "twice in the batch": (peppol("F-OK"), "F-bad.xml: cbc:ID: invoice 'F-OK' of debtor 'BE0403170701' is also in "
                                           "F-OK.xml"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_file_refuses_the_whole_import_and_names_the_element(sessions: sessionmaker[Session],
                                                                   case: str) -> None:
    load(sessions, ("F-0.xml", peppol("F-0")))  # something already there, which must stay as it is
    data, message = BAD[case]
    assert refused(sessions, ("F-OK.xml", peppol("F-OK")), ("F-bad.xml", data)) == [message]


def test_every_problem_of_every_file_is_listed(sessions: sessionmaker[Session]) -> None:
    errors = refused(sessions, ("a.xml", peppol("F-1", payable="1.234", payment_id="+++202/6000/01207+++")),
                     ("b.xml", peppol("F-2", due="15-02-2026")))
    assert errors == ["a.xml: cac:LegalMonetaryTotal/cbc:PayableAmount: '1.234' is not an amount (more than two "
                      "decimals)",
                      "a.xml: cac:PaymentMeans/cbc:PaymentID: '+++202/6000/01207+++': the check digits of the "
                      "structured communication are wrong",
                      "b.xml: cbc:DueDate: '15-02-2026' is not a date (yyyy-mm-dd)"]


def test_belblok_import_ubl_reads_a_directory(tmp_path: Path, db_url: str) -> None:
    config = tmp_path / "belblok.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n[sip]\ntrunk = "127.0.0.1:5060"\ncaller_id = "+31201234567"\n'
                      f'[numbers]\ndefault_region = "NL"\n')
    inbox = tmp_path / "peppol"
    inbox.mkdir()
    (inbox / "F-2026-001.xml").write_bytes(peppol("F-2026-001"))
    (inbox / "C-2026-001.XML").write_bytes(peppol("C-2026-001", credits="F-2026-001", payable="210.00"))
    (inbox / "readme.txt").write_text("not an invoice, not read")
    (inbox / "kapot.xml").write_bytes(peppol("F-3", payable="abc"))
    proc = run_cli("--config", str(config), "import", "ubl", "peppol", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr.splitlines() == ["kapot.xml: cac:LegalMonetaryTotal/cbc:PayableAmount: 'abc' is not an amount",
                                        "belblok: error: peppol: 1 error, nothing imported"]
    (inbox / "kapot.xml").unlink()
    proc = run_cli("--config", str(config), "import", "ubl", "peppol", cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == ("imported 1 e-invoices: 1 new, 0 updated; 1 credit notes: 1 new, 0 already imported; "
                           "1 debtors created\n")
    proc = run_cli("--config", str(config), "dossier", "BE0403170701", "--json", cwd=tmp_path)
    assert proc.returncode == 0 and '"open_amount": "1000.00"' in proc.stdout, proc.stdout
    proc = run_cli("--config", str(config), "import", "ubl", "peppol/F-2026-001.xml", cwd=tmp_path)
    assert proc.stdout.startswith("imported 1 e-invoices: 0 new, 1 updated;")


async def test_the_api_imports_one_document_and_refuses_a_bad_one_whole(engine: Any, db_url: str, tmp_path: Path,
                                                                        make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    chef = bearer(engine, "chef")
    assert (await client.post("/api/v1/imports/ubl", data=peppol("F-9"), headers=bearer(engine, "demo"))).status \
        == 403
    bad = await client.post("/api/v1/imports/ubl?name=F-bad.xml", data=peppol("F-9", payable="abc"), headers=chef)
    assert bad.status == 422
    assert (await bad.json())["errors"][0]["column"] == "cac:LegalMonetaryTotal/cbc:PayableAmount"
    done = await client.post("/api/v1/imports/ubl?name=F-9.xml", data=peppol("F-9"), headers=chef)
    assert done.status == 200, await done.text()
    assert (await done.json())["result"]["invoices_new"] == 1
    again = await client.post("/api/v1/imports/ubl?name=F-9.xml", data=peppol("F-9"), headers=chef)
    assert (await again.json())["result"] == {**(await done.json())["result"], "invoices_new": 0,
                                               "invoices_updated": 1, "debtors_created": 0}
