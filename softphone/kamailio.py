"""A real SIP registrar and proxy for tests: Kamailio with digest auth, as a child process."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from softphone.processes import (
    HOST,
    PeerError,
    bound_sockets,
    free_port,
    stop_process,
    wait_until,
)

KAMAILIO_BINARY = "/usr/sbin/kamailio"

# One user, a fixed password, no database (usrloc in memory). REGISTER: 401 challenge, then
# save(). INVITE: 407 challenge, then record-routed and relayed to the downstream peer (or to
# a registered contact). In-dialog requests follow the Route set (RFC 3261 16.12).
CONFIG_TEMPLATE = """#!KAMAILIO
debug={debug}
log_stderror=yes
log_prefix="{{$mt $rm $ci}} "
children=2
tcp_children=2
auto_aliases=no
dns=no
rev_dns=no
dns_try_ipv6=no
listen=udp:{host}:{port}
listen=tcp:{host}:{port}

loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"

modparam("usrloc", "db_mode", 0)
modparam("tm", "fr_timer", 10000)
modparam("tm", "fr_inv_timer", 120000)

request_route {{
    xlog("L_NOTICE", "request $rm $ru from $si:$sp/$pr user=$fU\\n");
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (has_totag()) {{
        if (loose_route()) {{
            t_relay();
            exit;
        }}
        if (is_method("ACK") && t_check_trans()) {{
            t_relay();
        }} else if (!is_method("ACK")) {{
            sl_send_reply("404", "Not Here");
        }}
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{
            t_relay();
        }}
        exit;
    }}
    if (is_method("ACK")) {{
        exit;
    }}
    if (t_check_trans()) {{
        exit;
    }}
    if (is_method("REGISTER")) {{
        if (!pv_auth_check("$fd", "{password}", "0", "1")) {{
            xlog("L_NOTICE", "REGISTER auth failed for $fU\\n");
            auth_challenge("$fd", "0");
            exit;
        }}
        if ($au != "{user}") {{
            sl_send_reply("403", "Forbidden");
            exit;
        }}
        if (!save("location")) {{
            sl_reply_error();
        }}
        exit;
    }}
    if (is_method("OPTIONS") && uri == myself && $rU == $null) {{
        sl_send_reply("200", "OK");
        exit;
    }}
    # checks "0": a withheld caller ID (From: anonymous) still authenticates as the user
    if (!pv_auth_check("$fd", "{password}", "0", "0")) {{
        auth_challenge("$fd", "0");
        exit;
    }}
    if ($au != "{user}") {{
        sl_send_reply("403", "Forbidden");
        exit;
    }}
    consume_credentials();
    if (is_method("INVITE")) {{
        record_route();
    }}
    {routing}
    if (!t_relay()) {{
        sl_reply_error();
    }}
    exit;
}}
"""

DOWNSTREAM_ROUTING = '$du = "sip:{downstream};transport={transport}";'
LOCATION_ROUTING = """if (!lookup("location")) {
        sl_send_reply("404", "Not Found");
        exit;
    }"""


class KamailioRegistrar:
    """Kamailio on 127.0.0.1 (UDP and TCP, one port) as registrar and authenticating proxy."""

    def __init__(
        self,
        user: str = "alice",
        password: str = "secret",
        *,
        downstream: str | None = None,
        downstream_transport: str = "udp",
        port: int | None = None,
        debug: int = 2,
        workdir: Path | None = None,
    ) -> None:
        self.user = user
        self.password = password
        self.downstream = downstream
        self.downstream_transport = downstream_transport
        self.host = HOST
        self._fixed_port = port
        self.port = port or 0
        self.debug = debug
        self._own_dir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="kamailio-"))
        self.config_file = self.workdir / "kamailio.cfg"
        self.log_file = self.workdir / "kamailio.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        """host:port Kamailio listens on (UDP and TCP)."""
        return f"{self.host}:{self.port}"

    def config(self) -> str:
        """The kamailio.cfg text for the current port."""
        for value in (self.user, self.password):
            if '"' in value or "\\" in value:
                raise ValueError("user and password must not contain quotes or backslashes")
        routing = (
            DOWNSTREAM_ROUTING.format(downstream=self.downstream, transport=self.downstream_transport)
            if self.downstream
            else LOCATION_ROUTING
        )
        return CONFIG_TEMPLATE.format(
            debug=self.debug, host=self.host, port=self.port, user=self.user, password=self.password, routing=routing
        )

    def command(self) -> list[str]:
        """The kamailio command line: foreground, log to stderr, runtime dir in workdir."""
        cfg, run = str(self.config_file), str(self.workdir)
        return [KAMAILIO_BINARY, "-DD", "-E", "-f", cfg, "-Y", run, "-m", "64", "-M", "8"]

    def start(self, timeout: float = 15.0) -> KamailioRegistrar:
        """Write the config, start Kamailio and wait until UDP and TCP are bound."""
        if not Path(KAMAILIO_BINARY).exists():
            raise PeerError("kamailio not installed (Debian package kamailio)")
        for attempt in range(3):
            self.port = self._fixed_port or _free_udp_tcp_port()
            self.config_file.write_text(self.config())
            with self.log_file.open("wb") as log:
                self.proc = subprocess.Popen(
                    self.command(),
                    cwd=self.workdir,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: children go with it
                )
            want = {("udp", self.port), ("tcp", self.port)}
            try:
                wait_until(lambda: self._ready(want), timeout, f"kamailio on {self.uri}")
                return self
            except PeerError:
                self.stop()
                tail = "\n".join(self.log_text().splitlines()[-30:])
                if "bind" not in tail.lower() or attempt == 2 or self._fixed_port:
                    message = f"kamailio failed to start ({' '.join(self.command())}):\n{tail}"
                    self.cleanup()
                    raise PeerError(message) from None
        raise AssertionError("unreachable")

    def _ready(self, want: set[tuple[str, int]]) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise PeerError(f"kamailio exited with {self.proc.returncode}")
        # the main process closes the sockets: UDP receivers and tcp_main hold them
        return want <= bound_sockets(self.proc.pid, group=True)

    def stop(self) -> int | None:
        """Stop Kamailio (SIGTERM, then SIGKILL to its process group) and return its status."""
        if self.proc is None:
            return None
        status = stop_process(self.proc, [(signal.SIGTERM, 5.0)])
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # children left behind by a killed main process
        except ProcessLookupError:
            pass
        return status

    def cleanup(self) -> None:
        """Stop Kamailio and remove its temporary directory if this object created it."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def log_text(self) -> str:
        """Everything Kamailio logged (stderr and stdout)."""
        try:
            return self.log_file.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def __enter__(self) -> KamailioRegistrar:
        return self.start() if self.proc is None else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.cleanup()


def _free_udp_tcp_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(100):
        port = free_port("udp")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            try:
                tcp.bind((HOST, port))
            except OSError:
                continue
            return port
    raise PeerError("no port free for both UDP and TCP")
