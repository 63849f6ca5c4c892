"""The block clock: APScheduler date jobs that announce each calling block opening and closing, then re-arm."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger

from ..blocks.block import Block, BlockLike, Transition, next_transitions
from ..core.clock import utcnow
from ..live.events import EventHub, LiveEvent

log = logging.getLogger(__name__)

EVENTS = ("open", "close")
BlockSource = Callable[[], Sequence[Block | BlockLike]]
_TICK = timedelta(microseconds=1)


class BlockClock:
    """Two date jobs, one for the next opening and one for the next closing; each re-arms itself when it fires."""

    def __init__(self, scheduler: BaseScheduler, hub: EventHub, blocks: BlockSource | Sequence[Block | BlockLike],
                 *, tz: str, country: str | None, clock: Callable[[], datetime] = utcnow,
                 prefix: str = "belblok-blocks") -> None:
        self.scheduler, self.hub, self.tz, self.country, self.clock = scheduler, hub, tz, country, clock
        self.blocks: BlockSource = blocks if callable(blocks) else (lambda: list(blocks))  # type: ignore[arg-type]
        self.job_ids = {event: f"{prefix}-{event}" for event in EVENTS}
        self.armed: dict[str, datetime | None] = dict.fromkeys(EVENTS)

    def arm(self, after: datetime | None = None) -> dict[str, datetime | None]:
        """(Re)schedule both jobs after `after` (default: now), e.g. when a supervisor edited the blocks."""
        moment = after or self.clock()
        for event in EVENTS:
            self._arm(event, moment)
        return dict(self.armed)

    def stop(self) -> None:
        """Remove the jobs."""
        for event, job_id in self.job_ids.items():
            try:
                self.scheduler.remove_job(job_id)
            except JobLookupError:
                pass
            self.armed[event] = None

    async def fire(self, event: str, at: datetime) -> list[Transition]:
        """Announce what opens (or closes) at `at`, then arm the next one (the job's function)."""
        try:
            found = [t for t in next_transitions(self.blocks(), at - _TICK, self.tz, self.country, event)
                     if t.at == at]
            for transition in found:
                self.hub.publish(LiveEvent(agent="*", kind="block", at=transition.at, detail=transition.to_json()))
            return found
        except Exception:  # an APScheduler job: log it; the re-arm below still happens
            log.exception("announcing block %s at %s failed", event, at.isoformat())
            return []
        finally:
            self._arm(event, max(at, self.clock()))

    def _arm(self, event: str, after: datetime) -> None:
        try:
            coming = next_transitions(self.blocks(), after, self.tz, self.country, event)
        except Exception:
            log.exception("computing the next block %s failed", event)
            coming = []
        at = coming[0].at if coming else None
        self.armed[event] = at
        job_id = self.job_ids[event]
        if at is None:
            try:
                self.scheduler.remove_job(job_id)
            except JobLookupError:
                pass
            return
        self.scheduler.add_job(self.fire, DateTrigger(run_date=at), args=[event, at], id=job_id,
                               replace_existing=True, misfire_grace_time=None, coalesce=True)


def schedule_blocks(scheduler: BaseScheduler, hub: EventHub, blocks: BlockSource | Sequence[Block | BlockLike], *,
                    tz: str, country: str | None, clock: Callable[[], datetime] = utcnow) -> BlockClock:
    """Add the date jobs for the next block opening and closing to `scheduler`; they re-arm themselves."""
    block_clock = BlockClock(scheduler, hub, blocks, tz=tz, country=country, clock=clock)
    block_clock.arm()
    return block_clock

