"""One report run: the kind, the period and agent, read on one connection."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from ..settings.config import Config
from . import figures, metrics
from .period import Period, PeriodError


def report(engine: Engine, cfg: Config, kind: str, period: Period, *, now: datetime,
           agent: str | None = None) -> list[dict[str, Any]]:
    """The rows of report `kind` (agents, outcomes, promises, ageing) over `period`."""
    if kind not in metrics.KINDS:
        raise PeriodError(f"unknown report {kind!r}: one of {', '.join(metrics.KINDS)}")
    if kind == "outcomes":
        return metrics.outcomes(figures.total(engine, period, now, agent), agent)
    if kind == "agents":
        return metrics.agents(figures.total(engine, period, now, agent))
    with metrics.reading(engine) as connection:
        if kind == "promises":
            return metrics.promises(connection, period, cfg.reports.grace_days, agent)
        return metrics.ageing(connection, period)
