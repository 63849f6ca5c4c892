"""Call review: the handbook's QA checklist, a score, and coaching when a call falls short."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ..dossiers.tasks import Task
from .model import Recording, Review

PASS_SCORE = 70  # below this a review fails and the agent gets a coaching task


@dataclass(frozen=True)
class ChecklistItem:
    """One point a reviewer judges, with its weight in the score."""

    key: str
    weight: int
    nl: str
    en: str


# Handbook §6.7.3 (seed 001) and seed 000 tip 4: what a good collection call does.
CHECKLIST: tuple[ChecklistItem, ...] = (
    ChecklistItem("purpose_stated", 15, "Doel van het gesprek rustig uitgelegd", "Purpose of the call stated calmly"),
    ChecklistItem("asked_complaints", 15, "Gevraagd naar klachten", "Asked whether there are complaints"),
    ChecklistItem("concrete_agreement", 25, "Concrete afspraak met bedrag en datum",
                  "Concrete agreement with amount and date"),
    ChecklistItem("summarised", 15, "Afspraken aan het eind samengevat", "Agreements summarised at the end"),
    ChecklistItem("calm_friendly", 15, "Rustig en vriendelijk, geen dreigende taal",
                  "Calm and friendly, no threatening language"),
    ChecklistItem("no_long_silences", 15, "Geen lange stiltes", "No long silences"),
)


class ReviewError(ValueError):
    """A review that cannot be stored (unknown item, unknown recording)."""


def score(answers: dict[str, bool]) -> int:
    """The weighted share of checklist items met, 0..100."""
    unknown = set(answers) - {item.key for item in CHECKLIST}
    if unknown:
        raise ReviewError(f"unknown checklist items: {', '.join(sorted(unknown))}")
    total = sum(item.weight for item in CHECKLIST)
    return round(100 * sum(item.weight for item in CHECKLIST if answers.get(item.key)) / total)


def suggested(recording: Recording) -> dict[str, bool]:
    """What the analysis already tells a reviewer (they confirm or overrule it)."""
    flags = set(recording.flags or [])
    return {"no_long_silences": "long_silence" not in flags, "concrete_agreement": "promise" in flags}


def record_review(sessions: sessionmaker[Session], recording_id: int, *, reviewer: str, answers: dict[str, bool],
                  comment: str | None, at: datetime) -> Review:
    """Store a review; a failing one creates a coaching task for the call's agent."""
    points = score(answers)
    with sessions.begin() as s:
        rec = s.get(Recording, recording_id)
        if rec is None:
            raise ReviewError(f"no recording {recording_id}")
        review = Review(recording_id=recording_id, reviewer=reviewer, checklist=dict(answers), score=points,
                        passed=points >= PASS_SCORE, comment=comment or None, created_at=at)
        if not review.passed:
            missed = [item.en for item in CHECKLIST if not answers.get(item.key)]
            task = Task(kind="coaching", status="open", agent=rec.agent, title=f"Coaching: call {rec.attempt_id}",
                        detail=f"Score {points}/100. Missed: {'; '.join(missed)}." + (f"\n{comment}" if comment else ""),
                        attempt_id=rec.attempt_id, created_at=at, created_by=reviewer)
            s.add(task)
            s.flush()
            review.task_id = task.id
        s.add(review)
        s.flush()
        s.expunge(review)
        return review


def reviews_of(sessions: sessionmaker[Session], recording_id: int) -> list[Review]:
    """Every review of a recording, newest first."""
    with sessions() as s:
        return list(s.scalars(select(Review).where(Review.recording_id == recording_id).order_by(Review.id.desc())))
