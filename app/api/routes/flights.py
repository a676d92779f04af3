from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from sqlalchemy.orm import Session

from app.api.conditional import conditional_json
from app.api.deps import AdminUser, FlightId, Limit, Offset, SessionDep
from app.models import Flight, SeatClaim, utcnow
from app.schemas import FlightCreate, FlightOut, FlightPage, SeatMap, SeatOut
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
        seats_available=total - taken,
    )


def get_flight_or_404(session: Session, flight_id: int) -> Flight:
    flight = session.get(Flight, flight_id)
    if flight is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"flight {flight_id} not found")
    return flight


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
    session.commit()
    return flight_out(flight, 0)


@router.get("", response_model=FlightPage)
def list_flights(
    session: SessionDep,
    origin: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$", description="IATA code")] = None,
    destination: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$", description="IATA code")] = None,
    departure_date: Annotated[date | None, Query(alias="date", description="UTC departure date")] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> FlightPage:
    conditions: list[sa.ColumnElement[bool]] = []
    if origin:
        conditions.append(Flight.origin == origin)
    if destination:
        conditions.append(Flight.destination == destination)
    if departure_date:
        start = datetime.combine(departure_date, time.min, tzinfo=UTC)
        conditions.append(Flight.departure_at >= start)
        conditions.append(Flight.departure_at < start + timedelta(days=1))
    total = session.scalar(sa.select(sa.func.count()).select_from(Flight).where(*conditions)) or 0
    query = sa.select(Flight).where(*conditions).order_by(Flight.departure_at, Flight.id)
    flights = session.scalars(query.limit(limit).offset(offset)).all()
    counts = session.execute(
        sa.select(SeatClaim.flight_id, sa.func.count())
        .where(SeatClaim.flight_id.in_([f.id for f in flights]), live_claim(utcnow()))
        .group_by(SeatClaim.flight_id)
    )
    taken = {flight_id: count for flight_id, count in counts}
    items = [flight_out(f, taken.get(f.id, 0)) for f in flights]
    return FlightPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/{flight_id}", response_model=FlightOut)
def get_flight(flight_id: FlightId, session: SessionDep) -> FlightOut:
    flight = get_flight_or_404(session, flight_id)
    return flight_out(flight, len(taken_seats(session, flight.id, utcnow())))


@router.get("/{flight_id}/seats", response_model=SeatMap, responses={304: {"description": "unchanged"}})
def seat_map(flight_id: FlightId, session: SessionDep, request: Request) -> Response:
    """The seat map, with an ETag: send it back in If-None-Match to get a 304 while nothing changed."""
    flight = get_flight_or_404(session, flight_id)
    taken = taken_seats(session, flight.id, utcnow())
    seats = [
        SeatOut(seat=label, row=seat_sort_key(label)[0], letter=label[-1], available=label not in taken)
        for label in flight.seat_labels()
    ]
    return conditional_json(
        request,
        SeatMap(flight_id=flight.id, rows=flight.seat_rows, seat_letters=flight.seat_letters, seats=seats),
    )
