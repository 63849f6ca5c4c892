"""The queue: calling blocks, dossier claims (with each dossier's last call), dossier statistics.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:31:18.366932
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('calling_blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('days', sa.String(length=32), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=True),
    sa.Column('start', sa.String(length=5), nullable=False),
    sa.Column('end', sa.String(length=5), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calling_blocks'))
    )
    with op.batch_alter_table('calling_blocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calling_blocks_on_date'), ['on_date'], unique=False)

    op.create_table('dossier_claims',
    sa.Column('debtor_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('agent', sa.String(length=64), nullable=True),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('last_called_at', sa.DateTime(), nullable=True),
    sa.Column('last_outcome', sa.String(length=24), nullable=True),
    sa.Column('last_ended_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_dossier_claims_debtor_id_debtors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('debtor_id', name=op.f('pk_dossier_claims'))
    )
    with op.batch_alter_table('dossier_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_claims_agent'), ['agent'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossier_claims_last_ended_at'), ['last_ended_at'], unique=False)

    op.create_table('dossier_stats',
    sa.Column('debtor_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('open_cents', sa.BigInteger(), nullable=False),
    sa.Column('min_due', sa.Date(), nullable=True),
    sa.Column('overdue_cents', sa.BigInteger(), nullable=False),
    sa.Column('disputed_cents', sa.BigInteger(), nullable=False),
    sa.Column('max_days', sa.Integer(), nullable=False),
    sa.Column('rank', sa.BigInteger(), nullable=False),
    sa.Column('flagged', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('has_number', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('eligible', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('repeat_late', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('boost', sa.Integer(), nullable=False),
    sa.Column('promise_due', sa.Date(), nullable=True),
    sa.Column('stats_day', sa.Date(), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_dossier_stats_debtor_id_debtors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('debtor_id', name=op.f('pk_dossier_stats'))
    )
    with op.batch_alter_table('dossier_stats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_stats_promise_due'), ['promise_due'], unique=False)
        batch_op.create_index('ix_dossier_stats_queue', ['eligible', 'boost', 'repeat_late', 'rank', 'debtor_id'], unique=False)



def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('dossier_stats', schema=None) as batch_op:
        batch_op.drop_index('ix_dossier_stats_queue')
        batch_op.drop_index(batch_op.f('ix_dossier_stats_promise_due'))

    op.drop_table('dossier_stats')
    with op.batch_alter_table('dossier_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_claims_last_ended_at'))
        batch_op.drop_index(batch_op.f('ix_dossier_claims_agent'))

    op.drop_table('dossier_claims')
    with op.batch_alter_table('calling_blocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calling_blocks_on_date'))

    op.drop_table('calling_blocks')
