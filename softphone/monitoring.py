"""Supervisor legs on a live call: who hears whom to listen, whisper or barge (pjsua2 thread only)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pjsua2 as pj

from . import protocol as P
from .call import SoftCall
from .mixer import Mixer

log = logging.getLogger(__name__)

Edge = tuple[str, str]  # (source, sink) between the nodes named in `Monitoring._nodes`

_LISTEN: frozenset[Edge] = frozenset({("debtor", "supervisor"), ("agent", "supervisor")})
_WHISPER = _LISTEN | {("supervisor", "agent")}
# Barging puts the supervisor's voice in the middle of the stereo recording (both channels): the
# debtor heard it, so the record of the conversation must hold it. A whisper is coaching the debtor
# never heard, so it is kept out of the recording.
_BARGE = _WHISPER | {("supervisor", "debtor"), ("supervisor", "agent_rec"), ("supervisor", "debtor_rec")}
EDGES: dict[str, frozenset[Edge]] = {"listen": _LISTEN, "whisper": _WHISPER, "barge": frozenset(_BARGE)}


def leg_ref(call: str) -> str:
    """The supervisor leg's ref for monitored call `call`."""
    return f"{call}.monitor"


@dataclass
class Leg:
    """One supervisor's phone joined to one call, in a mode, with the connections actually made."""

    ref: str
    target: str
    mode: str
    applied: set[Edge] = field(default_factory=set)


class Monitoring:
    """Places supervisor legs and keeps the conference bridge's connections equal to each leg's mode."""

    def __init__(self, calls: dict[str, SoftCall], mixer: Mixer,
                 agent_audio: Callable[[], pj.AudioMedia | None]) -> None:
        self._calls = calls
        self._mixer = mixer
        self._agent_audio = agent_audio
        self._legs: dict[str, Leg] = {}

    def request(self, cmd: P.Monitor, place: Callable[[P.Monitor], None]) -> dict:
        """Join (placing the leg through `place`) or change the mode of the supervisor on `cmd.call`."""
        if cmd.mode not in EDGES:
            raise ValueError(f"unknown monitor mode {cmd.mode!r} (expected one of {', '.join(P.MONITOR_MODES)})")
        target = self._calls.get(cmd.call)
        s = target.state if target is not None else None
        if s is None or s.disconnected or not s.answered or not s.bridge or s.role not in ("debtor", "incoming"):
            raise KeyError(f"no live bridged call {cmd.call!r}")
        ref = leg_ref(cmd.call)
        leg = self._legs.get(ref)
        if leg is not None:
            leg.mode = cmd.mode
            self.apply(leg)
            return {"call": ref, "mode": cmd.mode, "joined": False}
        self._legs[ref] = Leg(ref, cmd.call, cmd.mode)
        place(replace(cmd, call=ref))
        return {"call": ref, "mode": cmd.mode, "joined": True}

    def target_of(self, ref: str) -> str | None:
        """The call a supervisor leg `ref` monitors, or None if `ref` is no such leg."""
        leg = self._legs.get(ref)
        return leg.target if leg is not None else None

    def legs_on(self, target: str) -> list[str]:
        """The supervisor legs joined to call `target`."""
        return [leg.ref for leg in self._legs.values() if leg.target == target]

    def media(self, call: SoftCall) -> None:
        """The supervisor's audio is up: connect it as its mode says."""
        leg = self._legs.get(call.state.ref)
        if leg is not None:
            self.apply(leg)

    def refresh(self, target: str) -> None:
        """Something on `target` changed (e.g. it started recording): re-make the legs' connections."""
        for ref in self.legs_on(target):
            self.apply(self._legs[ref])

    def forget(self, ref: str) -> None:
        """Call `ref` is gone: drop its leg (the bridge removed the ports' connections itself)."""
        self._legs.pop(ref, None)

    def _nodes(self, leg: Leg) -> dict[str, pj.AudioMedia | None]:
        def live(ref: str) -> pj.AudioMedia | None:
            call = self._calls.get(ref)
            return call.audio if call is not None and not call.state.disconnected else None

        debtor_rec, agent_rec = self._mixer.recorders(leg.target)
        return {"supervisor": live(leg.ref), "debtor": live(leg.target), "agent": self._agent_audio(),
                "debtor_rec": debtor_rec, "agent_rec": agent_rec}

    def apply(self, leg: Leg) -> None:
        """Make the bridge's connections for `leg` equal to its mode's, as far as the parties are up."""
        nodes = self._nodes(leg)
        wanted = {(a, b) for a, b in EDGES[leg.mode] if nodes[a] is not None and nodes[b] is not None}
        for a, b in leg.applied - wanted:
            source, sink = nodes[a], nodes[b]
            if source is None or sink is None:
                continue  # that party is gone: the bridge dropped its connections with it
            try:
                source.stopTransmit(sink)
            except pj.Error as exc:
                log.warning("monitor %s: disconnecting %s from %s failed: %s", leg.ref, a, b, exc.info())
        for a, b in wanted - leg.applied:
            source, sink = nodes[a], nodes[b]
            assert source is not None and sink is not None
            source.startTransmit(sink)
        leg.applied = wanted
        log.info("monitor %s on %s: %s (%s)", leg.ref, leg.target, leg.mode, ", ".join(sorted(map("→".join, wanted))))
