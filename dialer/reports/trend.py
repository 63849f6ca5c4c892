"""A report's figures per day, week or month of its period: what the charts of the reports pages draw."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from . import metrics
from .period import Period, steps


def trend(engine: Engine, period: Period, *, agent: str | None = None, grace_days: int = 0,
          kind: str = "outcomes") -> dict[str, Any]:
    """The team's (or one agent's) outcome or promise row for each step of `period`, oldest first."""
    unit, cuts = steps(period)
    points = []
    with metrics.reading(engine) as connection:
        for cut in cuts:
            if kind == "promises":
                rows = metrics.promises(connection, cut, grace_days, agent)
            else:
                rows = metrics.outcomes(connection, cut, agent)
            points.append({"from": cut.first.isoformat(), "to": cut.last.isoformat(), **rows[-1]})
    return {"unit": unit, "points": points}
