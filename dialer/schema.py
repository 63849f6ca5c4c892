"""Every table of Belblok in one metadata (what Alembic migrates and tests compare)."""

from __future__ import annotations

from . import accounts, callbacks, casework, correspondence, ledger, parties, tasks  # noqa: F401  (registers the tables)
from .models import Base

metadata = Base.metadata
