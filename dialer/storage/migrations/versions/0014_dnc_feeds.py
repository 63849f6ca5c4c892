"""The team's do-not-call list; calendar feed addresses revoked per agent.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('dnc_numbers',
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=255), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_dnc_numbers'))
    )
    op.create_table('feed_keys',
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('agent', name=op.f('pk_feed_keys'))
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('feed_keys')
    op.drop_table('dnc_numbers')
