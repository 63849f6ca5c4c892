"""Recorded calls: the file, what analysis found, who listened, how it was judged, when it went."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.base import Base
from ..storage.columns import UTCDateTime

RECORDING_STATUSES = ("pending", "processed", "missing", "corrupt", "purged")
BOOKMARK_KINDS = ("promise", "dispute", "objection", "escalation", "other")


class Recording(Base):
    """One call's recording, linked to its attempt, debtor and agent."""

    __tablename__ = "recordings"
    __table_args__ = (Index(None, "status"), Index(None, "agent", "created_at"), Index(None, "debtor_ref"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"), unique=True)
    debtor_ref: Mapped[str | None] = mapped_column(String(64))
    agent: Mapped[str | None] = mapped_column(String(64))
    number: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(String(24))
    caller_id_withheld: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    source_path: Mapped[str] = mapped_column(String(512))  # the WAV as the softphone wrote it
    path: Mapped[str | None] = mapped_column(String(512))  # the transcoded file
    format: Mapped[str | None] = mapped_column(String(8))
    duration_s: Mapped[float | None] = mapped_column(Float)
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    silences: Mapped[list[Any] | None] = mapped_column(JSON)
    talk_agent_s: Mapped[float | None] = mapped_column(Float)
    talk_debtor_s: Mapped[float | None] = mapped_column(Float)
    waveform: Mapped[list[Any] | None] = mapped_column(JSON)
    flags: Mapped[list[Any] | None] = mapped_column(JSON)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Bookmark(Base):
    """A mark the agent set during the call, at an offset into the recording."""

    __tablename__ = "bookmarks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"), index=True)
    offset_s: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(255))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RecordingAccess(Base):
    """Who played or downloaded a recording, and when (every access is logged)."""

    __tablename__ = "recording_access"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), index=True)
    user: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # play | download
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Review(Base):
    """A supervisor's judgement of a recorded call against the handbook's checklist."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), index=True)
    reviewer: Mapped[str] = mapped_column(String(64))
    checklist: Mapped[dict[str, Any]] = mapped_column(JSON)
    score: Mapped[int] = mapped_column(Integer)  # 0..100
    passed: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PurgeLogEntry(Base):
    """A recording removed by the retention rule: what, why and when."""

    __tablename__ = "purge_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(Integer)  # kept after the recording row is gone
    attempt_id: Mapped[int] = mapped_column(Integer)
    path: Mapped[str | None] = mapped_column(String(512))
    sha256: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
