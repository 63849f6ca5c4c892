"""Calling blocks in the database: one-off blocks and the supervisor's weekly set, over the configured default."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time

from sqlalchemy import Date, Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..storage.base import Base
from ..storage.columns import UTCDateTime
from .block import DAYS, ONE_OFF, WEEKLY, Block, BlockError, BlockLike, clock


class CallingBlock(Base):
    """A calling block a supervisor saved: weekly (days + times) or one-off (a date + times), team time zone."""

    __tablename__ = "calling_blocks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # weekly | one_off
    days: Mapped[str] = mapped_column(String(32), default="")  # "mon,tue,…" for weekly blocks
    on_date: Mapped[date | None] = mapped_column(Date, index=True)  # the date of a one-off block
    start: Mapped[str] = mapped_column(String(5))  # "HH:MM", local
    end: Mapped[str] = mapped_column(String(5))  # "HH:MM", local; at or before start: past midnight
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def to_block(self) -> Block:
        """The pure Block of this row."""
        return Block(days=tuple(d for d in self.days.split(",") if d), start=clock(self.start), end=clock(self.end),
                     kind=self.kind, on=self.on_date, id=self.id, source="database", note=self.note or "")


def load_blocks(session: Session, configured: Sequence[Block | BlockLike]) -> list[Block]:
    """The blocks in force: the database's weekly set if it has one, else the configured; plus one-off blocks."""
    rows = [row.to_block() for row in session.scalars(select(CallingBlock).order_by(CallingBlock.id))]
    weekly = [b for b in rows if b.kind == WEEKLY]
    one_off = [b for b in rows if b.kind == ONE_OFF]
    return (weekly or [Block.of(b) for b in configured]) + one_off


def add_block(session: Session, block: Block, *, configured: Sequence[Block | BlockLike], by: str | None,
              now: datetime) -> Block:
    """Save a block; the first weekly block saved copies the configured weekly set first, so it adds to it."""
    if block.kind == WEEKLY and not _has_weekly(session):
        for each in configured:
            session.add(_row(Block.of(each), by, now, note="copied from the configuration"))
    row = _row(block, by, now)
    session.add(row)
    session.flush()
    return row.to_block()


def add_one_off(session: Session, on: date, start: str | time, end: str | time, *, by: str | None,
                now: datetime, note: str = "") -> Block:
    """Save a one-off block on `on` (local start and end; end at or before start runs past midnight)."""
    block = Block(days=(DAYS[on.weekday()],), start=clock(start), end=clock(end), kind=ONE_OFF, on=on, note=note)
    return add_block(session, block, configured=(), by=by, now=now)


def replace_weekly(session: Session, blocks: Sequence[Block | BlockLike], *, by: str | None,
                   now: datetime) -> list[Block]:
    """Make `blocks` the weekly set (an empty list brings the configured set back)."""
    session.execute(delete(CallingBlock).where(CallingBlock.kind == WEEKLY))
    rows = [_row(Block.of(b), by, now) for b in blocks]
    session.add_all(rows)
    session.flush()
    return [row.to_block() for row in rows]


def remove_block(session: Session, block_id: int) -> bool:
    """Delete a saved block; False if there is none with that id (configured blocks cannot be deleted here)."""
    row = session.get(CallingBlock, block_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def _has_weekly(session: Session) -> bool:
    return session.scalar(select(CallingBlock.id).where(CallingBlock.kind == WEEKLY).limit(1)) is not None


def _row(block: Block, by: str | None, now: datetime, note: str = "") -> CallingBlock:
    if len(block.note or note) > 200:
        raise BlockError("a block's note is at most 200 characters")
    return CallingBlock(kind=block.kind, days=",".join(block.days) if block.kind == WEEKLY else "",
                        on_date=block.on, start=block.start.strftime("%H:%M"), end=block.end.strftime("%H:%M"),
                        note=block.note or note or None, created_by=by, created_at=now)
