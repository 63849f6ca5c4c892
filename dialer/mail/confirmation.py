"""The confirmation e-mail of a payment agreement: point by point, friendly, businesslike, never threatening."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency

LOCALES = {"nl": "nl_NL", "en": "en_GB"}

# Words a confirmation must never contain (tip 4 of seed 000: no threatening language).
THREATENING_WORDS = (
    "incasso", "deurwaarder", "rechter", "rechtszaak", "dagvaarding", "beslag", "maatregel", "dreig", "sanctie",
    "boete", "uit handen", "collection agency", "bailiff", "court", "lawsuit", "legal action", "penalt", "threat",
    "seize", "measures", "final warning", "laatste waarschuwing", "consequenc", "gevolgen",
)


@dataclass(frozen=True)
class ConfirmationFacts:
    """What was agreed, as the letter tells it."""

    language: str
    team: str
    agent: str
    debtor_name: str
    contact_name: str | None
    payments: list[tuple[Decimal, date]]
    currency: str
    invoices: list[str]
    open_total: Decimal
    discount_pct: Decimal = Decimal(0)
    condition: str | None = None  # e.g. the complaint that must be resolved first
    extra: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Letter:
    """Subject and plain-text body of an e-mail."""

    subject: str
    body: str


def _money(amount: Decimal, currency: str, locale: str) -> str:
    # Babel puts a no-break space after the € in Dutch; plain text mail reads (and searches) better without.
    return format_currency(amount, currency, locale=locale).replace("\xa0", " ").replace("\u202f", " ")


def _day(value: date, locale: str) -> str:
    return format_date(value, format="long", locale=locale)


_TEXT = {
    "nl": {
        "subject": "Bevestiging van onze betalingsafspraak – {debtor}",
        "greeting": "Beste {name},",
        "greeting_plain": "Geachte heer, mevrouw,",
        "intro": "Hartelijk dank voor het prettige telefoongesprek van vandaag. Zoals besproken zetten wij de "
                 "gemaakte afspraken hieronder puntsgewijs voor u op een rij:",
        "invoices": "Het gaat om factuur {numbers}, samen {total}.",
        "single": "U betaalt {amount} uiterlijk op {date}.",
        "instalment": "Termijn {seq}: {amount} uiterlijk op {date}.",
        "plan": "U betaalt in {count} termijnen, samen {total}:",
        "discount": "Bij betaling binnen de afgesproken termijn geven wij u {pct}% korting; het te betalen bedrag "
                    "is daarmee {total}.",
        "condition": "Voorwaarde: deze afspraak geldt nadat uw melding is afgehandeld: “{condition}”. Wij houden u "
                     "daarvan op de hoogte.",
        "reference": "Wilt u bij de betaling het factuurnummer vermelden? Dan verwerken wij uw betaling direct.",
        "questions": "Heeft u nog vragen, of klopt er iets niet in deze samenvatting? Neem dan gerust contact met "
                     "mij op door op deze e-mail te antwoorden.",
        "thanks": "Dank u wel voor de medewerking.",
        "closing": "Met vriendelijke groet,",
    },
    "en": {
        "subject": "Confirmation of our payment arrangement – {debtor}",
        "greeting": "Dear {name},",
        "greeting_plain": "Dear Sir or Madam,",
        "intro": "Thank you for the pleasant telephone conversation today. As discussed, here is a point-by-point "
                 "summary of what we agreed:",
        "invoices": "This concerns invoice {numbers}, {total} in total.",
        "single": "You will pay {amount} by {date} at the latest.",
        "instalment": "Instalment {seq}: {amount} by {date} at the latest.",
        "plan": "You will pay in {count} instalments, {total} in total:",
        "discount": "For payment within the agreed term we give you a {pct}% discount; the amount to pay is "
                    "therefore {total}.",
        "condition": "Condition: this arrangement applies once your query has been dealt with: “{condition}”. "
                     "We will keep you informed.",
        "reference": "Would you please quote the invoice number with your payment? Then we can process it at once.",
        "questions": "If you have any questions, or if anything in this summary is not right, simply reply to this "
                     "e-mail and I will be glad to help.",
        "thanks": "Thank you for your cooperation.",
        "closing": "Kind regards,",
    },
}


def compose(facts: ConfirmationFacts) -> Letter:
    """The confirmation letter in the debtor's language (Dutch unless it is English)."""
    lang = facts.language if facts.language in _TEXT else "nl"
    text, locale = _TEXT[lang], LOCALES[lang]
    total = sum((amount for amount, _ in facts.payments), Decimal("0.00"))
    lines = [text["greeting"].format(name=facts.contact_name) if facts.contact_name else text["greeting_plain"], "",
             text["intro"], ""]
    points: list[str] = []
    if facts.invoices:
        numbers = ", ".join(facts.invoices)
        points.append(text["invoices"].format(numbers=numbers, total=_money(facts.open_total, facts.currency, locale)))
    if len(facts.payments) == 1:
        amount, due = facts.payments[0]
        points.append(text["single"].format(amount=_money(amount, facts.currency, locale), date=_day(due, locale)))
    else:
        points.append(text["plan"].format(count=len(facts.payments), total=_money(total, facts.currency, locale)))
        for seq, (amount, due) in enumerate(facts.payments, 1):
            points.append("   " + text["instalment"].format(seq=seq, amount=_money(amount, facts.currency, locale),
                                                            date=_day(due, locale)))
    if facts.discount_pct > 0:
        pct = format(facts.discount_pct.normalize(), "f")
        points.append(text["discount"].format(pct=pct, total=_money(total, facts.currency, locale)))
    if facts.condition:
        points.append(text["condition"].format(condition=facts.condition))
    points.extend(facts.extra)
    points.append(text["reference"])
    lines += [p if p.startswith("   ") else f"• {p}" for p in points]
    lines += ["", text["questions"], "", text["thanks"], "", text["closing"], "", facts.agent, facts.team]
    return Letter(text["subject"].format(debtor=facts.debtor_name), "\n".join(lines) + "\n")


def threatening_words(text: str) -> list[str]:
    """The threatening words found in `text` (case-insensitive); empty for a friendly letter."""
    lower = text.lower()
    return [word for word in THREATENING_WORDS if re.search(re.escape(word), lower)]
