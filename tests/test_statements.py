"""Bank statements read as the banks write them (camt.053, camt.054, MT940), bad files refused whole, and the
matching rules on plain data."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dialer.banking.matching import Book, Match, Miss, OpenItem, match
from dialer.core.identifiers import (
    InvalidIdentifier,
    format_ogm,
    parse_payment_reference,
)
from dialer.imports.bankfile import read_statement
from dialer.imports.errors import ImportFailed
from tests.bankfiles import OUR_IBAN, Entry, Tx, camt, mt940

DAY = date(2026, 12, 2)
BAKKER_IBAN = "NL20INGB0001234567"
OGM = "010806817183"  # 0108068171 mod 97 = 83


def sample_entries() -> list[Entry]:
    """A day as a bank books it: single credits, a batch booking, a debit, a pending and a reversed entry."""
    return [
        Entry("E1", DAY, [Tx("150.00", "Bakker BV", BAKKER_IBAN, text="factuur F2026-001")]),
        Entry("E2", DAY, [Tx("80.00", "Janssens NV", "BE71096123456769", reference=OGM, issuer="BBA")]),
        Entry("E3", DAY, [Tx("10.00", "Smit", "NL02ABNA0123456789", text="F2026-010", ref="B1"),
                          Tx("20.00", "De Vries", "NL44RABO0123456789", text="F2026-011", ref="B2"),
                          Tx("30.00", "Mulder", None, text="F2026-012", ref="B3")]),
        Entry("E4", DAY, [Tx("99.00", "Energie BV", "NL20INGB0001234567")], sign="DBIT"),
        Entry("E5", DAY, [Tx("5.00", "Later")], status="PDNG"),
        Entry("E6", DAY, [Tx("7.00", "Terug")], reversal=True),
    ]


def test_a_camt053_statement_gives_its_credits_with_batch_bookings_split() -> None:
    statement = read_statement(camt(sample_entries()), "ing.xml")
    assert statement.format == "camt.053" and statement.accounts == {OUR_IBAN}
    assert (statement.debits, statement.skipped) == (1, 2)
    got = [(c.amount, c.counter_name, c.counter_iban, c.reference, c.remittance) for c in statement.credits]
    assert got == [(Decimal("150.00"), "Bakker BV", BAKKER_IBAN, None, "factuur F2026-001"),
                   (Decimal("80.00"), "Janssens NV", "BE71096123456769", OGM, ""),  # issuer BBA
                   (Decimal("10.00"), "Smit", "NL02ABNA0123456789", None, "F2026-010"),
                   (Decimal("20.00"), "De Vries", "NL44RABO0123456789", None, "F2026-011"),
                   (Decimal("30.00"), "Mulder", None, None, "F2026-012")]
    keys = [c.key for c in statement.credits]
    assert len(set(keys)) == 5 and all(k.startswith(f"camt:{OUR_IBAN}:E") for k in keys)
    assert [c.entry_ref for c in statement.credits[2:]] == ["E3/B1", "E3/B2", "E3/B3"]
    assert read_statement(camt(sample_entries()), "again.xml").credits == statement.credits  # same keys


def test_a_camt054_notification_of_a_newer_version_reads_the_same() -> None:
    statement = read_statement(camt(sample_entries(), kind="054"), "notification.xml")
    assert statement.format == "camt.054"
    assert [c.amount for c in statement.credits] == [Decimal(a) for a in ("150.00", "80.00", "10.00", "20.00",
                                                                          "30.00")]
    assert statement.credits[1].counter_name == "Janssens NV"


def test_a_batch_booked_as_one_total_is_one_credit_marked_as_a_batch() -> None:
    entry = Entry("E9", DAY, [Tx("10.00"), Tx("15.00")], details=False)
    (credit,) = read_statement(camt([entry]), "batch.xml").credits
    assert credit.batch and credit.amount == Decimal("25.00")


def test_an_mt940_with_structured_details_gives_payer_reference_and_text() -> None:
    entries = [Entry("", DAY, [Tx("150.00", "Bakker BV", BAKKER_IBAN, text="factuur F2026-001 en F2026-002 "
                                                                               "betaald, dank u wel", ref="R1"),
                               Tx("80.00", "Jansen", "NL02ABNA0123456789", reference="1234567890123456", ref="R2"),
                               Tx("12.50", "Kosten", None, sign="DBIT", ref="R3")])]
    statement = read_statement(mt940(entries), "ing.sta")
    assert statement.format == "mt940" and statement.accounts == {OUR_IBAN} and statement.debits == 1
    first, second = statement.credits
    assert (first.counter_iban, first.counter_name, first.amount) == (BAKKER_IBAN, "Bakker BV", Decimal("150.00"))
    assert first.remittance == "factuur F2026-001 en F2026-002 betaald, dank u wel"  # wrapped at 65, joined
    assert (second.reference, second.issuer, second.entry_ref) == ("1234567890123456", "CUR", "R2")


def refused(data: bytes) -> list[str]:
    with pytest.raises(ImportFailed) as failed:
        read_statement(data, "bad")
    return [str(e) for e in failed.value.errors]


def test_xml_with_entities_is_refused_unexpanded() -> None:
    laughs = (b'<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
              b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><Document><BkToCstmrStmt>&c;</BkToCstmrStmt></Document>')
    assert refused(laughs) == ["the XML declares a DTD or entities, which a bank statement never does; "
                               "refused unread"]


def test_broken_xml_and_bad_elements_are_named() -> None:
    assert refused(b"<Document><BkToCstmrStmt><Stmt>\n<Ntry></Stmt></Document>")[0].startswith("row 2: not well")
    bad = camt(sample_entries()).replace(b'<Amt Ccy="EUR">80.00</Amt>', b'<Amt Ccy="EUR">80,001</Amt>')
    assert refused(bad) == ["column Stmt[1]/Ntry[2]/Amt: '80,001' is not an amount (digits, at most two decimals)"]
    uneven = camt(sample_entries()).replace(b"<Amt Ccy=\"EUR\">60.00</Amt>", b"<Amt Ccy=\"EUR\">61.00</Amt>")
    assert refused(uneven) == ["column Stmt[1]/Ntry[3]/NtryDtls: the 3 transactions add up to 60.00, the entry "
                               "says 61.00"]
    dated = camt(sample_entries()).replace(b"<BookgDt><Dt>2026-12-02</Dt>", b"<BookgDt><Dt>2-12-2026</Dt>", 1)
    assert refused(dated) == ["column Stmt[1]/Ntry[1]/BookgDt: '2-12-2026' is not a date (yyyy-mm-dd)"]
    assert "not a camt.053 or camt.054" in refused(b"<Invoice/>")[0]


def test_a_bad_mt940_line_is_named_and_nothing_is_read() -> None:
    good = mt940([Entry("", DAY, [Tx("150.00", "Bakker BV", BAKKER_IBAN, text="F2026-001", ref="R1")])])
    broken = good.replace(b":61:2612021202C150,00", b":61:26120X1202C150,00")
    assert refused(broken) == ["row 6, column :61:: cannot be read: '26120X1202C150,00NTRFNONREF//R1'"]
    assert refused(b"Datum;Bedrag\n01-12-2026;10,00\n") == ["bad is not a bank statement: expected camt.053 or "
                                                           "camt.054 XML, or SWIFT MT940 text"]


def test_payment_references_are_checked() -> None:
    assert parse_payment_reference(format_ogm(OGM)) == OGM
    assert parse_payment_reference("RF18 5390 0754 7034") == "RF18539007547034"
    assert parse_payment_reference("1234 5678 9012 3456") == "1234567890123456"
    assert parse_payment_reference("123456789012") == "123456789012"  # bare digits: any creditor's reference
    with pytest.raises(InvalidIdentifier, match="check digits"):
        parse_payment_reference("+++010/8068/17184+++")
    with pytest.raises(InvalidIdentifier, match="RF creditor reference"):
        parse_payment_reference("RF19 5390 0754 7034")


def book() -> Book:
    items = [OpenItem(1, 10, "F2026-001", date(2026, 11, 1), Decimal("150.00"), reference="1234567890123456"),
             OpenItem(2, 10, "F2026-002", date(2026, 11, 15), Decimal("50.00")),
             OpenItem(3, 20, "F2026-003", date(2026, 11, 1), Decimal("80.00"), reference=OGM),
             OpenItem(4, 30, "A-7", date(2026, 11, 1), Decimal("70.00")),
             OpenItem(5, 40, "A-7001", date(2026, 11, 1), Decimal("70.00")),
             OpenItem(6, 41, "A-7001", date(2026, 11, 2), Decimal("70.00"))]
    return Book.of(items, [(10, BAKKER_IBAN), (40, "NL02ABNA0123456789"), (50, "NL44RABO0123456789"),
                           (51, "NL44RABO0123456789")])


def decide(**credit: object) -> Match | Miss:
    fields = {"amount": Decimal("80.00"), "currency": "EUR", "reference": None, "text": "", "counter_iban": None}
    return match(book(), **{**fields, **credit})  # type: ignore[arg-type]


def test_the_reference_decides_first_and_a_bad_check_digit_is_never_trusted() -> None:
    assert decide(reference=OGM) == Match(20, (3,), "reference")
    assert decide(reference=None, text=f"betaling {format_ogm(OGM)}") == Match(20, (3,), "reference")
    assert decide(reference="1234567890123456", counter_iban="NL02ABNA0123456789") == Match(10, (1,), "reference")
    assert decide(reference="010806817184", issuer="BBA") == Miss("bad_check_digits")
    assert decide(reference="+++010/8068/17184+++", counter_iban=BAKKER_IBAN) == Miss("bad_check_digits", 10)
    assert decide(text="+++010/8068/17184+++ F2026-002") == Match(10, (2,), "invoice_number")
    assert decide(reference="999999999999") == Miss("unknown_reference")


def test_invoice_numbers_in_the_text_and_the_payer_telling_equal_numbers_apart() -> None:
    assert decide(text="fact F2026-002 en f2026-001") == Match(10, (1, 2), "invoice_number")
    assert decide(text="A-7 betaald") == Miss("unknown_payer")  # three characters: too short to trust
    assert decide(text="A-7001") == Miss("ambiguous")  # two debtors have an A-7001
    assert decide(text="A-7001", counter_iban="NL02ABNA0123456789") == Match(40, (5,), "invoice_number")
    assert decide(text="F2026-001 F2026-003") == Miss("ambiguous")


def test_the_payers_iban_with_an_amount_that_fits() -> None:
    assert decide(counter_iban=BAKKER_IBAN, amount=Decimal("50.00")) == Match(10, (2,), "iban_amount")
    assert decide(counter_iban=BAKKER_IBAN, amount=Decimal("200.00")) == Match(10, (1, 2), "iban_amount")
    assert decide(counter_iban=BAKKER_IBAN, amount=Decimal("120.00")) == Miss("amount_differs", 10)
    assert decide(counter_iban="NL44RABO0123456789") == Miss("ambiguous")  # two debtors share the account
    assert decide(counter_iban=BAKKER_IBAN, amount=Decimal("50.00"), currency="USD") == Miss("amount_differs", 10)
    assert decide(counter_iban=BAKKER_IBAN, batch=True) == Miss("batch", 10)


def test_allocation_pays_the_oldest_first_and_keeps_the_rest_on_account() -> None:
    ledger = book()
    parts, left = ledger.allocate((1, 2), Decimal("180.00"))
    assert (parts, left) == ([(1, Decimal("150.00")), (2, Decimal("30.00"))], Decimal("0.00"))
    assert ledger.allocate((1, 2), Decimal("40.00")) == ([(2, Decimal("20.00"))], Decimal("20.00"))
    assert ledger.still_open(10) == []
