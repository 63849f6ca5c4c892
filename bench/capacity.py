"""Benchmark: how many agents one box carries, each on their own line, every call bridged and recorded.

    .venv/bin/python bench/capacity.py [--agents 10,20,30,40,50] [--hold 60] [--json bench/out/capacity.json]

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
  hold); the same for the streams as the agent phones and the debtor lines received and recorded them.

Target (issue #16): 50 agents with no gap over 60 ms and every recording complete. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # noqa: F401  (pydub's, silenced as in pyproject)

from pydub import AudioSegment  # noqa: E402

from softphone.client import Worker, WorkerSettings  # noqa: E402

CALLER_ID = "+31201234567"
PER_PEER = 4  # calls one answering softphone holds (the wheel's limit)
FRAME_MS = 10
GAP_TARGET_MS = 60
TICKS = os.sysconf("SC_CLK_TCK")


def tone(path: Path, frequency: int, seconds: float = 5.0) -> Path:
    """A mono 8 kHz tone WAV (ffmpeg), looped by the peers as their 'voice'."""
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency={frequency}:duration={seconds}", "-ar", "8000", "-ac", "1", str(path)],
                   check=True)
    return path


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    """Resident memory of one process, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def longest_gap_ms(channel: AudioSegment) -> float:
    """The longest run of near-silent 10 ms frames between the tone's first and last sound."""
    frames = [channel[i:i + FRAME_MS].rms for i in range(0, len(channel) - FRAME_MS + 1, FRAME_MS)]
    loud = sorted(frames)[len(frames) // 2] if frames else 0
    if loud <= 0:
        return float(len(channel))
    sounding = [rms >= loud / 10 for rms in frames]
    if True not in sounding:
        return float(len(channel))
    first, last = sounding.index(True), len(sounding) - 1 - sounding[::-1].index(True)
    longest = run = 0
    for audible in sounding[first:last + 1]:
        run = 0 if audible else run + 1
        longest = max(longest, run)
    return longest * FRAME_MS


def load(path: str) -> AudioSegment:
    with open(path, "rb") as f:
        return AudioSegment.from_wav(f)


@dataclass
class Figures:
    """One N's measurements."""

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


async def peers(count: int, voice: Path, workdir: Path, name: str, heard: list) -> list[Worker]:
    """Softphones that answer every call with `voice`, looping, and record what they hear."""
    made = []
    for i in range(count):
        settings = WorkerSettings(trunk="127.0.0.1:9", caller_id=CALLER_ID, recording_dir=str(workdir / name),
                                  name=f"{name}-{i}", incoming="answer", greeting=str(voice), greeting_loop=True,
                                  no_response_timeout_s=4.0)
        worker = Worker(settings, on_incoming=heard.append)
        await worker.start()
        made.append(worker)
    return made


async def run(n: int, hold: float, workdir: Path, voices: tuple[Path, Path]) -> Figures:
    """N agents, each bridged to a debtor for `hold` seconds."""
    phones_heard: list = []
    debtors_heard: list = []
    phone_peers = await peers(-(-n // PER_PEER), voices[0], workdir, f"phones{n}", phones_heard)
    debtor_peers = await peers(-(-n // PER_PEER), voices[1], workdir, f"debtors{n}", debtors_heard)
    agents: list[Worker] = []
    try:
        for i in range(n):
            peer = debtor_peers[i // PER_PEER]
            worker = Worker(WorkerSettings(trunk=f"127.0.0.1:{peer.local_port}", caller_id=CALLER_ID,
                                           recording_dir=str(workdir / f"agents{n}"), name=f"agent-{i}",
                                           no_response_timeout_s=4.0))
            await worker.start()
            agents.append(worker)
        lines = [await w.open_agent_line(f"sip:agent{i}@127.0.0.1:{phone_peers[i // PER_PEER].local_port}")
                 for i, w in enumerate(agents)]
        for line in lines:
            async for event in line.events():
                if event.kind in ("answered", "ended"):
                    break
        calls = [await w.dial(f"+3120{i:07d}", hangup_after_s=hold) for i, w in enumerate(agents)]
        for call in calls:
            async for event in call.events():
                if event.kind in ("answered", "ended"):
                    break
        # The hold: CPU and memory from the moment every call is bridged.
        pids = [w.pid for w in agents if w.pid]
        peer_pids = [w.pid for w in phone_peers + debtor_peers if w.pid]
        cpu0, peer0, (busy0, total0), t0 = (sum(map(cpu_seconds, pids)), sum(map(cpu_seconds, peer_pids)),
                                           machine_busy(), time.monotonic())
        await asyncio.sleep(max(0.0, hold - 3.0))  # the calls end themselves at `hold`; measure inside it
        cpu1, peer1, (busy1, total1), t1 = (sum(map(cpu_seconds, pids)), sum(map(cpu_seconds, peer_pids)),
                                           machine_busy(), time.monotonic())
        rss = [rss_mb(pid) for pid in pids]
        results = await asyncio.gather(*(asyncio.wait_for(c.result(), hold + 60) for c in calls))
        for line in lines:
            await line.hangup()
        await asyncio.gather(*(asyncio.wait_for(line.result(), 60) for line in lines))
        received = await asyncio.gather(*(asyncio.wait_for(h.result(), 60) for h in phones_heard + debtors_heard
                                          if h.uri))
    finally:
        for worker in agents + phone_peers + debtor_peers:
            await worker.stop()
    answered = sum(1 for r in results if r.outcome == "answered")
    gaps, complete = [], 0
    for result in results:
        if result.recording:
            stereo = load(result.recording)
            gaps += [longest_gap_ms(channel) for channel in stereo.split_to_mono()]
            complete += abs(len(stereo) / 1000 - hold) <= 1.5
    heard_gaps, heard_complete = [], 0
    for result in received:
        if result.recording and result.outcome == "answered":
            audio = load(result.recording)
            channel = audio.split_to_mono()[1] if audio.channels == 2 else audio
            heard_gaps.append(longest_gap_ms(channel))
            heard_complete += len(audio) / 1000 >= hold - 1.5
    seconds = t1 - t0
    per_call = (cpu1 - cpu0) / max(answered, 1)
    return Figures(agents=n, answered=answered, cpu_per_call_s=round(per_call, 2),
                   core_share_per_call=round(per_call / seconds, 4), peers_cpu_s=round(peer1 - peer0, 1),
                   machine_busy=round((busy1 - busy0) / max(total1 - total0, 1), 3),
                   rss_mb_mean=round(sum(rss) / max(len(rss), 1), 1), rss_mb_max=round(max(rss, default=0), 1),
                   recordings_complete=complete, recording_gap_ms=max(gaps, default=float("nan")),
                   received_gap_ms=max(heard_gaps, default=float("nan")), received_complete=heard_complete)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", default="10,20,30,40,50", help="comma-separated N to run")
    parser.add_argument("--hold", type=float, default=60.0, help="seconds each call is held (default 60)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}; hold {args.hold:.0f} s\n")
    print("| agents | answered | CPU per call | of a core | peers' CPU | machine busy | RSS per worker (mean/max) | "
          "recordings complete | longest gap, recordings | longest gap, received | received complete |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    figures = []
    with tempfile.TemporaryDirectory() as workdir:
        voices = (tone(Path(workdir) / "agent.wav", 440), tone(Path(workdir) / "debtor.wav", 1000))
        for n in (int(x) for x in args.agents.split(",")):
            f = asyncio.run(run(n, args.hold, Path(workdir), voices))
            figures.append(f)
            print(f"| {f.agents} | {f.answered} | {f.cpu_per_call_s:.2f} s | {100 * f.core_share_per_call:.1f} % | "
                  f"{f.peers_cpu_s:.0f} s | {100 * f.machine_busy:.0f} % | {f.rss_mb_mean:.0f}/{f.rss_mb_max:.0f} MB"
                  f" | {f.recordings_complete}/{f.answered} | {f.recording_gap_ms:.0f} ms | "
                  f"{f.received_gap_ms:.0f} ms | {f.received_complete}/{2 * f.answered} |", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([asdict(f) for f in figures], indent=2))


if __name__ == "__main__":
    main()
