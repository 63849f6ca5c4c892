"""Dossier statistics: a materialised priority per debtor, so the queue finds its head among a million fast."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Select,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.base import Base
from ..storage.columns import UTCDateTime
from .casework import Agreement, Complaint, complaint_invoices
from .dossier import LATE_WINDOW_DAYS, REPEAT_LATE_THRESHOLD
from .ledger import Invoice, Payment
from .parties import Contact, Debtor, Phone


class DossierStats(Base):
    """What the queue orders by, per debtor, as of `stats_day` (refreshed on import and payment, and nightly)."""

    __tablename__ = "dossier_stats"
    __table_args__ = (
        # WHERE eligible = ? ORDER BY boost, repeat_late, rank, debtor_id (all DESC): one backward index scan.
        Index("ix_dossier_stats_queue", "eligible", "boost", "repeat_late", "rank", "debtor_id"),
        Index(None, "promise_due"),
    )

    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), primary_key=True,
                                           autoincrement=False)
    open_cents: Mapped[int] = mapped_column(BigInteger, default=0)  # open on all invoices
    min_due: Mapped[date | None] = mapped_column(Date)  # earliest due date of an open invoice
    overdue_cents: Mapped[int] = mapped_column(BigInteger, default=0)  # overdue and not disputed
    disputed_cents: Mapped[int] = mapped_column(BigInteger, default=0)  # overdue under an open complaint
    max_days: Mapped[int] = mapped_column(Integer, default=0)  # days overdue of the oldest undisputed invoice
    rank: Mapped[int] = mapped_column(BigInteger, default=0)  # overdue_cents × max_days: open amount × days overdue
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # do not call, …
    has_number: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    eligible: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # not flagged, a number
    repeat_late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    boost: Mapped[int] = mapped_column(Integer, default=0)
    promise_due: Mapped[date | None] = mapped_column(Date)  # earliest due date of an open promise
    stats_day: Mapped[date] = mapped_column(Date)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime)

COLUMNS = ("debtor_id", "open_cents", "min_due", "overdue_cents", "disputed_cents", "max_days", "rank", "flagged",
           "has_number", "eligible", "repeat_late", "boost", "promise_due", "stats_day", "refreshed_at")


def stats_select(dialect: str, today: date, now: datetime, debtor_ids: Sequence[int] | None = None) -> Select[Any]:
    """The statistics computed from the dossier tables (one row per debtor), as of `today`."""
    inv, cin, com = Invoice.__table__, complaint_invoices, Complaint.__table__
    pay, agr, deb = Payment.__table__, Agreement.__table__, Debtor.__table__
    con, pho = Contact.__table__, Phone.__table__

    def only(column: Any) -> Any:
        return true() if debtor_ids is None else column.in_(list(debtor_ids))

    disputed = inv.c.id.in_(select(cin.c.invoice_id).join(com, com.c.id == cin.c.complaint_id)
                            .where(com.c.status == "open", only(com.c.debtor_id)))
    overdue = inv.c.due_date < today
    days = _days_between(dialect, today, inv.c.due_date)
    cents = type_coerce(inv.c.open_amount, BigInteger)  # Cents are stored as whole cents
    open_inv = (select(inv.c.debtor_id, func.sum(cents).label("open_cents"), func.min(inv.c.due_date).label("min_due"),
                       func.sum(case((and_(overdue, ~disputed), cents), else_=0)).label("overdue_cents"),
                       func.sum(case((and_(overdue, disputed), cents), else_=0)).label("disputed_cents"),
                       func.max(case((and_(overdue, ~disputed), days), else_=0)).label("max_days"))
                .where(inv.c.open_amount > 0, only(inv.c.debtor_id)).group_by(inv.c.debtor_id).subquery("o"))
    last_paid = (select(pay.c.invoice_id, func.max(pay.c.date).label("last_paid"))
                 .where(pay.c.invoice_id.is_not(None), only(pay.c.debtor_id)).group_by(pay.c.invoice_id).subquery("p"))
    late = (select(inv.c.debtor_id, func.count().label("late"))
            .select_from(inv.outerjoin(last_paid, last_paid.c.invoice_id == inv.c.id))
            .where(inv.c.due_date >= today - timedelta(days=LATE_WINDOW_DAYS), only(inv.c.debtor_id),
                   or_(and_(inv.c.open_amount > 0, overdue), last_paid.c.last_paid > inv.c.due_date))
            .group_by(inv.c.debtor_id).subquery("l"))
    broken = (select(agr.c.debtor_id).where(agr.c.status == "broken", only(agr.c.debtor_id))
              .group_by(agr.c.debtor_id).subquery("b"))
    promise = (select(agr.c.debtor_id, func.min(agr.c.due_date).label("promise_due"))
               .where(agr.c.status == "open", only(agr.c.debtor_id)).group_by(agr.c.debtor_id).subquery("pr"))
    numbered = (select(con.c.debtor_id).join(pho, pho.c.contact_id == con.c.id).where(only(con.c.debtor_id))
                .group_by(con.c.debtor_id).subquery("n"))

    overdue_cents = func.coalesce(open_inv.c.overdue_cents, 0)
    max_days = func.coalesce(open_inv.c.max_days, 0)
    flagged = or_(deb.c.do_not_call, deb.c.written_only, deb.c.insolvent)
    has_number = numbered.c.debtor_id.is_not(None)
    repeat = or_(func.coalesce(late.c.late, 0) >= REPEAT_LATE_THRESHOLD, broken.c.debtor_id.is_not(None))
    return (select(deb.c.id.label("debtor_id"),
                   func.coalesce(open_inv.c.open_cents, 0).label("open_cents"),
                   open_inv.c.min_due.label("min_due"),
                   overdue_cents.label("overdue_cents"),
                   func.coalesce(open_inv.c.disputed_cents, 0).label("disputed_cents"),
                   cast(max_days, Integer).label("max_days"),
                   cast(overdue_cents * max_days, BigInteger).label("rank"),
                   type_coerce(flagged, Boolean).label("flagged"),
                   type_coerce(has_number, Boolean).label("has_number"),
                   type_coerce(and_(~flagged, has_number), Boolean).label("eligible"),
                   type_coerce(repeat, Boolean).label("repeat_late"),
                   deb.c.priority_boost.label("boost"),
                   promise.c.promise_due.label("promise_due"),
                   literal(today, Date).label("stats_day"),
                   literal(now, UTCDateTime).label("refreshed_at"))
            .select_from(deb.outerjoin(open_inv, open_inv.c.debtor_id == deb.c.id)
                         .outerjoin(late, late.c.debtor_id == deb.c.id)
                         .outerjoin(broken, broken.c.debtor_id == deb.c.id)
                         .outerjoin(promise, promise.c.debtor_id == deb.c.id)
                         .outerjoin(numbered, numbered.c.debtor_id == deb.c.id))
            .where(only(deb.c.id)))


def refresh_stats(connection: Connection, today: date, now: datetime,
                  debtor_ids: Sequence[int] | None = None) -> int:
    """Recompute the statistics of some debtors (None: all) in the caller's transaction; rows written."""
    dialect = connection.dialect.name
    source = stats_select(dialect, today, now, debtor_ids)
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = DossierStats.__table__
    statement = insert(table).from_select(list(COLUMNS), source)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.debtor_id],
        set_={name: statement.excluded[name] for name in COLUMNS if name != "debtor_id"})
    result = connection.execute(statement.execution_options(preserve_rowcount=True))
    return int(result.rowcount)


def _days_between(dialect: str, today: date, earlier: Any) -> Any:
    """Whole days from `earlier` (a date column) to `today`."""
    if dialect == "postgresql":
        return cast(literal(today, Date) - earlier, Integer)
    return cast(func.julianday(literal(today.isoformat())) - func.julianday(earlier), Integer)
