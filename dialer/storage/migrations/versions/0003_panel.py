"""The panel: login sessions, call-backs, tasks, sent e-mail.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:15:46.804943
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('login_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_login_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_sessions')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_login_sessions_token_sha256'))
    )
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('callbacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=True),
    sa.Column('moved_reason', sa.String(length=255), nullable=True),
    sa.Column('agent', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('agreement_id', sa.Integer(), nullable=True),
    sa.Column('source_attempt_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('reminded_at', sa.DateTime(), nullable=True),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_callbacks_agreement_id_agreements'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_callbacks_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_callbacks_debtor_id_debtors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_attempt_id'], ['attempts.id'], name=op.f('fk_callbacks_source_attempt_id_attempts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callbacks'))
    )
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callbacks_debtor_id'), ['debtor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_callbacks_status_due_at'), ['status', 'due_at'], unique=False)

    op.create_table('emails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=True),
    sa.Column('agreement_id', sa.Integer(), nullable=True),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_emails_agreement_id_agreements'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_emails_debtor_id_debtors'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emails'))
    )
    with op.batch_alter_table('emails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_emails_debtor_id'), ['debtor_id'], unique=False)

    op.create_table('tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=True),
    sa.Column('agent', sa.String(length=64), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=True),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('agreement_id', sa.Integer(), nullable=True),
    sa.Column('attempt_id', sa.Integer(), nullable=True),
    sa.Column('decision', sa.String(length=64), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_tasks_agreement_id_agreements'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_tasks_attempt_id_attempts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_tasks_debtor_id_debtors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tasks_debtor_id'), ['debtor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_status_kind'), ['status', 'kind'], unique=False)



def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tasks_status_kind'))
        batch_op.drop_index(batch_op.f('ix_tasks_debtor_id'))

    op.drop_table('tasks')
    with op.batch_alter_table('emails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_emails_debtor_id'))

    op.drop_table('emails')
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callbacks_status_due_at'))
        batch_op.drop_index(batch_op.f('ix_callbacks_debtor_id'))

    op.drop_table('callbacks')
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_sessions_user_id'))

    op.drop_table('login_sessions')
