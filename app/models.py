"""SQLAlchemy 2 typed models. The schema itself comes only from Alembic migrations.

The seat invariant lives in `seat_claims`: one row per taken seat, unique on (flight_id, seat). A
live hold or a confirmed booking owns the row; cancelling or expiring deletes it. Two requests
racing for a seat both try to insert the row and the database lets exactly one of them win.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both PostgreSQL and SQLite (which has no time zones)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    hashed_password: Mapped[str] = mapped_column(sa.String(200))
    is_admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Flight(Base):
    __tablename__ = "flights"
    __table_args__ = (
        sa.CheckConstraint("arrival_at > departure_at", name="arrival_after_departure"),
        sa.CheckConstraint("seat_rows > 0", name="positive_rows"),
        sa.CheckConstraint("fare >= 0", name="non_negative_fare"),
        sa.Index("ix_flights_route_departure", "origin", "destination", "departure_at"),
        # One flight number departs at most once at a given time (migration 0002).
        sa.Index("uq_flights_number_departure", "number", "departure_at", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(8))
    origin: Mapped[str] = mapped_column(sa.String(3))
    destination: Mapped[str] = mapped_column(sa.String(3))
    departure_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    arrival_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seat_rows: Mapped[int]
    seat_letters: Mapped[str] = mapped_column(sa.String(10))
    fare: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # 'scheduled' or 'cancelled' (by an admin: its holds released, its bookings cancelled).
    status: Mapped[str] = mapped_column(sa.String(16), default="scheduled", server_default="scheduled")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def seat_labels(self) -> list[str]:
        return seat_labels(self.seat_rows, self.seat_letters)


def seat_labels(rows: int, letters: str) -> list[str]:
    return [f"{row}{letter}" for row in range(1, rows + 1) for letter in letters]


class Hold(Base):
    __tablename__ = "holds"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    flight_id: Mapped[int] = mapped_column(sa.ForeignKey("flights.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    seats: Mapped[str] = mapped_column(sa.String(200))  # comma-separated, for the record
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def seat_list(self) -> list[str]:
        return self.seats.split(",") if self.seats else []


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        # A retried request with the same key finds the first booking instead of making a second.
        sa.UniqueConstraint("user_id", "idempotency_key", name="uq_bookings_user_idempotency_key"),
        sa.CheckConstraint("status IN ('confirmed', 'cancelled')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(8), unique=True)
    # No index of its own: uq_bookings_user_idempotency_key leads with user_id (migration 0002).
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    flight_id: Mapped[int] = mapped_column(sa.ForeignKey("flights.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="confirmed")
    total_fare: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255))
    request_hash: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who cancelled: 'customer' (or the admin for them) or 'airline' (the flight was cancelled).
    # The status column keeps 'cancelled' either way, so the previous release still reads it.
    cancelled_by: Mapped[str | None] = mapped_column(sa.String(16))

    @property
    def api_status(self) -> str:
        if self.status == "cancelled" and self.cancelled_by == "airline":
            return "cancelled_by_airline"
        return self.status

    passengers: Mapped[list[Passenger]] = relationship(
        back_populates="booking", order_by="Passenger.id", lazy="selectin", cascade="all, delete-orphan"
    )


class Passenger(Base):
    __tablename__ = "passengers"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    seat: Mapped[str] = mapped_column(sa.String(4))
    name: Mapped[str] = mapped_column(sa.String(200))

    booking: Mapped[Booking] = relationship(back_populates="passengers")


class SeatClaim(Base):
    __tablename__ = "seat_claims"
    __table_args__ = (
        sa.UniqueConstraint("flight_id", "seat", name="uq_seat_claims_flight_seat"),
        sa.CheckConstraint(
            "(hold_id IS NULL AND booking_id IS NOT NULL AND expires_at IS NULL)"
            " OR (hold_id IS NOT NULL AND booking_id IS NULL AND expires_at IS NOT NULL)",
            name="owned_by_hold_or_booking",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    flight_id: Mapped[int] = mapped_column(sa.ForeignKey("flights.id", ondelete="CASCADE"))
    seat: Mapped[str] = mapped_column(sa.String(4))
    hold_id: Mapped[str | None] = mapped_column(sa.ForeignKey("holds.id", ondelete="CASCADE"), index=True)
    booking_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
