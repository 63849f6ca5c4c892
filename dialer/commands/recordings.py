"""`belblok recordings list|process|purge`."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone

from ..recordings.jobs import process_pending, terminal_progress
from ..recordings.store import (
    RecordingFilter,
    RecordingStore,
    file_problem,
    recording_json,
)
from ..settings.config import Config
from .common import sessions_for


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `recordings` command."""
    rec = sub.add_parser("recordings", help="recorded calls: list, process, purge")
    actions = rec.add_subparsers(dest="recordings_command", required=True, metavar="ACTION")
    ls = actions.add_parser("list", help="list recordings (newest first)")
    ls.add_argument("--json", action="store_true", help="one JSON list")
    ls.add_argument("--agent")
    ls.add_argument("--debtor", help="debtor reference or part of the number")
    ls.add_argument("--flag", choices=["long_silence", "promise", "dispute", "withheld"])
    ls.add_argument("--limit", type=int, default=200)
    actions.add_parser("process", help="post-process every pending recording")
    purge = actions.add_parser("purge", help="remove recordings past [recording] retention_days")
    purge.add_argument("--dry-run", action="store_true", help="list what would go, remove nothing")
    rec.set_defaults(handler=run)


def run(args: argparse.Namespace, cfg: Config) -> int:
    """Dispatch the action."""
    store = RecordingStore(sessions_for(cfg))
    if args.recordings_command == "list":
        return _list(store, args)
    if args.recordings_command == "process":
        ok, failed = process_pending(store, cfg, progress=terminal_progress)
        print(f"processed {ok} recording(s), {failed} failed")
        return 0 if failed == 0 else 1
    return _purge(store, cfg, dry_run=args.dry_run)


def _list(store: RecordingStore, args: argparse.Namespace) -> int:
    rows = store.search(RecordingFilter(agent=args.agent, debtor=args.debtor, flag=args.flag, limit=args.limit))
    items = []
    for rec in rows:
        item = recording_json(rec)
        if rec.status != "purged":
            problem = file_problem(rec)
            if problem:
                item["error"] = problem
                item["status"] = "missing" if "missing" in problem else "corrupt"
        items.append(item)
    if args.json:
        print(json.dumps(items, ensure_ascii=False))
        return 0
    for item in items:
        mark = f"  ! {item['error']}" if item["error"] else ""
        dur = f"{item['duration_s']:.1f}s" if item["duration_s"] is not None else "-"
        print(f"{item['attempt_id']:>6}  {item['status']:<9} {dur:>7}  {item['agent'] or '-':<10} "
              f"{item['debtor'] or '-':<12} {','.join(item['flags']) or '-':<20} {item['path']}{mark}")
    return 0


def _purge(store: RecordingStore, cfg: Config, *, dry_run: bool) -> int:
    now = datetime.now(timezone.utc)
    days = cfg.recording.retention_days
    candidates = store.purge_candidates(now=now, retention_days=days)
    if dry_run:
        for rec in candidates:
            print(f"would purge recording {rec.id} (attempt {rec.attempt_id}, {rec.created_at.date()}): "
                  f"{rec.path or rec.source_path}")
        print(f"{len(candidates)} recording(s) past {days} days would be purged" if days else
              "retention is off ([recording] retention_days = 0): nothing to purge")
        return 0
    purged = store.purge(candidates, now=now, reason=f"retention: older than {days} days")
    print(f"purged {len(purged)} recording(s)")
    return 0
