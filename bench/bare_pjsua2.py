"""Baseline: a bare pjsua2 loop placing short calls, as a careful person would write it.

Run as a separate process (the Endpoint is a process singleton):
    python bench/bare_pjsua2.py TRUNK_HOST:PORT CALLS PAUSE_MS
Prints one JSON line: {"calls", "seconds", "rate", "dial_times": {call_id: epoch}}.
"""

from __future__ import annotations

import json
import os
import sys
import time

import pjsua2 as pj


class _Call(pj.Call):
    def __init__(self, acc: pj.Account) -> None:
        super().__init__(acc)
        self.confirmed = False
        self.done = False

    def onCallState(self, prm: pj.OnCallStateParam) -> None:  # noqa: N802
        state = self.getInfo().state
        if state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.confirmed = True
        elif state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.done = True


def main() -> None:
    trunk, count, pause_ms = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # pjlib prints its start-up lines on stdout
    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.logConfig.consoleLevel = 0
    cfg.logConfig.level = 0
    ep.libInit(cfg)
    ep.audDevManager().setNullDev()
    ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, pj.TransportConfig())
    ep.libStart()
    acfg = pj.AccountConfig()
    acfg.idUri = f"sip:+31201234567@{trunk.split(':')[0]}"
    acfg.regConfig.registerOnAdd = False
    acc = pj.Account()
    acc.create(acfg)
    dial_times: dict[str, float] = {}
    start = time.perf_counter()
    for _ in range(count):
        call = _Call(acc)
        dial_times_key = time.time()
        call.makeCall(f"sip:+31612345678@{trunk}", pj.CallOpParam(True))
        dial_times[call.getInfo().callIdString] = dial_times_key
        while not call.confirmed and not call.done:
            ep.libHandleEvents(5)
        if not call.done:
            call.hangup(pj.CallOpParam(True))
        while not call.done:
            ep.libHandleEvents(5)
        del call
        # PJSUA2.md: without a pause the ioqueue's handle list runs dry and pjlib aborts.
        end_pause = time.perf_counter() + pause_ms / 1000
        while time.perf_counter() < end_pause:
            ep.libHandleEvents(5)
    seconds = time.perf_counter() - start
    print(json.dumps({"calls": count, "seconds": seconds, "rate": count / seconds, "dial_times": dial_times}),
          file=out, flush=True)
    acc = None
    ep.libDestroy()


if __name__ == "__main__":
    main()
