"""drop the redundant ix_bookings_user_id

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

uq_bookings_user_idempotency_key (user_id, idempotency_key) already serves every lookup by user_id.
On a freshly migrated, not yet ANALYZEd database the planner picked the single-column index for the
idempotency lookup and filtered on the key, reading every booking of the user. Dropping an index is
not a contract step: the previous release issues the same queries and only the plan changes.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bookings_user_id'))


def downgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_user_id'), ['user_id'], unique=False)
