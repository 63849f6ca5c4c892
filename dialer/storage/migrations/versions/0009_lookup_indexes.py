"""Indexes for two lookups that scanned: a promise's calls (the sweep) and a dossier's latest calls.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 19:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callbacks_agreement_id'), ['agreement_id'], unique=False)
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.create_index('ix_attempts_debtor_ref_id', ['debtor_ref', 'id'], unique=False)
        batch_op.drop_index('ix_attempts_debtor_ref')  # covered by the new one


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.create_index('ix_attempts_debtor_ref', ['debtor_ref'], unique=False)
        batch_op.drop_index('ix_attempts_debtor_ref_id')
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callbacks_agreement_id'))
