"""An agent's call-back appointments as an iCalendar feed (RFC 5545), behind an HMAC token."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..dossiers.callbacks import Callback
from ..dossiers.parties import Contact, Debtor
from ..settings.config import Config

HISTORY = timedelta(days=30)  # past appointments stay in the feed this long
DURATION = timedelta(minutes=15)
PRODID = "-//Belblok//Call-back appointments//EN"
_TOKEN_CONTEXT = b"belblok-calendar-feed:"
_WORDS = {"nl": ("Terugbelafspraak", "Notitie", "Bellen", "Gevraagd voor"),
          "en": ("Call-back", "Note", "Call", "Asked for")}


@dataclass(frozen=True)
class FeedItem:
    """One appointment as the feed shows it."""

    id: int
    due: datetime
    debtor_ref: str
    debtor_name: str
    note: str | None = None
    numbers: tuple[str, ...] = ()  # "Piet Jansen (owner): +31612345678"
    cancelled: bool = False
    requested: datetime | None = None


# -- the token --------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str | bytes, agent: str, generation: int = 0) -> bytes:
    key = secret.encode() if isinstance(secret, str) else secret
    # Generation 0 is the first address an agent gets (and every address made before revocation existed).
    message = _TOKEN_CONTEXT + agent.encode() + (f"\x00{generation}".encode() if generation else b"")
    return hmac.new(key, message, hashlib.sha256).digest()


def feed_token(secret: str | bytes, agent: str, generation: int = 0) -> str:
    """The token in an agent's feed address: their name and an HMAC-SHA256 of it and of the address's
    generation (a new secret: every token new; a revoked agent's next generation: theirs new)."""
    return f"{_b64(agent.encode())}.{_b64(_mac(secret, agent, generation))}"


def agent_for_feed_token(secret: str | bytes, token: str, generation: int | None = 0) -> str | None:
    """The agent a token was made for, or None if it was not made with this secret (and `generation`)."""
    name, _, mac = (token or "").partition(".")
    try:
        agent = _unb64(name).decode()
        given = _unb64(mac)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return agent if agent and hmac.compare_digest(given, _mac(secret, agent, generation or 0)) else None


def feed_secret(path: Path = Path("var/calendar-feed.key")) -> bytes:
    """The secret behind feed tokens, created (32 random bytes, mode 0600) on first use."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = secrets.token_bytes(32)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            out.write(data)
        return data


# -- RFC 5545 text ------------------------------------------------------------------------------


def escape(text: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and line breaks escaped."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 §3.1), never inside a UTF-8 character."""
    parts: list[str] = []
    current, size, limit = "", 0, 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            current, size, limit = "", 0, 74  # a continuation line starts with one space
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(agent: str, items: Iterable[FeedItem], *, now: datetime, domain: str = "belblok",
             remind_minutes: int = 0, language: str = "nl", name: str = "Belblok") -> str:
    """The VCALENDAR text of an agent's appointments (CRLF line ends, folded lines, times in UTC)."""
    title, note_word, call_word, asked_word = _WORDS.get(language, _WORDS["en"])
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             f"X-WR-CALNAME:{escape(f'{name} – {agent}')}"]
    for item in items:
        description = [f"{item.debtor_name} ({item.debtor_ref})"]
        if item.note:
            description.append(f"{note_word}: {item.note}")
        description += [f"{call_word}: {number}" for number in item.numbers]
        if item.requested is not None:
            description.append(f"{asked_word}: {item.requested.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
        lines += ["BEGIN:VEVENT", f"UID:callback-{item.id}@{domain}", f"DTSTAMP:{_stamp(now)}",
                  f"DTSTART:{_stamp(item.due)}", f"DURATION:PT{int(DURATION.total_seconds() // 60)}M",
                  f"SUMMARY:{escape(f'{title}: {item.debtor_name} ({item.debtor_ref})')}",
                  f"DESCRIPTION:{escape(chr(10).join(description))}",
                  f"STATUS:{'CANCELLED' if item.cancelled else 'CONFIRMED'}", "TRANSP:OPAQUE"]
        if remind_minutes > 0 and not item.cancelled:
            lines += ["BEGIN:VALARM", "ACTION:DISPLAY", f"TRIGGER:-PT{remind_minutes}M",
                      f"DESCRIPTION:{escape(f'{title}: {item.debtor_name}')}", "END:VALARM"]
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def agent_calendar(session: Session, agent: str, cfg: Config, *, now: datetime, domain: str = "belblok") -> str:
    """The feed of one agent: their appointments from `HISTORY` ago on (cancelled ones marked so)."""
    rows = session.execute(
        select(Callback, Debtor).join(Debtor, Debtor.id == Callback.debtor_id)
        .options(selectinload(Debtor.contacts).selectinload(Contact.phones))
        .where(Callback.agent == agent, Callback.kind == "appointment", Callback.due_at >= now - HISTORY)
        .order_by(Callback.due_at, Callback.id)).all()
    items = []
    for row, debtor in rows:
        contacts = [c for c in debtor.contacts if row.contact_id in (None, c.id)]
        numbers = tuple(f"{c.name} ({c.role}): {p.number}" for c in contacts for p in c.phones)
        items.append(FeedItem(row.id, row.due_at, debtor.ref, debtor.name, row.note, numbers,
                              row.status == "cancelled", row.requested_at))
    return calendar(agent, items, now=now, domain=domain, remind_minutes=cfg.callbacks.remind_minutes,
                    language=cfg.team.ui_language, name=cfg.team.name)
