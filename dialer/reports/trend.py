"""A report's figures per day, week or month of its period: what the charts of the reports pages draw."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from ..core.clock import utcnow
from . import figures, metrics, tally
from .period import Period, steps


def trend(engine: Engine, period: Period, *, agent: str | None = None, grace_days: int = 0,
          kind: str = "outcomes", now: datetime | None = None) -> dict[str, Any]:
    """The team's (or one agent's) outcome or promise row for each step of `period`, oldest first."""
    unit, cuts = steps(period)
    points = []
    if kind == "promises":
        with metrics.reading(engine) as connection:
            for cut, rows in zip(cuts, metrics.promise_steps(connection, cuts, grace_days, agent), strict=True):
                points.append({"from": cut.first.isoformat(), "to": cut.last.isoformat(), **rows[-1]})
        return {"unit": unit, "points": points}
    # The day book's days, read once and added up per step.
    days = figures.days(engine, period, utcnow() if now is None else now)
    for cut in cuts:
        step: tally.Figures = {}
        for day, values in days.items():
            if cut.first <= day <= cut.last:
                tally.add(step, values, agent)
        points.append({"from": cut.first.isoformat(), "to": cut.last.isoformat(),
                       **metrics.outcomes(step, agent)[-1]})
    return {"unit": unit, "points": points}
