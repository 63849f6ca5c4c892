"""Load generators for bench/panel.py: wrk (closed loop), a pinned aiohttp closed loop, and thinking agents.

The load generator must not eat the server's CPU on a 2-core machine: wrk (C, `apt-get install wrk`) costs a few
per cent of one core at these rates; without it a pure-Python closed loop runs in its own process, pinned to the
last core. Every client draws debtor references at random from B0000001..B{refs} and returns a `Result`.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

WRK_SCRIPT = r"""
local refs = tonumber(os.getenv("BENCH_REFS"))
local path = os.getenv("BENCH_PATH")
local counter = 0
setup = function(thread) counter = counter + 1; thread:set("seed", counter) end
init = function(args) math.randomseed(os.time() * 100 + seed) end
request = function()
  local target = path:gsub("{ref}", string.format("B%07d", math.random(1, refs)))
  return wrk.format("GET", target)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.stderr:write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": %d, "non2xx": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class Result:
    """What one load run measured: latencies in ms, the rate, failures, and the client's own CPU seconds."""

    requests: int
    seconds: float
    failures: int
    p50: float
    p99: float
    worst: float
    client_cpu: float

    @property
    def rate(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(pct / 100 * len(ordered) + 0.5)) - 1))]


def client_core() -> int:
    """The core the load generator is pinned to: the last one the bench may use."""
    return max(os.sched_getaffinity(0))


def have_wrk() -> bool:
    """True if wrk is installed (Debian: `apt-get install wrk`)."""
    return shutil.which("wrk") is not None


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk(base: str, path: str, refs: int, seconds: float, connections: int, headers: dict[str, str]) -> Result:
    """Closed loop: `connections` connections, each sending its next request as soon as the last one answered."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    command = ["taskset", "-c", str(client_core()), "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
               "--timeout", "10s", "-s", script.name]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    before = _children_cpu()
    try:
        done = subprocess.run(command + [base], capture_output=True, text=True, check=True,
                              env={**os.environ, "BENCH_REFS": str(refs), "BENCH_PATH": path})
    finally:
        os.unlink(script.name)
    summary = json.loads(done.stderr.strip().splitlines()[-1])
    return Result(summary["requests"], summary["duration_us"] / 1e6, summary["errors"] + summary["non2xx"],
                  summary["p50_us"] / 1000, summary["p99_us"] / 1000, summary["max_us"] / 1000,
                  _children_cpu() - before)


def python_closed_loop(base: str, path: str, refs: int, seconds: float, connections: int,
                       headers: dict[str, str]) -> Result:
    """The same closed loop in Python (aiohttp), in its own process pinned to one core."""
    return _in_child("closed", base, path, refs, seconds, connections, headers)


def thinking_agents(base: str, path: str, refs: int, seconds: float, agents: int, headers: dict[str, str],
                    think: tuple[float, float]) -> Result:
    """Open the way agents do: each opens a dossier, reads it for think[0]..think[1] s, opens the next one."""
    return _in_child("think", base, path, refs, seconds, agents, headers, think)


def _in_child(mode: str, base: str, path: str, refs: int, seconds: float, clients: int, headers: dict[str, str],
              think: tuple[float, float] = (0.0, 0.0)) -> Result:
    spec = json.dumps({"mode": mode, "base": base, "path": path, "refs": refs, "seconds": seconds,
                       "clients": clients, "headers": headers, "think": think})
    before = _children_cpu()
    done = subprocess.run([sys.executable, __file__, spec], capture_output=True, text=True, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return Result(**{**found, "client_cpu": _children_cpu() - before})


async def _drive(mode: str, base: str, path: str, refs: int, seconds: float, clients: int, headers: dict[str, str],
                 think: tuple[float, float]) -> dict[str, float | int]:
    import aiohttp

    rng = random.Random()
    latencies: list[float] = []
    failures = 0
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(base, connector=connector, headers=headers) as http:
        stop = time.perf_counter() + seconds

        async def client() -> None:
            nonlocal failures
            if mode == "think":  # agents do not start in step
                await asyncio.sleep(rng.uniform(0, think[1]))
            while time.perf_counter() < stop:
                started = time.perf_counter()
                try:
                    async with http.get(path.format(ref=f"B{rng.randint(1, refs):07d}")) as response:
                        await response.read()
                        failures += response.status != 200
                except aiohttp.ClientError:
                    failures += 1
                latencies.append((time.perf_counter() - started) * 1000)
                if mode == "think":
                    await asyncio.sleep(rng.uniform(*think))

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {"requests": len(latencies), "seconds": elapsed, "failures": failures,
            "p50": statistics.median(latencies), "p99": percentile(latencies, 99), "worst": max(latencies)}


def main() -> None:
    """Child process: run one client spec (JSON in argv[1]) pinned to the client core; print the figures."""
    spec = json.loads(sys.argv[1])
    os.sched_setaffinity(0, {client_core()})
    print(json.dumps(asyncio.run(_drive(spec["mode"], spec["base"], spec["path"], spec["refs"], spec["seconds"],
                                        spec["clients"], spec["headers"], tuple(spec["think"])))))


if __name__ == "__main__":
    main()
