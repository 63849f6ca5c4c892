"""Create the attempts table: the call log.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create attempts and its indexes."""
    # Written out rather than imported from dialer.models: a migration is a
    # frozen record of the schema at this revision.
    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("debtor_ref", sa.String(length=64), nullable=True),
        sa.Column("contact_ref", sa.String(length=64), nullable=True),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("caller_id", sa.String(length=32), nullable=False),
        sa.Column(
            "caller_id_withheld", sa.Boolean(), server_default=sa.false(), nullable=False
        ),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("ringing_at", sa.DateTime(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("sip_code", sa.Integer(), nullable=True),
        sa.Column("sip_reason", sa.String(length=128), nullable=True),
        sa.Column("sip_code_source", sa.String(length=8), nullable=True),
        sa.Column("recording_path", sa.String(length=512), nullable=True),
        sa.Column("worker", sa.String(length=64), nullable=True),
        sa.Column("sip_call_id", sa.String(length=128), nullable=True),
        sa.Column("coordinator", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempts")),
    )
    op.create_index("ix_attempts_state", "attempts", ["state"])
    op.create_index("ix_attempts_number_created_at", "attempts", ["number", "created_at"])
    op.create_index("ix_attempts_debtor_ref", "attempts", ["debtor_ref"])


def downgrade() -> None:
    """Drop attempts and its indexes."""
    op.drop_index("ix_attempts_debtor_ref", table_name="attempts")
    op.drop_index("ix_attempts_number_created_at", table_name="attempts")
    op.drop_index("ix_attempts_state", table_name="attempts")
    op.drop_table("attempts")
