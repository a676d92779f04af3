from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy.orm import Session

from app.api.deps import CurrentUser, FlightId, HoldId, SessionDep, SettingsDep
from app.api.routes.flights import ensure_open, ensure_seats_exist, get_flight_or_404
from app.core import emf
from app.core import metric_catalogue as mc
from app.core.metrics import SEAT_CONFLICTS
from app.models import Hold, User, utcnow
from app.schemas import HoldCreate, HoldOut
from app.seats import SeatUnavailable, claim, ensure_not_departed, seat_sort_key, unavailable_detail

router = APIRouter(tags=["holds"])


def hold_out(hold: Hold) -> HoldOut:
    return HoldOut(
        id=hold.id,
        flight_id=hold.flight_id,
        seats=hold.seat_list,
        expires_at=hold.expires_at,
        status="active" if hold.expires_at > utcnow() else "expired",
    )


def is_hold_id(value: str) -> bool:
    """Hold ids are UUIDs; anything else cannot name a hold (and never reaches the database)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def hold_not_found(hold_id: str) -> HTTPException:
    # Only an id of our own format is repeated back; anything else is not echoed at all.
    named = f"hold {hold_id}" if is_hold_id(hold_id) else "hold"
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{named} not found")


def get_own_hold(session: Session, hold_id: str, user: User) -> Hold:
    hold = session.get(Hold, hold_id) if is_hold_id(hold_id) else None
    if hold is None or (hold.user_id != user.id and not user.is_admin):
        raise hold_not_found(hold_id)
    return hold


@router.post("/flights/{flight_id}/holds", status_code=status.HTTP_201_CREATED, response_model=HoldOut)
def create_hold(
    flight_id: FlightId, body: HoldCreate, session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> HoldOut:
    """Hold all the seats or none of them, until `expires_at`; then confirm with POST /bookings."""
    flight = get_flight_or_404(session, flight_id, lock="share")
    ensure_open(flight)
    ensure_seats_exist(flight, body.seats)
    now = utcnow()
    ensure_not_departed(flight, now)
    seats = sorted(body.seats, key=seat_sort_key)
    hold = Hold(
        id=str(uuid.uuid4()),
        flight_id=flight.id,
        user_id=user.id,
        seats=",".join(seats),
        expires_at=now + timedelta(seconds=settings.HOLD_TTL_SECONDS),
    )
    try:
        session.add(hold)
        session.flush()
        claim(session, flight.id, seats, now, hold_id=hold.id, expires_at=hold.expires_at)
        session.commit()
    except (SeatUnavailable, sa.exc.IntegrityError) as exc:
        session.rollback()
        SEAT_CONFLICTS.labels(kind="hold").inc()
        emf.count(mc.HOLD_CONFLICTS)
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=unavailable_detail(session, flight.id, now, seats, exc)
        ) from None
    emf.count(mc.HOLDS_CREATED)
    return hold_out(hold)


@router.get("/holds/{hold_id}", response_model=HoldOut)
def get_hold(hold_id: HoldId, session: SessionDep, user: CurrentUser) -> HoldOut:
    return hold_out(get_own_hold(session, hold_id, user))


@router.delete("/holds/{hold_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_hold(hold_id: HoldId, session: SessionDep, user: CurrentUser) -> Response:
    """Release a hold's seats now (its seat claims go with it)."""
    hold = get_own_hold(session, hold_id, user)
    session.delete(hold)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
