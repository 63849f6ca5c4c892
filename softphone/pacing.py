"""Call set-up pacing: keep the worker inside pjsip's socket and call limits."""

from __future__ import annotations

from collections import deque

# The wheel's select() ioqueue holds 64 handles and frees a closed socket's
# slot only ~0.5 s later (PJSUA2.md); each call holds an RTP and an RTCP
# socket. Past the limit pjlib asserts and the process aborts, so we queue.
SOCKETS_PER_CALL = 2
SOCKET_BUDGET = 52  # of 64: the SIP transports and a safety margin keep the rest
RELEASE_DELAY_S = 0.6
MAX_CALLS = 4  # the wheel's compiled-in PJSUA_MAX_CALLS


class Pacer:
    """Decides whether one more call may be set up now."""

    def __init__(self, max_calls: int = MAX_CALLS, budget: int = SOCKET_BUDGET) -> None:
        self.max_calls = max_calls
        self.budget = budget
        self.live = 0
        self._released: deque[float] = deque()
        # Spread set-ups evenly over the release window rather than bursting
        # and then stalling: a queued dial waits one gap at most.
        self.min_gap_s = RELEASE_DELAY_S * SOCKETS_PER_CALL / budget
        self._last_start = float("-inf")

    def _lingering(self, now: float) -> int:
        while self._released and now - self._released[0] > RELEASE_DELAY_S:
            self._released.popleft()
        return len(self._released)

    def may_start(self, now: float) -> bool:
        """True when a new call fits both the call slots and the socket budget."""
        if self.live >= self.max_calls or now - self._last_start < self.min_gap_s - 1e-9:
            return False
        sockets = SOCKETS_PER_CALL * (self.live + self._lingering(now) + 1)
        return sockets <= self.budget

    def started(self, now: float | None = None) -> None:
        """A call took a slot (incoming calls too: they hold sockets as well)."""
        self.live += 1
        if now is not None:
            self._last_start = now

    def released(self, now: float) -> None:
        """A call's DISCONNECTED handling completed; its sockets linger a while."""
        self.live = max(0, self.live - 1)
        self._released.append(now)
