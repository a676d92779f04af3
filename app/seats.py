"""Claiming and releasing seats. The unique (flight_id, seat) constraint on seat_claims is what
guarantees a seat is never held or booked twice; the checks here only produce friendlier errors."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import Flight, SeatClaim


class SeatUnavailable(Exception):
    def __init__(self, seats: Iterable[str]) -> None:
        self.seats = sorted(seats, key=seat_sort_key)
        super().__init__(f"seats not available: {', '.join(self.seats) or 'unknown'}")


def seat_sort_key(seat: str) -> tuple[int, str]:
    return int(seat[:-1]), seat[-1]


def ensure_not_departed(flight: Flight, now: datetime) -> None:
    if flight.departure_at <= now:
        raise FlightDeparted(flight.number)


class FlightDeparted(Exception):
    pass


def invalid_seats(flight: Flight, seats: Iterable[str]) -> list[str]:
    valid = set(flight.seat_labels())
    return [s for s in seats if s not in valid]


def live_claim(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(SeatClaim.expires_at.is_(None), SeatClaim.expires_at > now)


def taken_seats(
    session: Session, flight_id: int, now: datetime, seats: Iterable[str] | None = None
) -> set[str]:
    query = sa.select(SeatClaim.seat).where(SeatClaim.flight_id == flight_id, live_claim(now))
    if seats is not None:
        query = query.where(SeatClaim.seat.in_(list(seats)))
    return set(session.scalars(query))


def claim(
    session: Session,
    flight_id: int,
    seats: list[str],
    now: datetime,
    *,
    hold_id: str | None = None,
    booking_id: int | None = None,
    expires_at: datetime | None = None,
) -> None:
    """Insert one claim per seat in the caller's transaction, after sweeping expired claims on them.

    Raises SeatUnavailable when a seat is visibly taken; a concurrent winner shows up instead as an
    IntegrityError at flush/commit, which callers turn into the same 409.
    """
    session.execute(
        sa.delete(SeatClaim).where(
            SeatClaim.flight_id == flight_id,
            SeatClaim.seat.in_(seats),
            SeatClaim.expires_at.is_not(None),
            SeatClaim.expires_at <= now,
        )
    )
    taken = taken_seats(session, flight_id, now, seats)
    if taken:
        raise SeatUnavailable(taken)
    session.execute(
        sa.insert(SeatClaim),
        [
            {
                "flight_id": flight_id,
                "seat": s,
                "hold_id": hold_id,
                "booking_id": booking_id,
                "expires_at": expires_at,
            }
            for s in seats
        ],
    )


def unavailable_detail(
    session: Session,
    flight_id: int,
    now: datetime,
    seats: list[str],
    exc: SeatUnavailable | sa.exc.IntegrityError,
) -> str:
    """The 409 detail after `claim` failed with `exc` (the session already rolled back).

    A concurrent winner (IntegrityError) is looked up again so the message names the seats it took.
    """
    taken = (
        exc.seats
        if isinstance(exc, SeatUnavailable)
        else sorted(taken_seats(session, flight_id, now, seats), key=seat_sort_key)
    )
    return f"seats not available: {', '.join(taken) or ', '.join(seats)}"
