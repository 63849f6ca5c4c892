"""The conference-bridge side of a worker: bridging, recorders, players (pjsua2 thread only)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import pjsua2 as pj

from . import protocol as P
from .call import SoftCall, now
from .recorder import RecordingParts, header_written, merge_stereo

log = logging.getLogger(__name__)

HEADER_WAIT_S = 3.0  # give up waiting for pjmedia to finalise a part after this long


class Mixer:
    """Connects answered calls to the agent line, records them, plays announcements and greetings."""

    def __init__(self, recording_dir: str, emit: Callable[[P.Message], None]) -> None:
        self.recording_dir = recording_dir
        self._emit = emit
        # Recorders and players live exactly as long as the call they belong to.
        self._media: dict[str, tuple[RecordingParts | None, list[pj.AudioMedia]]] = {}
        self._recorders: dict[str, tuple[pj.AudioMediaRecorder, pj.AudioMediaRecorder | None]] = {}
        self._closing: list[tuple[str, RecordingParts, float]] = []
        self._merger = ThreadPoolExecutor(max_workers=1, thread_name_prefix="merge")

    @property
    def busy(self) -> bool:
        """True while a recording is still being finalised."""
        return bool(self._closing)

    def recording(self, ref: str) -> bool:
        """True if call `ref` is being recorded."""
        parts = self._media.get(ref, (None, []))[0]
        return parts is not None

    def recorders(self, ref: str) -> tuple[pj.AudioMediaRecorder | None, pj.AudioMediaRecorder | None]:
        """Call `ref`'s (debtor, agent) recorders while it is recorded, else (None, None)."""
        return self._recorders.get(ref, (None, None))

    def _keep(self, ref: str, item: pj.AudioMedia, parts: RecordingParts | None = None) -> None:
        old_parts, items = self._media.get(ref, (None, []))
        items.append(item)
        self._media[ref] = (parts or old_parts, items)

    def _play(self, ref: str, path: str, to: pj.AudioMedia, *, loop: bool) -> None:
        player = pj.AudioMediaPlayer()
        player.createPlayer(path, 0 if loop else pj.PJMEDIA_FILE_NO_LOOP)
        player.startTransmit(to)
        self._keep(ref, player)

    def connect_debtor(self, call: SoftCall, agent: pj.AudioMedia | None, *, record: bool,
                       announcement: str | None) -> None:
        """Bridge an answered debtor call onto the agent line, announce, and record if asked."""
        assert call.audio is not None
        if agent is not None:
            call.audio.startTransmit(agent)
            agent.startTransmit(call.audio)
        if announcement:
            # GDPR: tell the debtor the call is recorded before anything else is said.
            self._play(call.state.ref, announcement, call.audio, loop=False)
        if record:
            self.start_recording(call, agent)

    def connect_pair(self, a: SoftCall, b: SoftCall) -> None:
        """Join two calls' audio both ways (a forwarded incoming call and our leg to its target)."""
        assert a.audio is not None and b.audio is not None
        a.audio.startTransmit(b.audio)
        b.audio.startTransmit(a.audio)

    def start_recording(self, call: SoftCall, agent: pj.AudioMedia | None) -> bool:
        """Record the debtor (right) and the agent line (left) from now on; False if already recording."""
        ref = call.state.ref
        if call.audio is None or self.recording(ref):
            return False
        parts = RecordingParts.for_call(self.recording_dir, ref)
        debtor_rec = pj.AudioMediaRecorder()
        debtor_rec.createRecorder(str(parts.debtor))
        call.audio.startTransmit(debtor_rec)
        self._keep(ref, debtor_rec, parts)
        agent_rec = None
        if agent is not None:
            agent_rec = pj.AudioMediaRecorder()
            agent_rec.createRecorder(str(parts.agent))
            agent.startTransmit(agent_rec)
            self._keep(ref, agent_rec)
        self._recorders[ref] = (debtor_rec, agent_rec)
        self._emit(P.CallEvent(call=ref, kind="recording_started", at=time.time()))
        return True

    def connect_incoming(self, call: SoftCall, *, greeting: str | None, loop: bool) -> None:
        """Record what an answered incoming call says, and play it the greeting."""
        assert call.audio is not None
        ref = call.state.ref
        parts = RecordingParts.for_call(self.recording_dir, ref)
        heard = pj.AudioMediaRecorder()
        heard.createRecorder(str(parts.debtor))
        call.audio.startTransmit(heard)
        self._keep(ref, heard, parts)
        self._emit(P.CallEvent(call=ref, kind="recording_started", at=time.time()))
        if greeting:
            self._play(ref, greeting, call.audio, loop=loop)

    def finish(self, ref: str) -> None:
        """The call is gone: release its media; its recording is merged once pjmedia has closed it."""
        parts, items = self._media.pop(ref, (None, []))
        self._recorders.pop(ref, None)
        # With mainThreadOnly the recorder is destroyed (and its WAV header
        # written) on a later libHandleEvents turn, not by this clear().
        items.clear()
        if parts is not None:
            self._closing.append((ref, parts, now() + HEADER_WAIT_S))

    def merge_closed(self) -> None:
        """Merge recordings whose parts pjmedia has finished writing (call every loop turn)."""
        t = now()
        for item in list(self._closing):
            ref, parts, give_up = item
            if t < give_up and not all(header_written(p) for p in (parts.agent, parts.debtor)):
                continue
            self._closing.remove(item)
            self._merger.submit(merge_stereo, parts).add_done_callback(self._reporter(ref))

    def _reporter(self, ref: str) -> Callable[[Future], None]:
        def report(done: Future) -> None:
            try:
                path = done.result()
            except Exception:
                log.exception("merging the recording of %s failed", ref)
                path = None
            self._emit(P.CallEvent(call=ref, kind="recording", at=time.time(), recording=str(path) if path else None))

        return report

    def shutdown(self) -> None:
        """Wait for merges in flight."""
        self._merger.shutdown(wait=True)
