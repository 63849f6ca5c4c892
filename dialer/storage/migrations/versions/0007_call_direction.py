"""Incoming calls in the call log: each attempt says which way it went.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 18:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('direction', sa.String(length=3), server_default='out', nullable=False))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_column('direction')
