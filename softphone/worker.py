"""The worker process: reads commands on stdin, prints events on stdout (`python -m softphone.worker`)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from . import protocol as P
from .engine import Engine

log = logging.getLogger("softphone.worker")


class Channel:
    """The protocol's output stream; thread-safe, one JSON line per message."""

    def __init__(self, fd: int) -> None:
        self._out = os.fdopen(fd, "wb", buffering=0)
        self._lock = threading.Lock()

    def send(self, msg: P.Message) -> None:
        """Write one message; a closed coordinator pipe is not our problem to report."""
        data = P.encode(msg)
        with self._lock:
            try:
                self._out.write(data)
            except (BrokenPipeError, ValueError):
                pass


class _LogForwarder(logging.Handler):
    """Sends warnings and errors to the coordinator as Log messages."""

    def __init__(self, channel: Channel) -> None:
        super().__init__(logging.WARNING)
        self._channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._channel.send(P.Log(level=record.levelname.lower(), text=self.format(record)))
        except Exception:
            self.handleError(record)


def _take_stdout() -> int:
    """Keep fd 1 for the protocol and point C-level stdout (pjsip's console log) at stderr."""
    fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return fd


def _read_commands(engine: Engine, channel: Channel) -> None:
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        try:
            engine.submit(P.decode(line))
        except P.ProtocolError as exc:
            channel.send(P.Reply(id=0, ok=False, error=f"protocol error: {exc}"))
    # The coordinator is gone (stdin closed): shut down cleanly.
    engine.submit(P.Shutdown(id=0))


def main() -> int:
    """Run one worker until told to shut down or until stdin closes."""
    # Ctrl-C in a terminal and a service manager's SIGTERM reach the whole process group; the coordinator
    # ends us cleanly (shutdown, or stdin closing when it dies), so neither may cut live calls short here.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.umask(0o077)  # the recordings it writes hold debtors' voices: the service's user only
    channel = Channel(_take_stdout())
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s worker %(levelname)s %(message)s")
    logging.getLogger().addHandler(_LogForwarder(channel))
    engine = Engine(channel.send)
    channel.send(P.Hello(version=P.PROTOCOL_VERSION, pid=os.getpid()))
    threading.Thread(target=_read_commands, args=(engine, channel), name="stdin", daemon=True).start()
    engine.run()  # this thread owns the pjsua2 Endpoint
    return 0


if __name__ == "__main__":
    sys.exit(main())
