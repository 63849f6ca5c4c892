"""Belblok web: the aiohttp panel and JSON API (no business rules here)."""
