"""The outcome vocabulary: every final call result mapped to one small word."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Outcome(str, Enum):
    """What became of one call attempt, as the dialer reasons about it."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    DECLINED = "declined"
    NOT_FOUND = "not_found"
    UNAVAILABLE = "unavailable"
    ANONYMITY_REJECTED = "anonymity_rejected"
    NETWORK_ERROR = "network_error"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    FAILED = "failed"


class CodeSource(str, Enum):
    """Whether a SIP final code was received from the peer or made up by our own stack."""

    WIRE = "wire"
    LOCAL = "local"


class HangupCause(str, Enum):
    """Why our side ended a call, if it did."""

    NONE = "none"
    RING_TIMEOUT = "ring_timeout"
    NO_RESPONSE = "no_response"
    AGENT = "agent"
    HANGUP_AFTER = "hangup_after"
    SHUTDOWN = "shutdown"


@dataclass(frozen=True)
class CallFacts:
    """The SIP facts of a finished call, as the worker observed them."""

    sip_code: int | None
    code_source: CodeSource
    answered: bool = False
    got_response: bool = False  # any response at all, even 100 Trying
    rang: bool = False  # 180/183 received
    hangup_cause: HangupCause = HangupCause.NONE


_WIRE_CODES: dict[int, Outcome] = {
    486: Outcome.BUSY,
    600: Outcome.BUSY,
    603: Outcome.DECLINED,
    404: Outcome.NOT_FOUND,
    410: Outcome.NOT_FOUND,
    484: Outcome.NOT_FOUND,
    604: Outcome.NOT_FOUND,
    480: Outcome.UNAVAILABLE,
    502: Outcome.UNAVAILABLE,
    503: Outcome.UNAVAILABLE,
    504: Outcome.UNAVAILABLE,
    433: Outcome.ANONYMITY_REJECTED,
}


def classify(facts: CallFacts) -> Outcome:
    """Map a finished call's SIP facts to the outcome vocabulary."""
    if facts.answered:
        return Outcome.ANSWERED
    if not facts.got_response:
        # Not even a 100 Trying: nobody heard the INVITE. A debtor who lets it
        # ring produces 180s; silence is the network's fault.
        if facts.hangup_cause is HangupCause.AGENT:
            return Outcome.CANCELLED
        return Outcome.NETWORK_ERROR
    if facts.hangup_cause is HangupCause.AGENT:
        return Outcome.CANCELLED
    if facts.hangup_cause is HangupCause.RING_TIMEOUT:
        # Trying but never alerting: the far end took the call and could not ring anyone.
        return Outcome.NO_ANSWER if facts.rang else Outcome.UNAVAILABLE
    if facts.hangup_cause is HangupCause.NO_RESPONSE:
        return Outcome.NETWORK_ERROR
    code = facts.sip_code
    if code is None:
        return Outcome.NETWORK_ERROR
    if facts.code_source is CodeSource.LOCAL:
        # pjsip makes up 408 (timer B) and 503 (transport error) itself.
        return Outcome.NETWORK_ERROR
    if code in _WIRE_CODES:
        return _WIRE_CODES[code]
    if code == 487:
        # Terminated by someone else than us (e.g. a forking proxy).
        return Outcome.NO_ANSWER if facts.rang else Outcome.FAILED
    if code == 408:
        # A far-end timeout after ringing is a debtor who did not pick up.
        return Outcome.NO_ANSWER if facts.rang else Outcome.UNAVAILABLE
    if 500 <= code < 600:
        return Outcome.UNAVAILABLE
    return Outcome.FAILED
