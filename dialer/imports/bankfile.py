"""A bank file read by the reader its format needs: camt.053/054 XML or SWIFT MT940, told apart by content."""

from __future__ import annotations

from dataclasses import replace

from .camt import read_camt
from .errors import ImportErrorItem, ImportFailed
from .statement import Statement
from .swift import read_mt940


def read_statement(data: bytes, name: str) -> Statement:
    """Read a camt.053/camt.054 XML or MT940 file, or raise ImportFailed naming what is wrong."""
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return _distinct(read_camt(data))
    if b":20:" in data[:4096] or b":61:" in data[:65536] or head.startswith((b"{1:", b":940:")):
        return _distinct(read_mt940(data))
    raise ImportFailed([ImportErrorItem(None, None, f"{name} is not a bank statement: expected camt.053 or camt.054 "
                                                    f"XML, or SWIFT MT940 text")])


def _distinct(statement: Statement) -> Statement:
    """Give credits that share a key (identical entries without a bank reference) their place among them."""
    seen: dict[str, int] = {}
    for i, credit in enumerate(statement.credits):
        seen[credit.key] = seen.get(credit.key, 0) + 1
        if seen[credit.key] > 1:
            statement.credits[i] = replace(credit, key=f"{credit.key}~{seen[credit.key]}")
    return statement
