"""Confirmation e-mails: the letter's points, delivery to a real SMTP server, failures recorded, the outbox."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy.engine import Engine

from dialer.dossiers.correspondence import SentEmail
from dialer.mail.confirmation import ConfirmationFacts, compose, threatening_words
from dialer.mail.mailer import Mailer, deliver, read_outbox
from dialer.settings.config import SmtpConfig
from dialer.storage.database import session_factory
from softphone.processes import free_port
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import SmtpSink

FACTS = ConfirmationFacts(
    language="nl", team="Debiteurenbeheer Testteam", agent="anna", debtor_name="Bakkerij Van Dijk B.V.",
    contact_name="Jan van Dijk", payments=[(Decimal("907.50"), date(2026, 12, 1)), (Decimal("907.50"), date(2026, 12, 31))],
    currency="EUR", invoices=["F2026-0412"], open_total=Decimal("1815.00"), condition=None)


def test_the_dutch_letter_sums_up_the_agreement_point_by_point() -> None:
    letter = compose(FACTS)
    assert "Bakkerij Van Dijk" in letter.subject
    body = letter.body
    assert body.startswith("Beste Jan van Dijk,")
    assert "F2026-0412" in body and "€ 1.815,00" in body
    assert "Termijn 1: € 907,50 uiterlijk op 1 december 2026" in body
    assert "Termijn 2: € 907,50 uiterlijk op 31 december 2026" in body
    assert body.count("• ") >= 3  # point by point
    assert threatening_words(body) == [] and threatening_words(letter.subject) == []


def test_the_english_letter_with_a_discount_and_a_condition() -> None:
    letter = compose(ConfirmationFacts(
        language="en", team="Team", agent="anna", debtor_name="Brightside Trading Ltd", contact_name="Emily Clarke",
        payments=[(Decimal("3087.00"), date(2026, 11, 27))], currency="EUR", invoices=["F2026-0520"],
        open_total=Decimal("3150.00"), discount_pct=Decimal("2"), condition="Two pallets arrived damaged"))
    assert letter.body.startswith("Dear Emily Clarke,")
    assert "You will pay €3,087.00 by 27 November 2026 at the latest." in letter.body
    assert "2% discount" in letter.body and "Two pallets arrived damaged" in letter.body
    assert threatening_words(letter.body) == []


def test_threatening_words_are_found() -> None:
    assert threatening_words("Anders gaat de vordering naar de deurwaarder") == ["deurwaarder"]
    assert "legal action" in threatening_words("We will take LEGAL ACTION.")


def _email(engine: Engine, body: str = "Hallo\n") -> int:
    with session_factory(engine).begin() as session:
        row = SentEmail(to_address="jan@bakkerij.example", subject="Bevestiging", body=body, language="nl",
                        status="queued", created_at=datetime.now(UTC))
        session.add(row)
        session.flush()
        return row.id


async def test_an_email_reaches_a_real_smtp_server_and_is_marked_sent(engine: Engine, smtp_sink: SmtpSink) -> None:
    email_id = _email(engine, compose(FACTS).body)
    smtp = SmtpConfig(host="127.0.0.1", port=smtp_sink.port, from_address="debiteuren@belblok.example",
                      from_name="Belblok")
    status = await deliver(session_factory(engine), Mailer(smtp), email_id)
    assert status == "sent"
    (message,) = await smtp_sink.wait_for(1)
    assert message["To"] == "jan@bakkerij.example" and "debiteuren@belblok.example" in message["From"]
    assert "Termijn 1: € 907,50" in message.get_body(preferencelist=("plain",)).get_content()
    with session_factory(engine)() as session:
        row = session.get(SentEmail, email_id)
        assert row is not None and row.status == "sent" and row.sent_at is not None and row.error is None


async def test_a_server_that_is_down_marks_the_email_failed_with_the_error(engine: Engine) -> None:
    email_id = _email(engine)
    smtp = SmtpConfig(host="127.0.0.1", port=free_port("tcp"), timeout_s=5)
    assert await deliver(session_factory(engine), Mailer(smtp), email_id) == "failed"
    with session_factory(engine)() as session:
        row = session.get(SentEmail, email_id)
        assert row is not None and row.status == "failed" and row.error and row.sent_at is None


async def test_without_an_smtp_host_the_email_waits_in_the_outbox(engine: Engine, tmp_path: Path) -> None:
    email_id = _email(engine, "Beste Jan,\nTot ziens.\n")
    status = await deliver(session_factory(engine), Mailer(SmtpConfig(), outbox=tmp_path / "outbox"), email_id)
    assert status == "queued"
    (stored,) = read_outbox(tmp_path / "outbox")
    assert stored.subject == "Bevestiging" and "Tot ziens." in stored.body
