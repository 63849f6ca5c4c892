"""Caller-ID presentation: the From and identity headers of one outgoing INVITE."""

from __future__ import annotations

import re
from dataclasses import dataclass

# RFC 3323 §4.1.1.3: the anonymous From that reveals nothing.
ANONYMOUS_FROM = '"Anonymous" <sip:anonymous@anonymous.invalid>'

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class CallerIdError(ValueError):
    """The configured caller ID is not an E.164 number."""


@dataclass(frozen=True)
class Presentation:
    """From URI and extra headers that present (or withhold) the caller ID."""

    from_uri: str
    headers: tuple[tuple[str, str], ...]
    withheld: bool


def present(caller_id: str, trunk_host: str, *, withhold: bool) -> Presentation:
    """Build the presentation for one call; never any number but `caller_id`."""
    if not _E164.match(caller_id):
        raise CallerIdError(f"caller ID {caller_id!r} is not an E.164 number like +31201234567")
    own = f"<sip:{caller_id}@{trunk_host}>"
    # RFC 3325: the trunk learns the real number from P-Asserted-Identity in
    # both cases; Privacy: id (RFC 3323) asks it not to pass it on.
    if withhold:
        return Presentation(ANONYMOUS_FROM, (("P-Asserted-Identity", own), ("Privacy", "id")), True)
    return Presentation(own, (("P-Asserted-Identity", own),), False)
