"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22

Users, flights, holds, bookings, passengers, and seat_claims: one row per taken seat, unique on
(flight_id, seat), which is how the database enforces that a seat is held or booked at most once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('flights',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=8), nullable=False),
    sa.Column('origin', sa.String(length=3), nullable=False),
    sa.Column('destination', sa.String(length=3), nullable=False),
    sa.Column('departure_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('arrival_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seat_rows', sa.Integer(), nullable=False),
    sa.Column('seat_letters', sa.String(length=10), nullable=False),
    sa.Column('fare', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('arrival_at > departure_at', name=op.f('ck_flights_arrival_after_departure')),
    sa.CheckConstraint('fare >= 0', name=op.f('ck_flights_non_negative_fare')),
    sa.CheckConstraint('seat_rows > 0', name=op.f('ck_flights_positive_rows')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flights'))
    )
    with op.batch_alter_table('flights', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flights_departure_at'), ['departure_at'], unique=False)
        batch_op.create_index('ix_flights_route_departure', ['origin', 'destination', 'departure_at'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('hashed_password', sa.String(length=200), nullable=False),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=8), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('flight_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total_fare', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=True),
    sa.Column('request_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('confirmed', 'cancelled')", name=op.f('ck_bookings_status_known')),
    sa.ForeignKeyConstraint(['flight_id'], ['flights.id'], name=op.f('fk_bookings_flight_id_flights'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_bookings_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings')),
    sa.UniqueConstraint('reference', name=op.f('uq_bookings_reference')),
    sa.UniqueConstraint('user_id', 'idempotency_key', name='uq_bookings_user_idempotency_key')
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_flight_id'), ['flight_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_user_id'), ['user_id'], unique=False)

    op.create_table('holds',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('flight_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('seats', sa.String(length=200), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['flight_id'], ['flights.id'], name=op.f('fk_holds_flight_id_flights'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_holds_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holds'))
    )
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_holds_flight_id'), ['flight_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_holds_user_id'), ['user_id'], unique=False)

    op.create_table('passengers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('seat', sa.String(length=4), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_passengers_booking_id_bookings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_passengers'))
    )
    with op.batch_alter_table('passengers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_passengers_booking_id'), ['booking_id'], unique=False)

    op.create_table('seat_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flight_id', sa.Integer(), nullable=False),
    sa.Column('seat', sa.String(length=4), nullable=False),
    sa.Column('hold_id', sa.String(length=36), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(hold_id IS NULL AND booking_id IS NOT NULL AND expires_at IS NULL) OR (hold_id IS NOT NULL AND booking_id IS NULL AND expires_at IS NOT NULL)', name=op.f('ck_seat_claims_owned_by_hold_or_booking')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_seat_claims_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['flight_id'], ['flights.id'], name=op.f('fk_seat_claims_flight_id_flights'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['hold_id'], ['holds.id'], name=op.f('fk_seat_claims_hold_id_holds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seat_claims')),
    sa.UniqueConstraint('flight_id', 'seat', name='uq_seat_claims_flight_seat')
    )
    with op.batch_alter_table('seat_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seat_claims_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_seat_claims_hold_id'), ['hold_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('seat_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seat_claims_hold_id'))
        batch_op.drop_index(batch_op.f('ix_seat_claims_booking_id'))

    op.drop_table('seat_claims')
    with op.batch_alter_table('passengers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_passengers_booking_id'))

    op.drop_table('passengers')
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_holds_user_id'))
        batch_op.drop_index(batch_op.f('ix_holds_flight_id'))

    op.drop_table('holds')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bookings_user_id'))
        batch_op.drop_index(batch_op.f('ix_bookings_flight_id'))

    op.drop_table('bookings')
    op.drop_table('users')
    with op.batch_alter_table('flights', schema=None) as batch_op:
        batch_op.drop_index('ix_flights_route_departure')
        batch_op.drop_index(batch_op.f('ix_flights_departure_at'))

    op.drop_table('flights')

