"""Every table of Belblok in one metadata (what Alembic migrates and tests compare)."""

from __future__ import annotations

# Imported for their side effect: each module declares its tables on Base.metadata.
from .accounts import models as _accounts  # noqa: F401
from .blocks import model as _blocks  # noqa: F401
from .calllog import monitoring as _monitoring  # noqa: F401
from .dossiers import callbacks as _callbacks  # noqa: F401
from .dossiers import casework as _casework  # noqa: F401
from .dossiers import correspondence as _correspondence  # noqa: F401
from .dossiers import donotcall as _donotcall  # noqa: F401
from .dossiers import ledger as _ledger  # noqa: F401
from .dossiers import parties as _parties  # noqa: F401
from .dossiers import stats as _stats  # noqa: F401
from .dossiers import tasks as _tasks  # noqa: F401
from .dossiers import unmatched as _unmatched  # noqa: F401
from .dossiers import wrapups as _wrapups  # noqa: F401
from .live import floor as _floor  # noqa: F401
from .live import presence as _presence  # noqa: F401
from .queue import claimmodel as _claims  # noqa: F401
from .recordings import model as _recordings  # noqa: F401
from .reports import daily as _daily  # noqa: F401
from .scheduling import feedkeys as _feedkeys  # noqa: F401
from .storage import daybook as _daybook  # noqa: F401
from .storage.base import Base

metadata = Base.metadata
