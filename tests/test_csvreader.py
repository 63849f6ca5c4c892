"""Reading CSV exports: encodings, delimiters, headers, and amounts, dates and yes/no as accountants write them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dialer.imports.csvreader import (
    NotCsv,
    decode,
    header_key,
    match_columns,
    parse_amount,
    parse_bool,
    parse_code,
    parse_date,
    parse_email,
    parse_int,
    parse_language,
    parse_text,
    parse_timezone,
    parse_word,
    read_table,
    sniff_delimiter,
)


@pytest.mark.parametrize(("data", "encoding"), [
    ("ref;naam\nD1;Café Ëlst\n".encode(), "utf-8"),
    ("ref;naam\nD1;Café Ëlst\n".encode("utf-8-sig"), "utf-8-sig"),
    ("ref;naam\nD1;Café Ëlst\n".encode("cp1252"), "cp1252"),
    ("ref;naam\nD1;Café Ëlst\n".encode("utf-16"), "utf-16"),
])
def test_decode_reads_utf8_with_or_without_bom_windows_1252_and_utf16(data: bytes, encoding: str) -> None:
    text, used = decode(data)
    assert used == encoding
    assert text.lstrip("\ufeff") == "ref;naam\nD1;Café Ëlst\n"


def test_a_bom_does_not_stick_to_the_first_header() -> None:
    table = read_table("ref;name\nD1;X\n".encode("utf-8-sig"))
    assert table.header == ["ref", "name"]


@pytest.mark.parametrize(("data", "fragment"), [
    (b"", "empty"),
    (b"  \r\n\n", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    (b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook (.xlsx)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old Excel workbook"),
    (b"%PDF-1.7\n", "PDF"),
    (b"\x81\x8d\x8f\x90\x9d", "neither UTF-8 nor Windows-1252"),
    ("ref;name\x01\x02\x03\x04\x05\x06\x07\x08\n".encode(), "binary"),
])
def test_what_is_not_csv_is_refused_with_a_reason(data: bytes, fragment: str) -> None:
    with pytest.raises(NotCsv) as info:
        read_table(data)
    assert fragment in str(info.value)


@pytest.mark.parametrize(("line", "delimiter"), [
    ("ref;name;amount", ";"),
    ("ref,name,amount", ","),
    ("ref\tname\tamount", "\t"),
    ('"Naam, voluit";Bedrag;Datum', ";"),
    ('"Naam; voluit",Bedrag,Datum', ","),
    ("ref", ";"),
])
def test_the_delimiter_is_the_one_that_splits_the_header_most(line: str, delimiter: str) -> None:
    assert sniff_delimiter(line) == delimiter


def test_a_dutch_file_with_decimal_commas_is_split_on_semicolons() -> None:
    table = read_table(b"debtor_ref;number;amount\nD1;F1;1.234,56\nD1;F2;12,5\n")
    assert table.delimiter == ";"
    assert table.rows == [(2, ["D1", "F1", "1.234,56"]), (3, ["D1", "F2", "12,5"])]


def test_excel_sep_hint_line_sets_the_delimiter_and_is_not_a_row() -> None:
    table = read_table(b"sep=,\r\nref,name;x\r\nD1,A;B\r\n")
    assert (table.delimiter, table.header, table.header_row) == (",", ["ref", "name;x"], 1)
    assert table.rows == [(2, ["D1", "A;B"])]


def test_rows_are_numbered_as_a_spreadsheet_shows_them() -> None:
    data = b'ref,name,notes\r\nD1,A,"two\r\nlines"\r\n\r\nD2,B,\r\n,,\r\nD3,C,x\r\n'
    table = read_table(data)
    assert table.header_row == 1
    assert [number for number, _ in table.rows] == [2, 4, 6]
    assert table.rows[0][1][2] == "two\r\nlines"


def test_header_cells_are_matched_without_regard_to_case_spaces_or_underscores() -> None:
    assert header_key("  Debtor_Ref ") == header_key("DEBTOR REF") == "debtor ref"
    found, problems = match_columns([" REF ", "Name", "Due Date", "other"], ["ref", "name", "due_date", "amount"])
    assert found == {"ref": 0, "name": 1, "due_date": 2}
    assert problems == []


def test_a_map_names_the_headers_of_other_exports() -> None:
    header = ["Debiteurnummer", "Naam", "Factuurbedrag", "ref"]
    found, problems = match_columns(header, ["ref", "name", "amount", "open_amount"],
                                    {"ref": "debiteurnummer", "name": " naam ", "amount": "Factuurbedrag",
                                     "open_amount": "Factuurbedrag"})
    assert found == {"ref": 0, "name": 1, "amount": 2, "open_amount": 2}
    assert problems == []


def test_map_mistakes_are_reported() -> None:
    found, problems = match_columns(["Nr", "Naam", "Naam"], ["ref", "name"],
                                    {"ref": "Nummer", "name": "Naam", "colour": "Kleur"})
    assert found == {}
    assert (None, "the map names 'colour', which is not a column here; known columns: ref, name") in problems
    assert ("ref", "the map says it is 'Nummer', but the header has no such column") in problems
    assert ("name", "the header has 'Naam' more than once (cells 2 and 3)") in problems


@pytest.mark.parametrize(("text", "amount"), [
    ("1234.56", "1234.56"), ("1234,56", "1234.56"), ("1.234,56", "1234.56"), ("1,234.56", "1234.56"),
    ("1.234.567,89", "1234567.89"), ("1,234,567.89", "1234567.89"), ("1 234,56", "1234.56"),
    ("1\u00a0234,56", "1234.56"), ("1'234.56", "1234.56"), ("1.234", "1234.00"), ("1,234", "1234.00"),
    ("12,5", "12.50"), ("0,05", "0.05"), ("-12,50", "-12.50"), ("12,50-", "-12.50"), ("(1.234,56)", "-1234.56"),
    ("€ 1.234,56", "1234.56"), ("+7", "7.00"), ("  42  ", "42.00"), ("-0,00", "0.00"), ("0", "0.00"),
])
def test_amounts_in_dutch_belgian_and_english_notation(text: str, amount: str) -> None:
    value = parse_amount(text)
    assert isinstance(value, Decimal)
    assert str(value) == amount


@pytest.mark.parametrize(("text", "message"), [
    ("12,3,4", "'12,3,4' is not an amount"),
    ("1.2.3", "'1.2.3' is not an amount"),
    ("abc", "'abc' is not an amount"),
    ("12 EUR", "'12 EUR' is not an amount"),
    ("1,2345", "'1,2345' has more than two decimals"),
    ("0.001", "'0.001' has more than two decimals"),
    ("1234.567", "'1234.567' has more than two decimals"),
    ("1.23,45", "'1.23,45' is not an amount"),
    ("1,234,56", "'1,234,56' is not an amount"),
    ("12.", "'12.' is not an amount"),
    ("١٢", "'١٢' is not an amount"),
    ("1e5", "'1e5' is not an amount"),
    ("NaN", "'NaN' is not an amount"),
    ("9" * 16, "too large"),
])
def test_what_is_not_an_amount_says_so(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_amount(text)
    assert message in str(info.value)


@pytest.mark.parametrize(("text", "day"), [
    ("31-01-2024", date(2024, 1, 31)), ("31/01/2024", date(2024, 1, 31)), ("2024-01-31", date(2024, 1, 31)),
    ("1-2-2024", date(2024, 2, 1)), ("01.02.2024", date(2024, 2, 1)), ("20240131", date(2024, 1, 31)),
    ("2024/01/31", date(2024, 1, 31)), ("31-01-2024 00:00", date(2024, 1, 31)),
    ("2024-01-31T00:00:00", date(2024, 1, 31)), (" 29-02-2024 ", date(2024, 2, 29)),
])
def test_dates_dd_mm_yyyy_and_iso(text: str, day: date) -> None:
    assert parse_date(text) == day


@pytest.mark.parametrize(("text", "message"), [
    ("31-02-2024", "'31-02-2024' is not a valid date"),
    ("2024-13-01", "'2024-13-01' is not a valid date"),
    ("31-01-24", "'31-01-24' is not a date (write dd-mm-yyyy, dd/mm/yyyy or yyyy-mm-dd)"),
    ("gisteren", "'gisteren' is not a date"),
    ("31-01/2024", "'31-01/2024' is not a date"),
])
def test_what_is_not_a_date_says_so(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_date(text)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("text", ["1", "true", "TRUE", "Yes", "ja", "JA", " j ", "waar", "x"])
def test_yes(text: str) -> None:
    assert parse_bool(text) is True


@pytest.mark.parametrize("text", ["0", "false", "No", "nee", "NEE", "", "  ", "onwaar"])
def test_no_and_empty(text: str) -> None:
    assert parse_bool(text) is False


def test_what_is_not_yes_or_no_says_so() -> None:
    with pytest.raises(ValueError, match=r"^'misschien' is not yes or no \(write 1/0, true/false, yes/no or ja/nee\)"):
        parse_bool("misschien")


def test_small_parsers() -> None:
    assert parse_text("  Bakker  ", 10) == "Bakker"
    with pytest.raises(ValueError, match="longer than 3 characters"):
        parse_text("abcd", 3)
    assert parse_int(" 25 ", 1, 31) == 25
    with pytest.raises(ValueError, match="'32' is not a whole number from 1 to 31"):
        parse_int("32", 1, 31)
    assert parse_code(2, "a country", "be") == "BE"
    with pytest.raises(ValueError, match="'NLD' is not a country"):
        parse_code(2, "a country", "NLD")
    assert parse_language("NL") == "nl"
    assert parse_language("nl-BE") == "nl-BE"
    assert parse_timezone("Europe/Brussels") == "Europe/Brussels"
    with pytest.raises(ValueError, match="not a time zone"):
        parse_timezone("Europe/Nowhere")
    assert parse_email(" jan@bakker.nl ") == "jan@bakker.nl"
    for bad in ("jan", "jan@", "@bakker.nl", "jan@bakker", "jan @bakker.nl", "a@b@c.nl"):
        with pytest.raises(ValueError, match="not an e-mail address"):
            parse_email(bad)
    words = {"owner": "owner", "credit manager": "credit_manager"}
    assert parse_word(words, "a role", "Credit-Manager") == "credit_manager"
    assert parse_word(words, "a role", "credit_manager") == "credit_manager"
    with pytest.raises(ValueError, match=r"'boss' is not a role \(use credit_manager, owner\)"):
        parse_word(words, "a role", "boss")
