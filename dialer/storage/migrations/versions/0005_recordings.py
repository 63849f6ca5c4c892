"""Recordings: files, bookmarks, access log, reviews, purge log.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 15:36:48.556584
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('purge_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recording_id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=512), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purge_log'))
    )
    op.create_table('bookmarks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('offset_s', sa.Float(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('label', sa.String(length=255), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_bookmarks_attempt_id_attempts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookmarks'))
    )
    with op.batch_alter_table('bookmarks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookmarks_attempt_id'), ['attempt_id'], unique=False)

    op.create_table('recordings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('debtor_ref', sa.String(length=64), nullable=True),
    sa.Column('agent', sa.String(length=64), nullable=True),
    sa.Column('number', sa.String(length=32), nullable=True),
    sa.Column('outcome', sa.String(length=24), nullable=True),
    sa.Column('caller_id_withheld', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source_path', sa.String(length=512), nullable=False),
    sa.Column('path', sa.String(length=512), nullable=True),
    sa.Column('format', sa.String(length=8), nullable=True),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('silences', sa.JSON(), nullable=True),
    sa.Column('talk_agent_s', sa.Float(), nullable=True),
    sa.Column('talk_debtor_s', sa.Float(), nullable=True),
    sa.Column('waveform', sa.JSON(), nullable=True),
    sa.Column('flags', sa.JSON(), nullable=True),
    sa.Column('legal_hold', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('processed_at', sa.DateTime(), nullable=True),
    sa.Column('purged_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_recordings_agreement_id_agreements'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_recordings_attempt_id_attempts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recordings')),
    sa.UniqueConstraint('attempt_id', name=op.f('uq_recordings_attempt_id'))
    )
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recordings_agent_created_at'), ['agent', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_recordings_debtor_ref'), ['debtor_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_recordings_status'), ['status'], unique=False)

    op.create_table('recording_access',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recording_id', sa.Integer(), nullable=False),
    sa.Column('user', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], name=op.f('fk_recording_access_recording_id_recordings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recording_access'))
    )
    with op.batch_alter_table('recording_access', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recording_access_recording_id'), ['recording_id'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recording_id', sa.Integer(), nullable=False),
    sa.Column('reviewer', sa.String(length=64), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], name=op.f('fk_reviews_recording_id_recordings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_reviews_task_id_tasks'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_recording_id'), ['recording_id'], unique=False)



def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_recording_id'))

    op.drop_table('reviews')
    with op.batch_alter_table('recording_access', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recording_access_recording_id'))

    op.drop_table('recording_access')
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recordings_status'))
        batch_op.drop_index(batch_op.f('ix_recordings_debtor_ref'))
        batch_op.drop_index(batch_op.f('ix_recordings_agent_created_at'))

    op.drop_table('recordings')
    with op.batch_alter_table('bookmarks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bookmarks_attempt_id'))

    op.drop_table('bookmarks')
    op.drop_table('purge_log')
