"""The call guide: steps of a collection call and objection answers, loaded from config/callguide/LANG.toml."""

from __future__ import annotations

import stat
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

DEFAULT_DIRECTORY = Path("config/callguide")
LANGUAGES = ("nl", "en")


class CallGuideError(ValueError):
    """A call guide file that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Step:
    """One step of the call (handbook §6.7.3): what to do and a line to say."""

    key: str
    title: str
    say: str


@dataclass(frozen=True)
class Objection:
    """A common objection (seed 003) with an answer, and the work it may create."""

    key: str
    objection: str
    answer: str
    task: str | None = None
    callback: str | None = None


@dataclass(frozen=True)
class CallGuide:
    """The whole guide in one language."""

    language: str
    title: str
    goal: str
    stance: tuple[str, ...]
    steps: tuple[Step, ...]
    objections: tuple[Objection, ...]


def _text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CallGuideError(f"{where}: '{key}' must be a non-empty text")
    return value.strip()


def parse_guide(data: dict[str, Any], language: str, source: str = "<guide>") -> CallGuide:
    """A guide from parsed TOML; CallGuideError names what is missing."""
    steps = tuple(Step(_text(s, "key", f"{source} steps[{i}]"), _text(s, "title", f"{source} steps[{i}]"),
                       _text(s, "say", f"{source} steps[{i}]")) for i, s in enumerate(data.get("steps", [])))
    objections = tuple(
        Objection(_text(o, "key", f"{source} objections[{i}]"), _text(o, "objection", f"{source} objections[{i}]"),
                  _text(o, "answer", f"{source} objections[{i}]"), o.get("task"), o.get("callback"))
        for i, o in enumerate(data.get("objections", [])))
    if not steps:
        raise CallGuideError(f"{source}: a call guide needs at least one [[steps]] entry")
    stance = tuple(str(s) for s in data.get("stance", []))
    return CallGuide(language, _text(data, "title", source), str(data.get("goal", "")), stance, steps, objections)


@lru_cache(maxsize=8)
def _load(path: Path, language: str, mtime_ns: int, size: int) -> CallGuide:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CallGuideError(f"{path}: {exc}") from None
    return parse_guide(data, language, str(path))


def load_guide(language: str, directory: str | Path = DEFAULT_DIRECTORY) -> CallGuide:
    """The guide in `language` (nl or en), English if that file is missing; re-read when the file changes."""
    folder = Path(directory)
    for lang in (language, "en", "nl"):
        path = folder / f"{lang}.toml"
        try:
            info = path.stat()  # one system call per page: the agent screen asks for the guide on every load
        except OSError:
            continue
        if lang in LANGUAGES and stat.S_ISREG(info.st_mode):
            return _load(path, lang, info.st_mtime_ns, info.st_size)
    raise CallGuideError(f"no call guide in {folder} (expected nl.toml or en.toml)")


def dial_blocker(debtor: dict[str, Any]) -> str | None:
    """Why this debtor (dossier JSON) must not be phoned at all, or None: do-not-call, written only, insolvent."""
    for flag in ("do_not_call", "written_only", "insolvent"):
        if debtor.get(flag):
            return flag
    return None


class NotInDossier(LookupError):
    """The number is not one of the dossier's phone numbers."""


def contact_of(dossier: dict[str, Any], number: str) -> str:
    """The name of the contact whose phone `number` is; NotInDossier if none (agents dial dossier numbers only)."""
    for contact in dossier["contacts"]:
        if any(phone["number"] == number for phone in contact["phones"]):
            return str(contact["name"])
    raise NotInDossier(f"{number} is not a number in dossier {dossier['debtor']['ref']}")


class _Keep(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(guide: CallGuide, values: dict[str, str]) -> CallGuide:
    """The guide with {agent}, {team}, {invoice}, {amount}, {due_date}, {term} filled in; unknown ones stay."""
    def put(text: str) -> str:
        try:
            return text.format_map(_Keep(values))
        except (ValueError, IndexError):  # a stray brace in an edited guide: show it as written
            return text

    steps = tuple(Step(s.key, put(s.title), put(s.say)) for s in guide.steps)
    objections = tuple(Objection(o.key, put(o.objection), put(o.answer), o.task, o.callback)
                       for o in guide.objections)
    return CallGuide(guide.language, guide.title, put(guide.goal), guide.stance, steps, objections)


def guide_values(dossier: dict[str, Any], *, agent: str, team: str) -> dict[str, str]:
    """What the guide's placeholders stand for in this dossier: the oldest overdue open invoice, and who calls."""
    open_invoices = [i for i in dossier["invoices"] if i["open_amount"] not in ("0.00", None) and not i["disputed"]]
    overdue = sorted((i for i in open_invoices if i["days_overdue"] > 0), key=lambda i: -i["days_overdue"])
    invoice = (overdue or open_invoices or [None])[0]
    values = {"agent": agent, "team": team}
    if invoice is not None:
        from datetime import date

        term = (date.fromisoformat(invoice["due_date"]) - date.fromisoformat(invoice["date"])).days
        values.update(invoice=invoice["number"], amount=invoice["open_amount"], due_date=invoice["due_date"],
                      term=str(term), currency=invoice["currency"])
    return values
