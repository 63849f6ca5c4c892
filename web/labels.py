"""Words that reach the templates as data (roles, kinds, statuses, outcomes), marked for translation."""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 (the gettext convention for "mark only")
    """Mark a message for extraction without translating it here."""
    return message


LABELS = (
    # user roles
    N_("agent"), N_("supervisor"), N_("admin"),
    # debtor kinds, contact roles, phone kinds
    N_("company"), N_("person"), N_("owner"), N_("credit_manager"), N_("bookkeeper"), N_("other"), N_("direct"),
    N_("switchboard"),
    # agreement, complaint and e-mail statuses
    N_("open"), N_("kept"), N_("broken"), N_("resolved"), N_("sent"), N_("failed"), N_("queued"),
    # call-back and task kinds
    N_("appointment"), N_("return"), N_("follow_up"), N_("escalation"), N_("written_reminder"),
    N_("collection_agency"), N_("send_invoice_copy"), N_("check_payment"), N_("coaching"),
    N_("return_call_overdue"),
    # call states and outcomes
    N_("dialing"), N_("ringing"), N_("answered"), N_("ended"), N_("busy"), N_("no_answer"), N_("declined"),
    N_("not_found"), N_("unavailable"), N_("anonymity_rejected"), N_("network_error"), N_("cancelled"),
    N_("interrupted"),
)
