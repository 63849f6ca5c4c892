"""The test team's configuration text: Amsterdam, weekday calling blocks 09:30–11:00 and 14:00–15:00."""

from __future__ import annotations

WEEKDAY_BLOCKS = """
[[blocks]]
days = ["mon", "tue", "wed", "thu", "fri"]
start = "09:30"
end = "11:00"
[[blocks]]
days = ["mon", "tue", "wed", "thu", "fri"]
start = "14:00"
end = "15:00"
"""


def team_toml(db_url: str, *, blocks: bool = True, extra: str = "") -> str:
    """A whole configuration file for the test team on `db_url`."""
    return f"""
[database]
url = "{db_url}"
[sip]
trunk = "127.0.0.1:5060"
caller_id = "+31201234567"
[team]
country = "NL"
timezone = "Europe/Amsterdam"
{WEEKDAY_BLOCKS if blocks else ""}
{extra}
"""
