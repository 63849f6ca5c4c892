"""Benchmark: short calls through one Belblok worker beside a bare pjsua2 loop, against SIPp.

    .venv/bin/python bench/calls.py [--calls 500] [--soak 5000]

Measures calls per second (sequential short calls: INVITE, 200, ACK, BYE),
dial-command → INVITE-on-the-wire latency (SIPp's receive timestamp of the
INVITE minus the moment `Worker.dial()` was called), and for the soak the
worker's RSS growth and crashes. Prints a Markdown table and writes JSON to
bench/out/calls.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from softphone.client import Worker, WorkerSettings  # noqa: E402
from softphone.sipp import SippPeer  # noqa: E402

SCENARIO = Path(__file__).with_name("uas_short.xml")
BARE_PAUSE_MS = 20  # the shortest pause at which the bare loop survives (PJSUA2.md, re-measured here)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


def invite_times(peer: SippPeer) -> dict[str, float]:
    """Call-ID → epoch time SIPp received the first INVITE of that call."""
    seen: dict[str, float] = {}
    for msg in peer.received("INVITE"):
        if msg.call_id and msg.call_id not in seen:
            seen[msg.call_id] = msg.timestamp
    return seen


def latencies_ms(dialled: dict[str, float], received: dict[str, float]) -> list[float]:
    """Per call: INVITE on the wire minus dial command, in ms."""
    return [(received[cid] - t) * 1000 for cid, t in dialled.items() if cid in received]


def rss_kb(pid: int) -> int:
    """Resident set size of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def run_bare(calls: int) -> dict:
    """The baseline in its own process (the Endpoint is a process-wide singleton)."""
    with SippPeer(SCENARIO, workdir=None) as peer:
        out = subprocess.run([sys.executable, str(Path(__file__).with_name("bare_pjsua2.py")), peer.uri,
                              str(calls), str(BARE_PAUSE_MS)], capture_output=True, text=True, check=True)
        data = json.loads(out.stdout)
        lat = latencies_ms(data["dial_times"], invite_times(peer))
    return {"calls": calls, "seconds": data["seconds"], "rate": data["rate"], "latency_ms": lat}


async def run_worker(calls: int, *, sample_rss_every: int = 0, interval_s: float = 0.0) -> dict:
    """Sequential short calls through one worker, each awaited to its end, at most one per `interval_s`."""
    with SippPeer(SCENARIO) as peer:
        settings = WorkerSettings(trunk=peer.uri, caller_id="+31201234567", recording_dir=str(ROOT / "bench/out/rec"),
                                  name="bench")
        worker = Worker(settings, restart=False)
        await worker.start()
        dialled: dict[str, float] = {}
        outcomes: dict[str, int] = {}
        rss: list[tuple[int, int]] = []
        pid = worker.pid
        start = time.perf_counter()
        for n in range(calls):
            if interval_s:
                await asyncio.sleep(max(0.0, start + n * interval_s - time.perf_counter()))
            t = time.time()
            handle = await worker.dial("+31612345678", hangup_after_s=0.001, record=False)
            result = await handle.result()
            dialled[result.sip_call_id or f"?{n}"] = t
            outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
            if sample_rss_every and n % sample_rss_every == 0 and worker.pid == pid:
                rss.append((n, rss_kb(pid)))
        seconds = time.perf_counter() - start
        crashed = worker.pid != pid or worker.gone.is_set()
        if not crashed:
            rss.append((calls, rss_kb(pid)))
        await worker.stop()
        lat = latencies_ms(dialled, invite_times(peer))
    return {"calls": calls, "seconds": seconds, "rate": calls / seconds, "latency_ms": lat,
            "outcomes": outcomes, "crashed": crashed, "rss_kb": rss}


def summary(name: str, run: dict) -> str:
    """One Markdown table row."""
    lat = run["latency_ms"]
    return (f"| {name} | {run['calls']} | {run['rate']:.1f} | {statistics.median(lat):.2f} | "
            f"{percentile(lat, 99):.2f} | {max(lat):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--soak", type=int, default=5000, help="soak length (0 to skip)")
    parser.add_argument("--latency-calls", type=int, default=300, help="calls at --latency-rate per second")
    parser.add_argument("--latency-rate", type=float, default=10.0)
    args = parser.parse_args()
    (ROOT / "bench/out").mkdir(parents=True, exist_ok=True)
    bare = run_bare(args.calls)
    ours = asyncio.run(run_worker(args.calls))
    print("| run | calls | calls/s | dial→INVITE p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    print(summary(f"bare pjsua2 loop ({BARE_PAUSE_MS} ms pause)", bare))
    print(summary("Belblok worker", ours))
    paced = asyncio.run(run_worker(args.latency_calls, interval_s=1 / args.latency_rate))
    print(summary(f"Belblok worker at {args.latency_rate:g} calls/s offered", paced))
    print(f"\nrate ratio: {ours['rate'] / bare['rate']:.2f} of bare; outcomes: {ours['outcomes']}")
    result = {"bare": bare, "worker": ours, "worker_paced": paced}
    if args.soak:
        soak = asyncio.run(run_worker(args.soak, sample_rss_every=250))
        rss = soak["rss_kb"]
        # Growth after warm-up: allocator pools fill during the first few hundred calls.
        warm = next((kb for n, kb in rss if n >= 500), rss[0][1] if rss else 0)
        growth_mb = (rss[-1][1] - warm) / 1024 if rss else float("nan")
        print(f"\nsoak: {soak['calls']} calls in {soak['seconds']:.0f} s ({soak['rate']:.1f}/s), "
              f"crashed: {soak['crashed']}, outcomes: {soak['outcomes']}, "
              f"RSS after 500 calls {warm / 1024:.1f} MB → end {rss[-1][1] / 1024:.1f} MB "
              f"(growth {growth_mb:.2f} MB), dial→INVITE p99 {percentile(soak['latency_ms'], 99):.2f} ms")
        result["soak"] = {**soak, "latency_ms": None, "rss_growth_mb": growth_mb}
    for run in result.values():
        if run.get("latency_ms"):
            run["latency_ms"] = {"p50": statistics.median(run["latency_ms"]),
                                 "p99": percentile(run["latency_ms"], 99), "max": max(run["latency_ms"])}
    (ROOT / "bench/out/calls.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
