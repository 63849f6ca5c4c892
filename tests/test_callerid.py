"""Caller-ID presentation: shown, or withheld with the real number only in P-Asserted-Identity."""

from __future__ import annotations

import pytest

from softphone.callerid import ANONYMOUS_FROM, CallerIdError, present


def test_presented_id_is_in_from_and_pai() -> None:
    shown = present("+31201234567", "trunk.example", withhold=False)
    assert shown.from_uri == "<sip:+31201234567@trunk.example>"
    assert dict(shown.headers) == {"P-Asserted-Identity": "<sip:+31201234567@trunk.example>"}
    assert not shown.withheld


def test_withheld_id_is_anonymous_with_privacy_and_the_real_pai() -> None:
    hidden = present("+31201234567", "trunk.example", withhold=True)
    assert hidden.from_uri == ANONYMOUS_FROM
    assert dict(hidden.headers) == {"P-Asserted-Identity": "<sip:+31201234567@trunk.example>", "Privacy": "id"}
    assert hidden.withheld


@pytest.mark.parametrize("bad", ["0201234567", "+0201234567", "+31 20 1234567", "", "anonymous"])
def test_only_e164_caller_ids_are_accepted(bad: str) -> None:
    with pytest.raises(CallerIdError):
        present(bad, "trunk.example", withhold=False)
