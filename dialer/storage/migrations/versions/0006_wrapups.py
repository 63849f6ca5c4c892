"""Wrap-ups as data: the agreement's discount and invoices, and the outcome of each wrap-up.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 17:49:19.061161
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discount_pct', sa.Numeric(precision=5, scale=2), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_agreements_attempt_id'), ['attempt_id'], unique=False)

    op.create_table('agreement_invoices',
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_agreement_invoices_agreement_id_agreements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_agreement_invoices_invoice_id_invoices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('agreement_id', 'invoice_id', name=op.f('pk_agreement_invoices'))
    )
    with op.batch_alter_table('agreement_invoices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_invoices_invoice_id'), ['invoice_id'], unique=False)

    # An agreement saved before this revision names its invoice only when it covered exactly one: keep that one.
    op.execute('INSERT INTO agreement_invoices (agreement_id, invoice_id) '
               'SELECT id, invoice_id FROM agreements WHERE invoice_id IS NOT NULL')

    op.create_table('wrapups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=True),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('agent', sa.String(length=64), nullable=True),
    sa.Column('outcome', sa.String(length=24), nullable=False),
    sa.Column('escalation', sa.String(length=24), nullable=True),
    sa.Column('agreement_id', sa.Integer(), nullable=True),
    sa.Column('callback_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_wrapups_agreement_id_agreements'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_wrapups_attempt_id_attempts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['callback_id'], ['callbacks.id'], name=op.f('fk_wrapups_callback_id_callbacks'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_wrapups_debtor_id_debtors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wrapups'))
    )
    with op.batch_alter_table('wrapups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wrapups_attempt_id'), ['attempt_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_wrapups_debtor_id'), ['debtor_id'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('wrapups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wrapups_debtor_id'))
        batch_op.drop_index(batch_op.f('ix_wrapups_attempt_id'))

    op.drop_table('wrapups')
    with op.batch_alter_table('agreement_invoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_invoices_invoice_id'))

    op.drop_table('agreement_invoices')
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreements_attempt_id'))
        batch_op.drop_column('discount_pct')
