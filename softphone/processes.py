"""Child-process plumbing for the test peers: free ports, bound sockets, waiting, stopping."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HOST = "127.0.0.1"


class PeerError(RuntimeError):
    """A SIP peer process failed to start, exited early, or a wait timed out."""


def free_port(kind: str = "udp", host: str = HOST) -> int:
    """A port on host that is free for UDP or TCP right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_media_port(host: str = HOST) -> int:
    """An even UDP port P with P..P+3 free (SIPp binds P for audio and P+2 for video)."""
    for _ in range(100):
        port = free_port("udp", host) & ~1
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(4)]
        try:
            for offset, sock in enumerate(socks):
                sock.bind((host, port + offset))
            return port
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise PeerError("no free media port block")


def bound_sockets(pid: int, group: bool = False) -> set[tuple[str, int]]:
    """("udp"|"tcp", port) of the UDP and listening TCP sockets of pid or its process group."""
    pids = {pid}
    if group:
        pids |= {int(p) for p in os.listdir("/proc") if p.isdigit() and _pgid(p) == pid}
    inodes = set()
    for each in pids:
        try:
            links = [os.readlink(f"/proc/{each}/fd/{fd}") for fd in os.listdir(f"/proc/{each}/fd")]
        except OSError:
            continue
        inodes.update(link[8:-1] for link in links if link.startswith("socket:["))
    found = set()
    for kind, table in (("udp", "udp"), ("udp", "udp6"), ("tcp", "tcp"), ("tcp", "tcp6")):
        path = Path(f"/proc/net/{table}")
        for row in path.read_text().splitlines()[1:] if path.exists() else []:
            cols = row.split()  # a bound UDP socket shows state 07; TCP must be LISTEN (0A)
            if cols[9] in inodes and (kind == "udp" or cols[3] == "0A"):
                found.add((kind, int(cols[1].rsplit(":", 1)[1], 16)))
    return found


def _pgid(pid: str) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[2])
    except (OSError, IndexError, ValueError):
        return -1


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, poll: float = 0.005) -> None:
    """Poll predicate until it is true; raise PeerError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise PeerError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(poll)


def stop_process(proc: subprocess.Popen[bytes], signals: Sequence[tuple[int, float]]) -> int:
    """Send each (signal, grace seconds) until proc exits, then SIGKILL; reap it."""
    for sig, grace in signals:
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                pass
    if proc.poll() is None:
        proc.kill()
    return proc.wait()
