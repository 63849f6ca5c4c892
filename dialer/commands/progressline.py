"""A one-line progress report on stderr for long imports, drawn only on a terminal."""

from __future__ import annotations

from typing import TextIO

PROGRESS_FROM = 1000  # rows; smaller files finish before a bar is worth drawing


class ProgressLine:
    """A one-line progress report on a terminal, rewritten in place; silent when the stream is not a TTY."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.active = stream.isatty()
        self.shown = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        """Show `done` of `total` rows for `stage`."""
        if self.active and total >= PROGRESS_FROM:
            percent = 100 * done // max(total, 1)
            self.stream.write(f"\r{stage}: {done:,}/{total:,} rows ({percent}%)\x1b[K")
            self.stream.flush()
            self.shown = True

    def clear(self) -> None:
        """Remove the line before anything else is printed."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False
