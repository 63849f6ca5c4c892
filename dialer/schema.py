"""Every table of Belblok in one metadata (what Alembic migrates and tests compare)."""

from __future__ import annotations

from . import (  # noqa: F401  (registers the tables)
    accounts, blockmodel, callbacks, casework, claimmodel, correspondence, dossierstats, ledger, parties,
    presence, recordingmodel, tasks, wrapuprecord,
)
from .models import Base

metadata = Base.metadata
