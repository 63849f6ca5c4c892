"""What one pass of the call-back scheduler did: rows acted on, live events to publish, e-mails to send."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from ..dossiers.parties import Debtor
from ..live.events import LiveEvent


@dataclass(frozen=True)
class Alert:
    """An e-mail to the supervisors."""

    to: tuple[str, ...]
    subject: str
    body: str


@dataclass
class Outcome:
    """What one step did: the rows it acted on, the events to publish, the e-mails to send."""

    ids: list[int] = field(default_factory=list)
    events: list[LiveEvent] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


@dataclass
class Fired:
    """What one pass did: call-back ids per action, the live events to publish and the e-mails to send."""

    reminded: list[int] = field(default_factory=list)
    due: list[int] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    events: list[LiveEvent] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)

    def add(self, action: str, outcome: Outcome) -> None:
        """Take in the result of one step."""
        getattr(self, action).extend(outcome.ids)
        self.events.extend(outcome.events)
        self.alerts.extend(outcome.alerts)


def debtor_names(session: Session, rows: Sequence[Row[Any]]) -> dict[int, tuple[str, str]]:
    """Reference and name of the debtors of the rows a step acted on (for its events)."""
    ids = {row.debtor_id for row in rows}
    if not ids:
        return {}
    return {i: (ref, name) for i, ref, name in session.execute(
        select(Debtor.id, Debtor.ref, Debtor.name).where(Debtor.id.in_(ids)))}
