"""The RTP figures of one call's audio stream, copied out of pjsua2 while the stream still exists."""

from __future__ import annotations

import pjsua2 as pj


def stream_figures(call: pj.Call, index: int) -> dict[str, float]:
    """What this side received and sent on stream `index`: packets, loss, late, jitter (pjsua2 thread only)."""
    stat = call.getStreamStat(index)
    rx, tx = stat.rtcp.rxStat, stat.rtcp.txStat
    return {
        "rx_packets": int(rx.pkt),
        "rx_lost": int(rx.loss),
        "rx_late": int(rx.discard),  # arrived too late for the jitter buffer to play them
        # Frames the jitter buffer dropped to shorten itself after a burst (progressive discard).
        "rx_jbuf_dropped": int(stat.jbuf.discard),
        "rx_duplicate": int(rx.dup),
        "rx_reordered": int(rx.reorder),
        "rx_jitter_ms_mean": round(rx.jitterUsec.mean / 1000, 2),
        "rx_jitter_ms_max": round(rx.jitterUsec.max / 1000, 2),
        "rx_empty_frames": int(stat.jbuf.empty),  # the bridge asked for audio and the buffer had none
        "tx_packets": int(tx.pkt),
    }
