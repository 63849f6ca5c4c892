"""Baseline of bench/capacity.py: one bare pjsua2 process bridging an agent phone and a debtor, recorded.

Run as a separate process (the Endpoint is a process singleton):
    python bench/bare_bridge.py PHONE_URI DEBTOR_URI HOLD_S RECORDING_PREFIX CLOCK_RATE
Calls PHONE_URI, then DEBTOR_URI, bridges the two in the conference bridge, records each party to its own
WAV (PREFIX-phone.wav, PREFIX-debtor.wav), prints {"up": true} once both are bridged, hangs up both after
HOLD_S and prints one JSON line {"answered": n, "recordings": [...]}. What a careful person writes with
pjsua2 alone: no Python per packet, the same null sound device and one thread polling as the worker does.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time

import pjsua2 as pj

POLL_MS = 20  # as the worker's engine.EVENT_WAIT_MS


class _Call(pj.Call):
    def __init__(self, acc: pj.Account) -> None:
        super().__init__(acc)
        self.confirmed = False
        self.done = False
        self.media: pj.AudioMedia | None = None

    def onCallState(self, prm: pj.OnCallStateParam) -> None:  # noqa: N802
        state = self.getInfo().state
        if state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.confirmed = True
        elif state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.done = True

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:  # noqa: N802
        info = self.getInfo()  # held: its media vector's items point into it (a temporary's read garbage)
        for i, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                self.media = self.getAudioMedia(i)


def _until(ep: pj.Endpoint, done, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not done() and time.monotonic() < end:
        ep.libHandleEvents(POLL_MS)


def _dialled(ep: pj.Endpoint, acc: pj.Account, uri: str) -> _Call:
    """A call to `uri`, once it is answered with its media up (or has ended)."""
    call = _Call(acc)
    call.makeCall(uri, pj.CallOpParam(True))
    _until(ep, lambda: call.done or (call.confirmed and call.media is not None), 30)
    return call


def _bridged(calls: list[_Call], prefix: str) -> tuple[list[pj.AudioMediaRecorder], list[str]]:
    """The two parties heard by each other and each recorded to a WAV of its own."""
    first, second = calls[0].media, calls[1].media
    first.startTransmit(second)
    second.startTransmit(first)
    recorders, paths = [], []
    for party, media in (("phone", first), ("debtor", second)):
        recorder = pj.AudioMediaRecorder()
        recorder.createRecorder(f"{prefix}-{party}.wav")
        media.startTransmit(recorder)
        recorders.append(recorder)
        paths.append(f"{prefix}-{party}.wav")
    return recorders, paths


def main() -> None:
    phone, debtor, hold, prefix, clock_rate = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], \
        int(sys.argv[5])
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # pjlib prints its start-up lines on stdout
    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.logConfig.consoleLevel = int(os.environ.get("BARE_LOG", "0"))
    cfg.logConfig.level = cfg.logConfig.consoleLevel
    cfg.medConfig.clockRate = clock_rate
    ep.libInit(cfg)
    ep.audDevManager().setNullDev()
    for codec in ep.codecEnum2():  # the same streams as the workers': G.711 A-law only
        ep.codecSetPriority(codec.codecId, 255 if codec.codecId == "PCMA/8000/1" else 0)
    ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, pj.TransportConfig())
    ep.libStart()
    acfg = pj.AccountConfig()
    acfg.idUri = "sip:+31201234567@127.0.0.1"
    acfg.regConfig.registerOnAdd = False
    # Many of these on one box: each its own RTP ports, as [sip] rtp_ports gives the worker (pjsua's 4000 collides).
    acfg.mediaConfig.transportConfig.port = random.randrange(16384, 32000, 2)
    acfg.mediaConfig.transportConfig.portRange = 32767 - acfg.mediaConfig.transportConfig.port
    acc = pj.Account()
    acc.create(acfg)
    calls = [_dialled(ep, acc, uri) for uri in (phone, f"sip:+31612345678@{debtor}")]
    recorders, paths = _bridged(calls, prefix) if all(c.media is not None and not c.done for c in calls) \
        else ([], [])
    print(json.dumps({"up": bool(recorders)}), file=out, flush=True)
    end = time.monotonic() + hold
    _until(ep, lambda: time.monotonic() >= end or any(c.done for c in calls), hold + 5)
    answered = sum(1 for c in calls if c.confirmed)
    # In a comprehension, not a loop: a loop variable would hold a Call past libDestroy (which asserts).
    [c.hangup(pj.CallOpParam(True)) for c in calls if not c.done]
    _until(ep, lambda: all(c.done for c in calls), 10)
    # Every pjsua2 object goes before libDestroy: one destroyed after it asserts in the conference bridge.
    recorders.clear()  # closes the WAVs: their headers are written on destruction
    calls.clear()
    print(json.dumps({"answered": answered, "recordings": paths}), file=out, flush=True)
    acc = None
    ep.libDestroy()


if __name__ == "__main__":
    main()
