"""The reports' words and cells in the page's language: column headings, report names, formatted values."""

from __future__ import annotations

from typing import Any

from dialer.settings.config import Config

from .i18n import _, current_language, money, number, percent

AMOUNTS = ("amount_promised", "amount_due", "amount_received", "open_at_start", "open_at_end", "change")


def kind_labels() -> dict[str, str]:
    """The four reports' names."""
    return {"outcomes": _("Outcomes"), "promises": _("Promises"), "agents": _("Agents"), "ageing": _("Ageing")}


def state_series() -> tuple[list[str], list[tuple[str, str]]]:
    """The agents report's time columns in the order the hours chart stacks them, with label and colour class."""
    names = ["talk_s", "wrap_up_s", "dialing_s", "wait_s", "pause_s"]
    return names, [(_("Talking"), "chart-s2"), (_("Wrap-up"), "chart-s4"), (_("Dialling"), "chart-s1"),
                   (_("Waiting"), "chart-s5"), (_("Paused"), "chart-s3")]


def _labels() -> dict[str, str]:
    return {
        "agent": _("Agent"), "calls_placed": _("Calls placed"), "calls_answered": _("Answered"),
        "contacts": _("Contacts"), "right_party_contacts": _("Right-party contacts"), "promises": _("Promises"),
        "amount_promised": _("Amount promised"), "contact_rate": _("Contact rate"),
        "right_party_contact_rate": _("Right-party-contact rate"), "promise_rate": _("Promise rate"),
        "promises_made": _("Promises made"), "promises_due": _("Promises due"), "promises_kept": _("Promises kept"),
        "promise_kept_rate": _("Promise-kept rate"), "amount_due": _("Amount due"),
        "amount_received": _("Amount received"), "logged_in_s": _("Logged in"), "talk_s": _("Talking"),
        "wrap_up_s": _("Wrap-up"), "pause_s": _("Paused"), "wait_s": _("Waiting"), "dialing_s": _("Dialling"),
        "calls": _("Calls"), "calls_per_hour": _("Calls per hour"),
        "promises_per_working_hour": _("Promises per working hour"), "bucket": _("Age"),
        "invoices_at_start": _("Invoices at the start"), "open_at_start": _("Open at the start"),
        "invoices_at_end": _("Invoices at the end"), "open_at_end": _("Open at the end"), "change": _("Change"),
        "bucket_not_due": _("Not due"), "bucket_1-30": _("1–30 days"), "bucket_31-60": _("31–60 days"),
        "bucket_61-90": _("61–90 days"), "bucket_90+": _("90+ days"), "bucket_total": _("Total"),
    }


def column_label(column: str, cfg: Config | None = None) -> str:
    """A metric's heading; a pause code's column is named after the code's label."""
    if column.startswith("pause_") and column.endswith("_s") and column != "pause_s" and cfg is not None:
        code = column[len("pause_"):-2]
        found = next((c for c in cfg.pause_codes if c.code == code), None)
        return _("Paused: {code}").format(code=found.label(current_language.get()) if found else code)
    return _labels().get(column, column)


def duration(seconds: int) -> str:
    """Seconds as hours and minutes (3:05)."""
    minutes = round(seconds / 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def cell(column: str, value: Any, currency: str) -> str:
    """A report value as the table shows it."""
    if column == "agent":
        return value if value else _("Team")
    if column == "bucket":
        return column_label(f"bucket_{value}")
    if value is None:
        return "–"
    if column.endswith("_rate"):
        return percent(float(value))
    if column in AMOUNTS:
        return money(value, currency)
    if column.endswith("_s"):
        return duration(int(value))
    return number(value)
