"""Placing one outgoing INVITE: the call's parameters, headers and deadlines (pjsua2 thread only)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pjsua2 as pj

from .call import CallState, SoftCall, now


def call_params(headers: Iterable[tuple[str, str]], from_uri: str | None = None) -> pj.CallOpParam:
    """CallOpParam with extra headers and, if given, the From URI to present."""
    prm = pj.CallOpParam(True)
    if from_uri:
        prm.txOption.localUri = from_uri
    for name, value in headers:
        header = pj.SipHeader()
        header.hName, header.hValue = name, value
        prm.txOption.headers.append(header)
    return prm


def start_call(account: pj.Account, state: CallState, on_change: Callable[[SoftCall, str], None],
               prm: pj.CallOpParam, *, no_response_s: float, ring_s: float) -> tuple[SoftCall, float, str | None]:
    """Send the INVITE for `state.uri`: the call, when it started, and why nothing left the machine (or None)."""
    call = SoftCall(account, state, on_change)
    started = now()
    state.deadlines.no_response = started + no_response_s
    state.deadlines.ring = started + ring_s
    try:
        call.makeCall(state.uri, prm)
    except pj.Error as exc:
        state.disconnected = True
        return call, started, exc.info()  # the caller reaps the object on a later turn, never inline
    return call, started, None
