"""Dossiers: debtors, contacts, phones, invoices, payments, complaints, agreements, notes, users, tokens.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:12:45.377930
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('debtors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('region', sa.String(length=16), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('customer_since', sa.Date(), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('do_not_call', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('written_only', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('insolvent', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('payment_day', sa.Integer(), nullable=True),
    sa.Column('income_note', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('policy', sa.String(length=64), nullable=True),
    sa.Column('priority_boost', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debtors')),
    sa.UniqueConstraint('ref', name=op.f('uq_debtors_ref'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('agent_line', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('name', name=op.f('uq_users_name'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_api_tokens_token_sha256'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('complaints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('resolved_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_complaints_debtor_id_debtors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints'))
    )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaints_debtor_id'), ['debtor_id'], unique=False)

    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_contacts_debtor_id_debtors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('debtor_id', 'name', name=op.f('uq_contacts_debtor_id_name'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_debtor_id'), ['debtor_id'], unique=False)

    op.create_table('invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('open_amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('delivered_on', sa.Date(), nullable=True),
    sa.Column('delivery_method', sa.String(length=64), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_invoices_debtor_id_debtors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('debtor_id', 'number', name=op.f('uq_invoices_debtor_id_number'))
    )
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoices_debtor_id_due_date'), ['debtor_id', 'due_date'], unique=False)

    op.create_table('notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=64), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_notes_attempt_id_attempts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_notes_debtor_id_debtors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notes'))
    )
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notes_debtor_id'), ['debtor_id'], unique=False)

    op.create_table('agreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('conditional_on_complaint_id', sa.Integer(), nullable=True),
    sa.Column('attempt_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('agent', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_agreements_attempt_id_attempts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conditional_on_complaint_id'], ['complaints.id'], name=op.f('fk_agreements_conditional_on_complaint_id_complaints'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_agreements_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_agreements_debtor_id_debtors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_agreements_invoice_id_invoices'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreements'))
    )
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreements_debtor_id'), ['debtor_id'], unique=False)

    op.create_table('complaint_invoices',
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_complaint_invoices_complaint_id_complaints'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_complaint_invoices_invoice_id_invoices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('complaint_id', 'invoice_id', name=op.f('pk_complaint_invoices'))
    )
    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=128), nullable=False),
    sa.Column('natural_key', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_payments_debtor_id_debtors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_payments_invoice_id_invoices'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('natural_key', name=op.f('uq_payments_natural_key'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_debtor_id_date'), ['debtor_id', 'date'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('phones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('label', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('refuses_anonymous', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_phones_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phones')),
    sa.UniqueConstraint('contact_id', 'number', name=op.f('uq_phones_contact_id_number'))
    )
    with op.batch_alter_table('phones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phones_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_phones_number'), ['number'], unique=False)

    op.create_table('instalments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_instalments_agreement_id_agreements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instalments'))
    )
    with op.batch_alter_table('instalments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instalments_agreement_id'), ['agreement_id'], unique=False)



def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('instalments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instalments_agreement_id'))

    op.drop_table('instalments')
    with op.batch_alter_table('phones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_phones_number'))
        batch_op.drop_index(batch_op.f('ix_phones_contact_id'))

    op.drop_table('phones')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_payments_debtor_id_date'))

    op.drop_table('payments')
    op.drop_table('complaint_invoices')
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreements_debtor_id'))

    op.drop_table('agreements')
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notes_debtor_id'))

    op.drop_table('notes')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoices_debtor_id_due_date'))

    op.drop_table('invoices')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_debtor_id'))

    op.drop_table('contacts')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaints_debtor_id'))

    op.drop_table('complaints')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_table('debtors')
