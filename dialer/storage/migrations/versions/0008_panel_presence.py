"""Panel presence shared between coordinators (heartbeats), so call-backs are released only when nobody has the panel open.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 19:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('panel_presence',
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('node', sa.String(length=128), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('agent', 'node', name=op.f('pk_panel_presence'))
    )
    with op.batch_alter_table('panel_presence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_panel_presence_seen_at'), ['seen_at'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('panel_presence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_panel_presence_seen_at'))
    op.drop_table('panel_presence')
