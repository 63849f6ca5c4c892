"""The SIP stack of one worker: pjsua2 Endpoint, transport and account."""

from __future__ import annotations

import gc
import logging
import random
from collections.abc import Callable

import pjsua2 as pj

from . import protocol as P
from .pacing import MAX_CALLS

log = logging.getLogger(__name__)

OnRegistration = Callable[[int, str, bool], None]
OnIncoming = Callable[[int, str], None]  # call id, the INVITE as received


class StackError(RuntimeError):
    """The SIP stack could not be brought up (port in use, bad settings)."""


class _Account(pj.Account):
    """An account that reports registration changes as plain values."""

    def __init__(self, on_registration: OnRegistration, on_incoming: OnIncoming) -> None:
        super().__init__()
        self._on_registration = on_registration
        self._on_incoming = on_incoming

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:  # noqa: N802 (pjsua2 name)
        try:
            self._on_incoming(prm.callId, prm.rdata.wholeMsg)
        except Exception:
            log.exception("onIncomingCall failed")

    def onRegState(self, prm: pj.OnRegStateParam) -> None:  # noqa: N802 (pjsua2 name)
        try:
            info = self.getInfo()
            self._on_registration(prm.code, prm.reason, bool(info.regIsActive))
        except Exception:
            log.exception("onRegState failed")


CODEC_PRIORITY = {"PCMA/8000/1": 200, "PCMU/8000/1": 199, "G722/16000/1": 198}


def rtp_start(ports: tuple[int, int] | list[int]) -> tuple[int, int]:
    """Where this worker's RTP ports begin, and how far they may go: a random even start in the range."""
    # pjsua walks up from its start port and gives up after 100 pairs in use. Every worker on a box starting
    # at the same port made the 40th agent's calls fail with 500 (bench/capacity.py); a start of its own
    # keeps each worker clear of the others.
    first, last = int(ports[0]), int(ports[1])
    first += first % 2  # RTP on the even port, RTCP on the odd one above it
    start = first + 2 * random.randrange(max(1, (last - first - 200) // 2))
    return start, last - start


class SipStack:
    """Creates and destroys the process's one Endpoint; call only on the pjsua2 thread."""

    def __init__(self, settings: P.Start, on_registration: OnRegistration, on_incoming: OnIncoming) -> None:
        self.settings = settings
        host, _, port = settings.trunk.rpartition(":")
        if not host or not port.isdigit():
            raise StackError(f"trunk {settings.trunk!r} is not host:port")
        self.trunk_host = host
        self.endpoint = pj.Endpoint()
        self.endpoint.libCreate()
        try:
            self._init(on_registration, on_incoming)
        except pj.Error as exc:
            self.destroy()
            raise StackError(exc.info()) from None

    def _prefer_codecs(self) -> None:
        # G.711 first, as trunks speak it; then G.722 for wideband desk phones. Speex is the wheel's
        # default, but between two of our endpoints it turned a steady tone into a signal that grew to
        # clipping within two seconds (docs/softphone.md), so the codecs below are offered only last.
        for info in self.endpoint.codecEnum2():
            self.endpoint.codecSetPriority(info.codecId, CODEC_PRIORITY.get(info.codecId, min(info.priority, 1)))

    def _init(self, on_registration: OnRegistration, on_incoming: OnIncoming) -> None:
        s = self.settings
        cfg = pj.EpConfig()
        # PJSUA2.md: one thread owns everything; no pjsip worker threads.
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.maxCalls = MAX_CALLS
        cfg.uaConfig.userAgent = f"Belblok/{s.name}"
        cfg.logConfig.level = 3
        cfg.logConfig.consoleLevel = 2
        cfg.medConfig.noVad = True
        cfg.medConfig.clockRate = s.clock_rate
        self.endpoint.libInit(cfg)
        self.endpoint.audDevManager().setNullDev()
        self._prefer_codecs()
        kind = pj.PJSIP_TRANSPORT_TCP if s.transport == "tcp" else pj.PJSIP_TRANSPORT_UDP
        tcfg = pj.TransportConfig()
        tcfg.port = s.local_port
        tcfg.boundAddress = "0.0.0.0"
        self.transport_id = self.endpoint.transportCreate(kind, tcfg)
        self.local_port = self.endpoint.transportGetInfo(self.transport_id).localName.rpartition(":")[2]
        self.local_port = int(self.local_port)
        self.endpoint.libStart()
        acfg = pj.AccountConfig()
        acfg.idUri = f"sip:{s.caller_id or 'belblok'}@{self.trunk_host}"
        if s.username:
            cred = pj.AuthCredInfo("digest", s.realm or "*", s.username, 0, s.password or "")
            acfg.sipConfig.authCreds.append(cred)
        if s.registrar:
            reg_host = s.registrar.rpartition(":")[0] or s.registrar
            acfg.idUri = f"sip:{s.username}@{reg_host}"
            acfg.regConfig.registrarUri = f"sip:{s.registrar}{self.uri_params}"
            acfg.regConfig.timeoutSec = 300
            acfg.regConfig.retryIntervalSec = 30
        else:
            acfg.regConfig.registerOnAdd = False
        acfg.sipConfig.transportId = self.transport_id
        acfg.mediaConfig.transportConfig.port, acfg.mediaConfig.transportConfig.portRange = rtp_start(s.rtp_ports)
        self.account = _Account(on_registration, on_incoming)
        self.account.create(acfg)

    @property
    def uri_params(self) -> str:
        """URI parameters that pin requests to the configured transport."""
        return ";transport=tcp" if self.settings.transport == "tcp" else ""

    def destroy(self) -> None:
        """Tear the stack down (PJSUA2.md: drop references, collect, then libDestroy)."""
        self.account = None  # type: ignore[assignment]
        gc.collect()
        try:
            self.endpoint.libDestroy()
        except pj.Error:
            log.exception("libDestroy failed")
