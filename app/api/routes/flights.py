from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated, Any

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from app.api.conditional import conditional_bytes, etag_for
from app.api.deps import AdminUser, FlightId, Limit, Offset, SessionDep
from app.core.asyncdb import AsyncDatabase
from app.core.coalesce import Coalescer
from app.core.hotstate import HOT_ERROR
from app.hotsql import SEAT_MAP
from app.models import Booking, Flight, Hold, SeatClaim, seat_labels, utcnow
from app.schemas import FlightCreate, FlightOut, FlightPage, FlightUpdate, SeatMap
from app.seats import invalid_seats, live_claim, seat_sort_key, taken_seats

router = APIRouter(prefix="/flights", tags=["flights"])


def flight_out(flight: Flight, taken: int) -> FlightOut:
    total = flight.seat_rows * len(flight.seat_letters)
    return FlightOut(
        id=flight.id,
        number=flight.number,
        origin=flight.origin,
        destination=flight.destination,
        departure_at=flight.departure_at,
        arrival_at=flight.arrival_at,
        rows=flight.seat_rows,
        seat_letters=flight.seat_letters,
        fare=flight.fare,
        seats_total=total,
        seats_available=0 if flight.status == "cancelled" else total - taken,
        status=flight.status,  # type: ignore[arg-type]
        cancelled_at=flight.cancelled_at,
    )


def get_flight_or_404(session: Session, flight_id: int, *, lock: str | None = None) -> Flight:
    """The flight, or 404. `lock="share"` (claiming seats) or `"update"` (changing the flight, its
    layout or status) locks its row on PostgreSQL, so a cancellation or layout change and a hold or
    booking on the same flight never interleave; SQLite already runs one writer at a time."""
    if lock is None:
        flight = session.get(Flight, flight_id)
    else:
        flight = session.get(
            Flight, flight_id, with_for_update={"read": lock == "share"}, populate_existing=True
        )
    if flight is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"flight {flight_id} not found")
    return flight


def ensure_open(flight: Flight) -> None:
    if flight.status == "cancelled":
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"flight {flight.number} is cancelled")


def ensure_seats_exist(flight: Flight, seats: list[str]) -> None:
    bad = invalid_seats(flight, seats)
    if bad:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"seats {', '.join(bad)} do not exist on flight {flight.number} "
            f"(rows 1-{flight.seat_rows}, letters {flight.seat_letters})",
        )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=FlightOut)
def create_flight(body: FlightCreate, session: SessionDep, _admin: AdminUser) -> FlightOut:
    flight = Flight(
        number=body.number,
        origin=body.origin,
        destination=body.destination,
        departure_at=body.departure_at,
        arrival_at=body.arrival_at,
        seat_rows=body.rows,
        seat_letters=body.seat_letters,
        fare=body.fare,
    )
    session.add(flight)
    try:
        session.commit()
    except sa.exc.IntegrityError:
        session.rollback()
        raise duplicate_flight(body.number, body.departure_at) from None
    return flight_out(flight, 0)


def duplicate_flight(number: str, departure_at: datetime) -> HTTPException:
    return HTTPException(
        status.HTTP_409_CONFLICT,
        detail=f"flight {number} departing {departure_at.isoformat()} already exists",
    )


@router.get("", response_model=FlightPage)
def list_flights(
    session: SessionDep,
    origin: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$", description="IATA code")] = None,
    destination: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$", description="IATA code")] = None,
    departure_date: Annotated[date | None, Query(alias="date", description="UTC departure date")] = None,
    include_past: Annotated[
        bool, Query(description="also list flights that have departed or were cancelled")
    ] = False,
    limit: Limit = 20,
    offset: Offset = 0,
) -> FlightPage:
    """Flights by departure time. Departed and cancelled flights only with `include_past=true`."""
    now = utcnow()
    conditions: list[sa.ColumnElement[bool]] = []
    if not include_past:
        conditions.append(Flight.departure_at > now)
        conditions.append(Flight.status != "cancelled")
    if origin:
        conditions.append(Flight.origin == origin)
    if destination:
        conditions.append(Flight.destination == destination)
    if departure_date:
        start = datetime.combine(departure_date, time.min, tzinfo=UTC)
        conditions.append(Flight.departure_at >= start)
        if departure_date < date.max:  # the day after 9999-12-31 does not exist
            conditions.append(Flight.departure_at < start + timedelta(days=1))
    total = session.scalar(sa.select(sa.func.count()).select_from(Flight).where(*conditions)) or 0
    query = sa.select(Flight).where(*conditions).order_by(Flight.departure_at, Flight.id)
    flights = session.scalars(query.limit(limit).offset(offset)).all()
    counts = session.execute(
        sa.select(SeatClaim.flight_id, sa.func.count())
        .where(SeatClaim.flight_id.in_([f.id for f in flights]), live_claim(now))
        .group_by(SeatClaim.flight_id)
    )
    taken = {flight_id: count for flight_id, count in counts}
    items = [flight_out(f, taken.get(f.id, 0)) for f in flights]
    return FlightPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/{flight_id}", response_model=FlightOut)
def get_flight(flight_id: FlightId, session: SessionDep) -> FlightOut:
    flight = get_flight_or_404(session, flight_id)
    return flight_out(flight, len(taken_seats(session, flight.id, utcnow())))


@lru_cache(maxsize=256)
def _seat_fragments(rows: int, letters: str) -> tuple[tuple[str, bytes, bytes], ...]:
    """Per seat of a layout: its label and its JSON object when available and when not, encoded once."""
    return tuple(
        (
            label,
            orjson.dumps({"seat": label, "row": row, "letter": letter, "available": True}),
            orjson.dumps({"seat": label, "row": row, "letter": letter, "available": False}),
        )
        for row in range(1, rows + 1)
        for letter in letters
        for label in (f"{row}{letter}",)
    )


def seat_map_body(
    flight_id: int, flight_status: str, rows: int, letters: str, taken: set[str] | list[str]
) -> bytes:
    """The SeatMap JSON, built directly: 180 pydantic objects per request cost more than the query,
    and encoding 180 dicts cost more than joining their bytes, encoded once per layout (the same
    JSON as `orjson.dumps` of the whole map: tests/app/test_seat_map_body.py).
    Every seat of a cancelled flight shows unavailable (its map is closed)."""
    closed = flight_status == "cancelled"
    taken = set(taken)
    head = orjson.dumps(
        {"flight_id": flight_id, "status": flight_status, "rows": rows, "seat_letters": letters}
    )
    seats = b",".join(
        off if closed or label in taken else on for label, on, off in _seat_fragments(rows, letters)
    )
    return head[:-1] + b',"seats":[' + seats + b"]}"


def _seat_map_sync(sessionmaker: Any, flight_id: int) -> bytes:
    with sessionmaker() as session:
        flight = get_flight_or_404(session, flight_id)
        taken = taken_seats(session, flight.id, utcnow())
        return seat_map_body(flight.id, flight.status, flight.seat_rows, flight.seat_letters, taken)


# Concurrent seat-map reads of one flight share one query, body and ETag (app/core/coalesce.py).
_SEAT_MAPS: Coalescer[tuple[bytes, str] | None] = Coalescer()


async def hot_seat_map(hot: AsyncDatabase, flight_id: int) -> tuple[bytes, str] | None:
    """The seat map and its ETag, from one statement on the async pool; None when the flight does not
    exist. Requests for the same flight that arrive while its query is in flight share that query's
    answer: it is at most one query older than they are."""
    return await _SEAT_MAPS.run((hot, flight_id), lambda: _query_seat_map(hot, flight_id))


async def _query_seat_map(hot: AsyncDatabase, flight_id: int) -> tuple[bytes, str] | None:
    async with hot.connection() as conn:
        row = await conn.fetchrow(SEAT_MAP.sql, *SEAT_MAP.args({"flight_id": flight_id, "now": utcnow()}))
    if row is None:
        return None
    body = seat_map_body(flight_id, row[3], row[0], row[1], row[2])
    return body, etag_for(body)


@router.get("/{flight_id}/seats", response_model=SeatMap, responses={304: {"description": "unchanged"}})
async def seat_map(flight_id: FlightId, request: Request) -> Response:
    """Every seat of the flight and whether it is free right now, with an ETag: send it back in
    If-None-Match to get a 304 while nothing changed.

    PostgreSQL: one statement on the async pool, shared by concurrent requests for the flight,
    usually answered by app/api/hot.py before routing. SQLite: the ORM query in a thread.
    """
    hot = request.app.state.hot_db
    failed = request.scope.get("state", {}).pop(HOT_ERROR, None)
    if failed is not None:
        raise failed  # app/api/hot.py already tried: the app's handlers answer (503), no second wait
    if hot is None:
        body = await run_in_threadpool(_seat_map_sync, request.app.state.sessionmaker, flight_id)
        return conditional_bytes(request, body)
    found = await hot_seat_map(hot, flight_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"flight {flight_id} not found")
    return conditional_bytes(request, *found)


@router.patch("/{flight_id}", response_model=FlightOut)
def update_flight(
    flight_id: FlightId, body: FlightUpdate, session: SessionDep, _admin: AdminUser
) -> FlightOut:
    """Change times, fare or seat layout. A layout that would drop a held or booked seat is a 409;
    a new fare applies to bookings made from now on."""
    flight = get_flight_or_404(session, flight_id, lock="update")
    ensure_open(flight)
    departure = body.departure_at or flight.departure_at
    arrival = body.arrival_at or flight.arrival_at
    if arrival <= departure:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"arrival_at ({arrival.isoformat()}) must be after departure_at ({departure.isoformat()})",
        )
    now = utcnow()
    rows = body.rows if body.rows is not None else flight.seat_rows
    letters = body.seat_letters if body.seat_letters is not None else flight.seat_letters
    if (rows, letters) != (flight.seat_rows, flight.seat_letters):
        remaining = set(seat_labels(rows, letters))
        dropped = sorted(taken_seats(session, flight.id, now) - remaining, key=seat_sort_key)
        if dropped:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail=f"the new layout drops held or booked seats: {', '.join(dropped[:20])}",
            )
    flight.departure_at, flight.arrival_at = departure, arrival
    flight.seat_rows, flight.seat_letters = rows, letters
    if body.fare is not None:
        flight.fare = body.fare
    try:
        session.commit()
    except sa.exc.IntegrityError:
        session.rollback()
        raise duplicate_flight(flight.number, departure) from None
    return flight_out(flight, len(taken_seats(session, flight.id, now)))


@router.post("/{flight_id}/cancel", response_model=FlightOut)
def cancel_flight(flight_id: FlightId, session: SessionDep, _admin: AdminUser) -> FlightOut:
    """Cancel the flight, in one transaction: its holds are released, every confirmed booking
    becomes `cancelled_by_airline`, and its seat map closes (no new holds or bookings). Repeating
    it changes nothing."""
    flight = get_flight_or_404(session, flight_id, lock="update")
    if flight.status != "cancelled":
        now = utcnow()
        session.execute(sa.delete(SeatClaim).where(SeatClaim.flight_id == flight.id))
        session.execute(sa.delete(Hold).where(Hold.flight_id == flight.id))
        session.execute(
            sa.update(Booking)
            .where(Booking.flight_id == flight.id, Booking.status == "confirmed")
            .values(status="cancelled", cancelled_by="airline", cancelled_at=now)
        )
        flight.status = "cancelled"
        flight.cancelled_at = now
        session.commit()
    return flight_out(flight, 0)
