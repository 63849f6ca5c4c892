"""Passwords: argon2id hashes, and their checks run with bounded concurrency so a flood cannot eat every CPU."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

T = TypeVar("T")

_hasher = PasswordHasher()
# Checked when there is no usable hash (unknown user, service user), so those cost as much time as a wrong password.
DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def is_hash(stored: str) -> bool:
    """True for an argon2 hash (a service user's `!` is none)."""
    return stored.startswith("$argon2")


def make_hash(password: str) -> str:
    """An argon2id hash of a non-empty password."""
    return _hasher.hash(password)


def check(stored: str, password: str) -> tuple[bool, str | None]:
    """Whether `password` matches `stored`, and a fresh hash when the stored one uses outdated parameters."""
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False, None
    return True, _hasher.hash(password) if _hasher.check_needs_rehash(stored) else None


class GateBusy(RuntimeError):
    """More password checks are waiting than the gate queues: refuse this one (try again shortly)."""


class HashGate:
    """Runs argon2 work on `workers` threads of its own, with at most `queue` more waiting; beyond that it refuses.

    argon2 costs ~50 ms of CPU and memory per check: without a bound, a flood of logins would take every core
    and the shared thread pool the database work of the panel runs on.
    """

    def __init__(self, workers: int = 2, queue: int = 16) -> None:
        self.workers = workers
        self.queue = queue
        self._pending = 0  # running + waiting; only touched on the event loop
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")

    @property
    def pending(self) -> int:
        """Checks running or waiting now."""
        return self._pending

    async def run(self, work: Callable[..., T], *args: object) -> T:
        """Run `work(*args)` on the gate's threads; GateBusy when workers and queue are full."""
        if self._pending >= self.workers + self.queue:
            raise GateBusy("too many password checks at once")
        self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)
        finally:
            self._pending -= 1

    def close(self) -> None:
        """Stop the gate's threads (after the running checks)."""
        self._executor.shutdown(wait=False)
