"""Calls: the bridge to the softphone workers (`telephony`), the agent's desk, incoming and team-line calls."""
