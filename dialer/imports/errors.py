"""What is wrong with an import file: each problem where it is, and the failure that lists them all."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImportErrorItem:
    """One problem in an import file: where (row and column, when known) and why."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = ", ".join(part for part in (self.row and f"row {self.row}", self.column and f"column {self.column}")
                          if part)
        return f"{where}: {self.message}" if where else self.message


class ImportFailed(Exception):
    """Nothing was imported; `errors` lists every problem found in the file."""

    def __init__(self, errors: list[ImportErrorItem]) -> None:
        super().__init__(f"{len(errors)} error{'s' if len(errors) != 1 else ''}, nothing imported")
        self.errors = errors
