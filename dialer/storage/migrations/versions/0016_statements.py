"""Bank statements and e-invoices: unmatched credits, credit notes, debtors' IBAN and tax numbers, payment references.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | Sequence[str] | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('unmatched_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('natural_key', sa.String(length=255), nullable=False),
    sa.Column('account', sa.String(length=34), nullable=False),
    sa.Column('booked_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('counter_iban', sa.String(length=34), nullable=True),
    sa.Column('counter_name', sa.String(length=200), nullable=True),
    sa.Column('reference', sa.String(length=64), nullable=True),
    sa.Column('remittance', sa.Text(), nullable=True),
    sa.Column('entry_ref', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('source', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_unmatched_payments_debtor_id_debtors'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unmatched_payments')),
    sa.UniqueConstraint('natural_key', name=op.f('uq_unmatched_payments_natural_key'))
    )
    with op.batch_alter_table('unmatched_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unmatched_payments_debtor_id'), ['debtor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unmatched_payments_status_booked_on'), ['status', 'booked_on'], unique=False)

    op.create_table('credit_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_credit_notes_debtor_id_debtors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_credit_notes_invoice_id_invoices'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_notes')),
    sa.UniqueConstraint('debtor_id', 'number', name=op.f('uq_credit_notes_debtor_id_number'))
    )
    with op.batch_alter_table('credit_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_notes_invoice_id'), ['invoice_id'], unique=False)

    with op.batch_alter_table('debtors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('iban', sa.String(length=34), nullable=True))
        batch_op.add_column(sa.Column('vat_number', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('company_number', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_debtors_iban'), ['iban'], unique=False)
        batch_op.create_index(batch_op.f('ix_debtors_vat_number'), ['vat_number'], unique=False)

    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_reference', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_invoices_payment_reference'), ['payment_reference'], unique=False)



def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoices_payment_reference'))
        batch_op.drop_column('payment_reference')

    with op.batch_alter_table('debtors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_debtors_vat_number'))
        batch_op.drop_index(batch_op.f('ix_debtors_iban'))
        batch_op.drop_column('company_number')
        batch_op.drop_column('vat_number')
        batch_op.drop_column('iban')

    with op.batch_alter_table('credit_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_notes_invoice_id'))

    op.drop_table('credit_notes')
    with op.batch_alter_table('unmatched_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unmatched_payments_status_booked_on'))
        batch_op.drop_index(batch_op.f('ix_unmatched_payments_debtor_id'))

    op.drop_table('unmatched_payments')
