"""What a worker needs to know: the trunk, the account, and how to treat incoming calls."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorkerSettings:
    """What a worker needs to know to reach the trunk (mirrors protocol.Start)."""

    trunk: str
    caller_id: str
    transport: str = "udp"
    local_port: int = 0
    username: str | None = None
    password: str | None = None
    registrar: str | None = None
    realm: str = "*"
    no_response_timeout_s: float = 4.0
    recording_dir: str = "var/recordings"
    name: str = "worker"
    incoming: str = "reject"  # reject | answer | ask (see protocol.Start)
    greeting: str | None = None
    greeting_loop: bool = False
    ask_timeout_s: float = 5.0
    clock_rate: int = 16000
    rtp_ports: tuple[int, int] = (16384, 32767)

    def uri_for(self, user: str) -> str:
        """Request-URI for `user` (an E.164 number) at the trunk."""
        params = ";transport=tcp" if self.transport == "tcp" else ""
        return f"sip:{user}@{self.trunk}{params}"
