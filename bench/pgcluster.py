"""The benchmarks' own PostgreSQL: a private cluster sized like a database server, beside the machine's own.

    .venv/bin/python bench/pgcluster.py start      # initdb on first use; prints the server URL
    .venv/bin/python bench/gen_dossiers.py --server "$(.venv/bin/python bench/pgcluster.py url)"
    .venv/bin/python bench/panel.py --db "$(.venv/bin/python bench/pgcluster.py url)/belblok_bench"
    .venv/bin/python bench/pgcluster.py stop

Why: the machine's PostgreSQL keeps Debian's shared_buffers of 128 MB for a 5.4 GB data set, and this VM's
kernel reclaims the page cache proactively (kdamond): most dossier reads went to disk, PostgreSQL's CPU per
dossier swung between 0.9 and 1.8 ms from run to run (0.55 ms with the pages in memory) and so did every p99.
A database server gets about a quarter of its RAM as shared_buffers; this cluster does, so the benchmark
measures Belblok rather than the page cache. It listens on 127.0.0.1 only, with trust authentication.
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

DIRECTORY = Path("/var/tmp/belblok-bench-pg")
PORT = 5433


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is None:
        sys.exit("pg_ctl not found: install PostgreSQL's server package (Debian: postgresql)")
    return Path(pg_ctl).parent


def _run(command: list[str]) -> None:
    # initdb and pg_ctl refuse to run as root: as root, run them as the postgres user.
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--"] + command
    subprocess.run(command, check=True)


def _shared_buffers() -> str:
    ram_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    return f"{min(8192, max(128, ram_mb // 4))}MB"


def start(directory: Path, port: int) -> None:
    """Create the cluster on first use, then start it."""
    if not (directory / "PG_VERSION").exists():
        directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(directory, entry.pw_uid, entry.pw_gid)
        _run([str(_bindir() / "initdb"), "-D", str(directory), "-U", "postgres", "--auth=trust", "-E", "UTF8",
              "--locale=C.UTF-8"])
        buffers = _shared_buffers()
        with open(directory / "postgresql.auto.conf", "a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{directory}'\n"
                       f"shared_buffers = '{buffers}'\neffective_cache_size = '{buffers}'\n"
                       "max_connections = 200\nmax_wal_size = '4GB'\n")
    _run([str(_bindir() / "pg_ctl"), "-D", str(directory), "-l", str(directory / "server.log"), "-w", "start"])
    print(url(port))


def stop(directory: Path) -> None:
    """Stop the cluster (its data stays for the next start)."""
    _run([str(_bindir() / "pg_ctl"), "-D", str(directory), "-m", "fast", "-w", "stop"])


def url(port: int) -> str:
    """The server URL, without a database name."""
    return f"postgresql://postgres@127.0.0.1:{port}"


def main() -> int:
    """start | stop | url."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("start", "stop", "url"))
    parser.add_argument("--dir", type=Path, default=DIRECTORY, help=f"the cluster's directory (default {DIRECTORY})")
    parser.add_argument("--port", type=int, default=PORT, help=f"its port on 127.0.0.1 (default {PORT})")
    args = parser.parse_args()
    if args.action == "start":
        start(args.dir, args.port)
    elif args.action == "stop":
        stop(args.dir)
    else:
        print(url(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
