"""A report's rows as a text table, JSON, CSV or an Excel workbook."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

FORMATS = ("table", "json", "csv", "xlsx")


def columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Every key of the rows, in the order they first appear."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def as_table(rows: Sequence[dict[str, Any]]) -> str:
    """Aligned columns for a terminal (numbers to the right); the team's row shows as 'team'."""
    names = columns(rows)
    if not names:
        return "(nothing in this period)\n"
    cells = [[_cell(r.get(n)) if not (n == "agent" and r.get(n) is None) else "team" for n in names] for r in rows]
    widths = [max(len(n), *(len(c[i]) for c in cells)) for i, n in enumerate(names)]
    numeric = [all(_numeric(c[i]) for c in cells) for i in range(len(names))]
    lines = ["  ".join(n.rjust(w) if num else n.ljust(w) for n, w, num in zip(names, widths, numeric))]
    for c in cells:
        lines.append("  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(c, widths, numeric)))
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text == ""
    return True


def as_json(rows: Sequence[dict[str, Any]]) -> str:
    """One object per row."""
    return json.dumps(list(rows), ensure_ascii=False, indent=2) + "\n"


def as_csv(rows: Sequence[dict[str, Any]]) -> str:
    """A header and one line per row."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns(rows), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def as_xlsx(rows: Sequence[dict[str, Any]], title: str) -> bytes:
    """One sheet with a header row; amounts and rates as numbers, so Excel can sum and chart them."""
    from openpyxl import Workbook  # imported here: only this format needs it

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    names = columns(rows)
    sheet.append(names)
    for row in rows:
        sheet.append([_number(row.get(n)) for n in names])
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value) if "." in value and value.replace(".", "", 1).lstrip("-").isdigit() else value
        except ValueError:
            return value
    return value


def render(rows: Sequence[dict[str, Any]], form: str, title: str) -> str | bytes:
    """The rows in format `form` (one of FORMATS)."""
    if form == "json":
        return as_json(rows)
    if form == "csv":
        return as_csv(rows)
    if form == "xlsx":
        return as_xlsx(rows, title)
    return as_table(rows)
