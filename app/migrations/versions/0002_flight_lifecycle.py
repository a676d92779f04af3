"""expand: flight status and cancellation, who cancelled a booking, unique (number, departure_at)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

Expand only, so the previous release keeps working during the rolling deployment:
- flights.status (NOT NULL with server default 'scheduled': the previous release's inserts get it)
  and flights.cancelled_at (nullable);
- bookings.cancelled_by (nullable): an airline cancellation stores status 'cancelled' plus
  cancelled_by 'airline', so the previous release still reads such a booking as 'cancelled' (its
  status column and check constraint are unchanged); the API shows it as 'cancelled_by_airline';
- a unique index on flights (number, departure_at). Existing duplicates would make it fail half-way,
  so they are looked for first and named in the error.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    duplicates = op.get_bind().execute(
        sa.text(
            "SELECT number, departure_at, count(*) FROM flights"
            " GROUP BY number, departure_at HAVING count(*) > 1 ORDER BY number"
        )
    ).all()
    if duplicates:
        listed = ", ".join(f"{n} at {d} ({c} rows)" for n, d, c in duplicates[:10])
        raise RuntimeError(
            "flights (number, departure_at) must be unique before migration 0002; "
            f"merge or re-time these first: {listed}"
        )

    op.add_column(
        'flights', sa.Column('status', sa.String(length=16), nullable=False, server_default='scheduled')
    )
    op.add_column('flights', sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('bookings', sa.Column('cancelled_by', sa.String(length=16), nullable=True))
    op.create_index(
        'uq_flights_number_departure', 'flights', ['number', 'departure_at'], unique=True
    )


def downgrade() -> None:
    op.drop_index('uq_flights_number_departure', table_name='flights')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('cancelled_by')
    with op.batch_alter_table('flights', schema=None) as batch_op:
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('status')
