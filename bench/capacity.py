"""Benchmark: how many agents one box carries, each on their own line, every call bridged and recorded.

    .venv/bin/python bench/capacity.py [--agents 10,20,30,40,50] [--hold 60] [--clock-rate 16000]
                                        [--json bench/out/capacity.json]

For each N: N Belblok workers (one per agent, as `belblok serve` runs them), each with its agent line up to a
simulated agent phone and a debtor call, bridged in the worker's conference bridge and recorded, held for
`--hold` seconds, then hung up and the recording written. The agent phones and the debtor lines are softphone
workers answering with a known tone (agent 440 Hz, debtor 1,000 Hz, G.711 A-law on the wire), four calls each,
that record what they hear: so each direction is measured where it is received.

Measured per N:
- CPU per agent call: user + system seconds of the agent workers over the hold, per call and as a share of
  a core; the peers' CPU apart (they are the test rig, not the product); the machine's busy share;
- RSS per agent worker at the end of the hold;
- audio: per recording the longest gap in each party's tone (10 ms frames below a tenth of the tone's level,
  between its first and last sound), and whether the recording is complete (its length within 1.5 s of the
  hold); the same for the streams as the agent phones and the debtor lines received and recorded them;
- RTP, as each receiver counted it (softphone/streamstats.py): packets lost and discarded as late, as a share
  of those expected, and the interarrival jitter, worst stream and mean;
- as the baselines in the same run: idle workers (the stack up, no call), the floor each agent's worker
  costs before any media flows; and, after each N, N bare pjsua2 processes (bench/bare_bridge.py) placing
  the same two calls to a fresh rig, bridged and recorded the same way with no Belblok code in between
  (row "bare"; its recordings are one mono WAV per party, its RTP figures the rig's).

Target (issue #16): 50 agents with < 1 % loss, no gap over 60 ms and every recording complete. Prints a
Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import platform
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from capacityrig import CALLER_ID, PER_PEER, Sample, load, longest_gap_ms, peers, rss_mb, stream_quality, tone  # noqa: E402

from softphone.client import Worker, WorkerSettings  # noqa: E402

IDLE_S = 5.0  # the baseline: how long the agent workers are measured with no call


@dataclass
class Figures:
    """One N's measurements."""

    kind: str  # "belblok" (the workers) or "bare" (bench/bare_bridge.py, the baseline)
    agents: int
    answered: int
    cpu_per_call_s: float
    core_share_per_call: float
    peers_cpu_s: float
    machine_busy: float
    rss_mb_mean: float
    rss_mb_max: float
    recordings_complete: int
    recording_gap_ms: float
    received_gap_ms: float
    received_complete: int
    idle_share_per_worker: float  # baseline: a worker with its stack up and no call, share of a core
    restarts: int  # workers (ours or the rig's) that died and were restarted during the run
    streams: int  # RTP streams with figures
    loss_pct_max: float  # the worst stream's lost packets, % of expected
    late_pct_max: float  # the worst stream's packets discarded as too late
    jitter_ms_max: float  # the worst interarrival jitter seen (RFC 3550) on any stream
    jitter_ms_mean: float  # mean over the streams of their mean jitter


@dataclass
class Rig:
    """The answering agent phones and debtor lines of one run, and what they heard."""

    phones: list[Worker]
    debtors: list[Worker]
    heard: list

    @classmethod
    async def up(cls, n: int, workdir: Path, voices: tuple[Path, Path]) -> Rig:
        heard: list = []
        phones = await peers(-(-n // PER_PEER), voices[0], workdir, f"phones{n}", heard)
        debtors = await peers(-(-n // PER_PEER), voices[1], workdir, f"debtors{n}", heard)
        return cls(phones, debtors, heard)

    @property
    def pids(self) -> list[int]:
        return [w.pid for w in self.phones + self.debtors if w.pid]

    def phone(self, i: int) -> str:
        return f"sip:agent{i}@127.0.0.1:{self.phones[i // PER_PEER].local_port}"

    def debtor(self, i: int) -> str:
        return f"127.0.0.1:{self.debtors[i // PER_PEER].local_port}"

    async def received(self) -> list:
        return await asyncio.gather(*(asyncio.wait_for(h.result(), 60) for h in self.heard if h.uri))

    async def down(self) -> None:
        for worker in self.phones + self.debtors:
            await worker.stop()


async def measured(seconds: float, pids: list[int], rig: Rig) -> tuple[Sample, Sample]:
    """CPU samples `seconds` apart."""
    before = Sample.take(pids, rig.pids)
    await asyncio.sleep(seconds)
    return before, Sample.take(pids, rig.pids)


def figures(kind: str, n: int, hold: float, answered: int, cpu: tuple[Sample, Sample], rss: list[float],
            recordings: list[list], received: list, media: list[dict], restarts: int, idle: float) -> Figures:
    """The table row: CPU, memory, recordings (each a list of mono channels) and what the peers heard."""
    before, after = cpu
    gaps = [longest_gap_ms(channel) for channels in recordings for channel in channels]
    complete = sum(all(abs(len(c) / 1000 - hold) <= 1.5 for c in channels) for channels in recordings)
    heard_gaps, heard_complete = [], 0
    for result in received:
        if result.recording and result.outcome == "answered":
            audio = load(result.recording)
            channel = audio.split_to_mono()[1] if audio.channels == 2 else audio
            heard_gaps.append(longest_gap_ms(channel))
            heard_complete += len(audio) / 1000 >= hold - 1.5
    seconds = after.at - before.at
    per_call = (after.measured - before.measured) / max(answered, 1)
    return Figures(kind=kind, agents=n, answered=answered, cpu_per_call_s=round(per_call, 2),
                   core_share_per_call=round(per_call / seconds, 4), peers_cpu_s=round(after.rig - before.rig, 1),
                   machine_busy=round((after.busy - before.busy) / max(after.total - before.total, 1), 3),
                   rss_mb_mean=round(sum(rss) / max(len(rss), 1), 1), rss_mb_max=round(max(rss, default=0), 1),
                   recordings_complete=complete, recording_gap_ms=max(gaps, default=float("nan")),
                   received_gap_ms=max(heard_gaps, default=float("nan")), received_complete=heard_complete,
                   idle_share_per_worker=round(idle, 4), restarts=restarts, **stream_quality(media))


async def run(n: int, hold: float, workdir: Path, voices: tuple[Path, Path], clock_rate: int) -> Figures:
    """N Belblok agent workers, each with its agent line up and bridged to a debtor for `hold` seconds."""
    rig = await Rig.up(n, workdir, voices)
    agents: list[Worker] = []
    try:
        for i in range(n):
            worker = Worker(WorkerSettings(trunk=rig.debtor(i), caller_id=CALLER_ID, name=f"agent-{i}",
                                           recording_dir=str(workdir / f"agents{n}" / str(i)), clock_rate=clock_rate))
            await worker.start()
            agents.append(worker)
        pids = [w.pid for w in agents if w.pid]
        before, after = await measured(IDLE_S, pids, rig)
        idle = (after.measured - before.measured) / max(len(pids), 1) / (after.at - before.at)
        lines = [await w.open_agent_line(rig.phone(i)) for i, w in enumerate(agents)]
        for handle in lines:
            async for event in handle.events():
                if event.kind in ("answered", "ended"):
                    break
        calls = [await w.dial(f"+3120{i:07d}", hangup_after_s=hold) for i, w in enumerate(agents)]
        for handle in calls:
            async for event in handle.events():
                if event.kind in ("answered", "ended"):
                    break
        # From the moment every call is bridged; the calls end themselves at `hold`, so measure inside it.
        cpu = await measured(max(0.0, hold - 3.0), pids, rig)
        rss = [rss_mb(pid) for pid in pids]
        results = await asyncio.gather(*(asyncio.wait_for(c.result(), hold + 60) for c in calls))
        for handle in lines:
            await handle.hangup()
        line_results = await asyncio.gather(*(asyncio.wait_for(h.result(), 60) for h in lines))
        received = await rig.received()
    finally:
        for worker in agents:
            await worker.stop()
        await rig.down()
    answered = sum(1 for r in results if r.outcome == "answered")
    failed = sorted({f"{r.outcome} {r.sip_code} {r.sip_reason}" for r in results + line_results
                     if r.outcome != "answered"})
    if failed:
        print(f"<!-- N={n}: not answered: {'; '.join(failed)} -->", flush=True)
    recordings = [load(r.recording).split_to_mono() for r in results if r.recording]
    media = [r.media for r in results + line_results + received if r.media]
    restarts = sum(w.restarts for w in agents + rig.phones + rig.debtors)
    return figures("belblok", n, hold, answered, cpu, rss, recordings, received, media, restarts, idle)


async def run_bare(n: int, hold: float, workdir: Path, voices: tuple[Path, Path], clock_rate: int) -> Figures:
    """The baseline: N bare pjsua2 processes (bench/bare_bridge.py) bridging the same rig's streams."""
    rig = await Rig.up(n, workdir, voices)
    (workdir / f"bare{n}").mkdir(exist_ok=True)
    procs = []
    try:
        for i in range(n):
            procs.append(await asyncio.create_subprocess_exec(
                sys.executable, str(ROOT / "bench" / "bare_bridge.py"), rig.phone(i), rig.debtor(i), str(hold),
                str(workdir / f"bare{n}" / str(i)), str(clock_rate), stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL))  # pjlib's start-up lines; a crash shows as its exit code
        ups = [json.loads(await asyncio.wait_for(p.stdout.readline(), 90)) for p in procs]
        pids = [p.pid for p in procs]
        cpu = await measured(max(0.0, hold - 3.0), pids, rig)
        rss = [rss_mb(pid) for pid in pids]
        ends = [json.loads(await asyncio.wait_for(p.stdout.readline(), hold + 60) or "{}") for p in procs]
        received = await rig.received()
    finally:
        for p in procs:
            try:  # it has printed its figures; libDestroy still takes a moment
                await asyncio.wait_for(p.wait(), 30)
            except asyncio.TimeoutError:
                p.kill()
                await p.wait()
        await rig.down()
    answered = sum(1 for up, end in zip(ups, ends) if up["up"] and end.get("answered") == 2)
    crashed = sum(1 for p in procs if p.returncode)
    if answered < n or crashed:
        print(f"<!-- N={n} bare: {n - answered} not bridged, {crashed} exited non-zero -->", flush=True)
    recordings = [[load(path) for path in end["recordings"]] for end in ends if end.get("recordings")]
    media = [r.media for r in received if r.media]
    restarts = sum(w.restarts for w in rig.phones + rig.debtors)
    return figures("bare", n, hold, answered, cpu, rss, recordings, received, media, restarts, float("nan"))


def row(f: Figures) -> str:
    """One Markdown table row."""
    idle = "–" if math.isnan(f.idle_share_per_worker) else f"{100 * f.idle_share_per_worker:.1f} %"
    return (f"| {f.kind} | {f.agents} | {f.answered} | {f.cpu_per_call_s:.2f} s | "
            f"{100 * f.core_share_per_call:.1f} % | "
            f"{f.peers_cpu_s:.0f} s | {100 * f.machine_busy:.0f} % | {f.rss_mb_mean:.0f}/{f.rss_mb_max:.0f} MB | "
            f"{f.recordings_complete}/{f.answered} | {f.recording_gap_ms:.0f} ms | {f.received_gap_ms:.0f} ms | "
            f"{f.received_complete}/{2 * f.answered} | {f.loss_pct_max:.2f} % | {f.late_pct_max:.2f} % | "
            f"{f.jitter_ms_mean:.1f}/{f.jitter_ms_max:.1f} ms | {idle} | {f.restarts} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", default="10,20,30,40,50", help="comma-separated N to run")
    parser.add_argument("--hold", type=float, default=60.0, help="seconds each call is held (default 60)")
    parser.add_argument("--clock-rate", type=int, default=WorkerSettings.clock_rate,
                        help="the agent workers' conference bridge clock, Hz (default: the worker's default)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="<!-- %(name)s: %(message)s -->")  # a worker's death shows
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}; hold {args.hold:.0f} s; agent bridge clock {args.clock_rate} Hz\n")
    print("| run | agents | answered | CPU per call | of a core | peers' CPU | machine busy | RSS (mean/max) | "
          "recordings complete | longest gap, recordings | longest gap, received | received complete | "
          "loss (worst) | late (worst) | jitter mean/max | idle worker | restarts |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        voices = (tone(Path(workdir) / "agent.wav", 440), tone(Path(workdir) / "debtor.wav", 1000))
        for n in (int(x) for x in args.agents.split(",")):
            for runner in (run, run_bare):
                f = asyncio.run(runner(n, args.hold, Path(workdir), voices, args.clock_rate))
                results.append(f)
                print(row(f), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([asdict(f) for f in results], indent=2))


if __name__ == "__main__":
    main()
