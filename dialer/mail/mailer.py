"""Sending e-mail over SMTP (aiosmtplib), the SentEmail record, and a local outbox directory."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib
from sqlalchemy.orm import Session, sessionmaker

from ..dossiers.correspondence import SentEmail
from ..settings.config import SmtpConfig

log = logging.getLogger(__name__)

DEFAULT_OUTBOX = Path("var/outbox")


class MailError(RuntimeError):
    """The message could not be handed to the SMTP server; the message says why."""


def build_message(smtp: SmtpConfig, *, to: str, subject: str, body: str, language: str) -> EmailMessage:
    """A plain-text UTF-8 e-mail from the configured sender."""
    message = EmailMessage()
    message["From"] = formataddr((smtp.from_name, smtp.from_address)) if smtp.from_name else smtp.from_address
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=smtp.from_address.rpartition("@")[2] or "belblok.invalid")
    message["Content-Language"] = language
    message.set_content(body)
    return message


class Mailer:
    """Hands e-mail to the [smtp] server; without a host it writes them to the outbox directory instead."""

    def __init__(self, smtp: SmtpConfig, outbox: Path = DEFAULT_OUTBOX) -> None:
        self.smtp = smtp
        self.outbox = outbox

    @property
    def configured(self) -> bool:
        """True when an SMTP server is configured."""
        return bool(self.smtp.host)

    async def send(self, message: EmailMessage) -> bool:
        """Deliver to the SMTP server (True), or store in the outbox when none is configured (False)."""
        if not self.configured:
            await asyncio.to_thread(write_outbox, self.outbox, message)
            return False
        try:
            await aiosmtplib.send(
                message, hostname=self.smtp.host, port=self.smtp.port, username=self.smtp.username or None,
                password=self.smtp.secret() or None, start_tls=self.smtp.starttls, use_tls=self.smtp.use_tls,
                timeout=self.smtp.timeout_s)
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
            raise MailError(f"{type(exc).__name__}: {exc}".strip()) from exc
        return True


async def deliver(sessions: sessionmaker[Session], mailer: Mailer, email_id: int) -> str:
    """Send a recorded e-mail and write what became of it (sent, failed + error, or queued in the outbox)."""
    row = await asyncio.to_thread(_load, sessions, email_id)
    message = build_message(mailer.smtp, to=row.to_address, subject=row.subject, body=row.body,
                            language=row.language)
    try:
        sent = await mailer.send(message)
    except MailError as exc:
        log.warning("e-mail %s to %s failed: %s", email_id, row.to_address, exc)
        await asyncio.to_thread(_mark, sessions, email_id, "failed", str(exc)[:2000])
        return "failed"
    except Exception as exc:  # never lose the record: whatever went wrong is written down
        log.exception("e-mail %s to %s failed", email_id, row.to_address)
        await asyncio.to_thread(_mark, sessions, email_id, "failed", f"{type(exc).__name__}: {exc}"[:2000])
        return "failed"
    status = "sent" if sent else "queued"
    await asyncio.to_thread(_mark, sessions, email_id, status, None)
    return status


def _load(sessions: sessionmaker[Session], email_id: int) -> SentEmail:
    with sessions() as session:
        row = session.get(SentEmail, email_id)
        if row is None:
            raise LookupError(f"no e-mail {email_id}")
        return row


def _mark(sessions: sessionmaker[Session], email_id: int, status: str, error: str | None) -> None:
    with sessions.begin() as session:
        row = session.get(SentEmail, email_id)
        if row is not None:
            row.status, row.error = status, error
            row.sent_at = datetime.now(UTC) if status == "sent" else None


def write_outbox(directory: Path, message: EmailMessage | bytes) -> Path:
    """Store one message as an .eml file in the outbox directory (name sorts by arrival)."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.eml"
    data = message if isinstance(message, bytes) else message.as_bytes()
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)  # readers never see half a message
    return path


@dataclass(frozen=True)
class OutboxMessage:
    """One e-mail found in the outbox directory."""

    file: str
    sender: str
    to: str
    subject: str
    date: str
    body: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"file": self.file, "from": self.sender, "to": self.to, "subject": self.subject, "date": self.date,
                "body": self.body}


def read_outbox(directory: Path, limit: int = 100) -> list[OutboxMessage]:
    """The newest messages in the outbox directory, newest first."""
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.glob("*.eml"), reverse=True)[:limit]:
        parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        part = parsed.get_body(preferencelist=("plain",))
        body = part.get_content() if part is not None else ""
        found.append(OutboxMessage(path.name, str(parsed.get("From", "")), str(parsed.get("To", "")),
                                   str(parsed.get("Subject", "")), str(parsed.get("Date", "")), body))
    return found


class OutboxHandler:
    """An aiosmtpd handler that writes every accepted message to the outbox directory (demo and tests)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.received: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        """Store the message; 250 to the client."""
        data = envelope.original_content or envelope.content
        raw = data if isinstance(data, bytes) else str(data).encode()
        self.received.append(raw)
        await asyncio.to_thread(write_outbox, self.directory, raw)
        return "250 Message accepted for delivery"
