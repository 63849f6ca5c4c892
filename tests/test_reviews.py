"""The QA checklist: scores, and coaching tasks for failed reviews."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from dialer.calllog.journal import CallLog
from dialer.dossiers.tasks import Task
from dialer.recordings.reviews import (
    CHECKLIST,
    PASS_SCORE,
    ReviewError,
    record_review,
    reviews_of,
    score,
)
from dialer.recordings.store import RecordingStore

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
ALL = {item.key: True for item in CHECKLIST}


def test_score_is_the_weighted_share_met() -> None:
    assert score(ALL) == 100
    assert score({}) == 0
    assert score({**ALL, "concrete_agreement": False}) == 75


def test_unknown_items_are_refused() -> None:
    with pytest.raises(ReviewError):
        score({"sang_a_song": True})


def test_a_failed_review_creates_a_coaching_task_for_the_agent(engine, calllog: CallLog) -> None:
    sessions = sessionmaker(engine, expire_on_commit=False)
    attempt = calllog.open_attempt(number="+31612345678", caller_id="+31201234567", caller_id_withheld=False,
                                   at=NOW, agent="anna")
    rid = RecordingStore(sessions).register(attempt, "/nonexistent.wav", at=NOW)
    good = record_review(sessions, rid, reviewer="chef", answers=ALL, comment=None, at=NOW)
    bad = record_review(sessions, rid, reviewer="chef", answers={"purpose_stated": True}, comment="Too short", at=NOW)
    assert good.passed and good.task_id is None
    assert not bad.passed and bad.score < PASS_SCORE
    with sessions() as s:
        task = s.scalars(select(Task)).one()
    assert (task.kind, task.agent, task.id) == ("coaching", "anna", bad.task_id)
    assert "Concrete agreement" in (task.detail or "")
    assert [r.id for r in reviews_of(sessions, rid)] == [bad.id, good.id]
