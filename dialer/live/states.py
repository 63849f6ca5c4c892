"""Agent states on the floor, and how the call and session events move an agent between them (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

STATES = ("offline", "ready", "dialing", "ringing", "talking", "wrap_up", "paused")
CHOSEN = ("ready", "paused", "offline")  # the states an agent (or the panel) sets; the others follow the calls
ON_A_CALL = frozenset({"dialing", "ringing", "talking"})


class StateRefused(ValueError):
    """A state change that cannot be made; the message says why, `reason` names the rule (for translated texts)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason  # not_chosen | on_call | no_code | unknown_code | code_without_pause


@dataclass(frozen=True)
class AgentState:
    """Where one agent is now: the state, since when, why (pause code) and on which debtor and call."""

    agent: str
    state: str
    since: datetime
    code: str | None = None
    debtor_ref: str | None = None
    attempt_id: int | None = None

    def to_json(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"agent": self.agent, "state": self.state, "since": self.since.isoformat(), "code": self.code,
                "debtor_ref": self.debtor_ref, "attempt_id": self.attempt_id}


def chosen(current: AgentState | None, state: str, code: str | None, known_codes: frozenset[str]) -> str | None:
    """Check a state the agent asks for; the pause code to store (None unless paused), or StateRefused."""
    if state not in CHOSEN:
        raise StateRefused(f"state must be one of {', '.join(CHOSEN)}, not {state!r}"
                           + (" (that state follows the call)" if state in STATES else ""), "not_chosen")
    if current is not None and current.state in ON_A_CALL and state != "offline":
        # A pause during a call would misreport talk time, and the call cannot wait: the agent pauses from the
        # wrap-up, which stops the dialling session before power mode dials the next debtor.
        raise StateRefused(f"{current.agent} is on a call ({current.state}): the state follows the call until it ends",
                           "on_call")
    if state == "paused":
        if not code:
            raise StateRefused("a pause needs a pause code: " + ", ".join(sorted(known_codes)), "no_code")
        if code not in known_codes:
            raise StateRefused(f"unknown pause code {code!r}: use one of {', '.join(sorted(known_codes))}",
                               "unknown_code")
        return code
    if code:
        raise StateRefused(f"a pause code belongs to a pause, not to {state!r}", "code_without_pause")
    return None


def after_event(current: AgentState | None, kind: str, detail: dict[str, object]) -> str | None:
    """The state a live event moves the agent to, or None if it changes nothing."""
    state = current.state if current is not None else "offline"
    if kind in ("dialing", "ringing"):
        return kind
    if kind == "answered":
        return "talking"
    if kind == "ended":
        # A conversation is wrapped up; a call nobody answered leaves the agent as they were before it.
        return "wrap_up" if state == "talking" else ("ready" if state in ON_A_CALL else None)
    if kind == "wrapped_up":
        return None if state == "paused" else "ready"
    if kind == "session":
        event = detail.get("event")
        if event == "started" and state in ("offline", "ready"):
            return "ready"
        if event == "wrap_up" and state != "paused":
            return "wrap_up"
        if event == "paused" and state not in ON_A_CALL:
            return "paused"
        if event == "resumed" and state == "paused":
            return "ready"
    return None
