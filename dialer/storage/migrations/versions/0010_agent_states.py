"""Agent states on the floor (each agent's state now, every state's interval) and the daily summary's days.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 23:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('agent_states',
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=True),
    sa.Column('since', sa.DateTime(), nullable=False),
    sa.Column('debtor_ref', sa.String(length=64), nullable=True),
    sa.Column('attempt_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('agent', name=op.f('pk_agent_states'))
    )
    op.create_table('agent_state_intervals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_state_intervals'))
    )
    op.create_table('report_mails',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('node', sa.String(length=128), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_report_mails'))
    )
    with op.batch_alter_table('agent_state_intervals', schema=None) as batch_op:
        batch_op.create_index('ix_agent_state_intervals_agent_started', ['agent', 'started_at'], unique=False)
        batch_op.create_index('ix_agent_state_intervals_started', ['started_at'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('agent_state_intervals', schema=None) as batch_op:
        batch_op.drop_index('ix_agent_state_intervals_started')
        batch_op.drop_index('ix_agent_state_intervals_agent_started')
    op.drop_table('agent_state_intervals')
    op.drop_table('report_mails')
    op.drop_table('agent_states')
