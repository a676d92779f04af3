from __future__ import annotations

import hashlib
import json
import secrets
from decimal import Decimal
from typing import Annotated, Any, cast

import asyncpg
import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Header, HTTPException, Path, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from app.api.deps import BookingId, CurrentUser, Limit, Offset, SessionDep, TokenUserId, unauthorized
from app.api.routes.flights import ensure_open, ensure_seats_exist, get_flight_or_404
from app.api.routes.holds import hold_not_found, is_hold_id
from app.core import emf
from app.core import metric_catalogue as mc
from app.core.asyncdb import AsyncDatabase
from app.core.hotstate import HOT_DECLINED, HOT_ERROR
from app.core.metrics import BOOKINGS_CREATED, SEAT_CONFLICTS
from app.hotsql import BOOK
from app.models import Booking, Hold, Passenger, SeatClaim, User, utcnow
from app.schemas import BookingCreate, BookingOut, BookingPage
from app.seats import SeatUnavailable, claim, ensure_not_departed, unavailable_detail

router = APIRouter(prefix="/bookings", tags=["bookings"])

IDEMPOTENCY_KEY_PATTERN = r"^[\x20-\x7e]+$"
# Unambiguous characters (no 0/O, 1/I/L); 8 of them is 40 bits, so references never collide in practice.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_reference() -> str:
    """8 characters drawn uniformly: one draw of 31**8 values (< 2**40) read as base-31 digits, instead
    of 8 draws of one character (each a getrandom() call)."""
    n = secrets.randbelow(len(REFERENCE_ALPHABET) ** 8)
    chars = []
    for _ in range(8):
        n, digit = divmod(n, len(REFERENCE_ALPHABET))
        chars.append(REFERENCE_ALPHABET[digit])
    return "".join(chars)


def request_fingerprint(body: BookingCreate) -> str:
    """SHA-256 of the body as sorted, compact JSON with non-ASCII escaped (json.dumps' bytes: a stored
    fingerprint must match what every release computes for the same body). orjson writes the same
    bytes whenever it writes no byte json.dumps would escape (DEL and non-ASCII), at a third of the
    cost; tests/app/test_booking_keys.py checks the two agree."""
    data = body.model_dump(mode="json")
    canonical = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    if not canonical.isascii() or b"\x7f" in canonical:
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(canonical).hexdigest()


def find_by_key(session: Session, user: User, key: str) -> Booking | None:
    query = sa.select(Booking).where(Booking.user_id == user.id, Booking.idempotency_key == key)
    return session.scalar(query)


class Replay(Exception):
    """An idempotent retry: answer with the booking the key first created."""

    def __init__(self, booking: Booking) -> None:
        self.booking = booking


def replay(existing: Booking, fingerprint: str) -> Replay:
    if existing.request_hash != fingerprint:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail="Idempotency-Key was already used with a different request body",
        )
    emf.count(mc.IDEMPOTENT_REPLAYS)
    return Replay(existing)


def get_visible_booking(session: Session, booking_id: int, user: User) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None or (booking.user_id != user.id and not user.is_admin):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"booking {booking_id} not found")
    return booking


def book(
    session: Session, user: User, body: BookingCreate, idempotency_key: str | None, fingerprint: str
) -> Booking:
    """The booking rules, with their exact errors; raises Replay for an idempotent retry.

    PostgreSQL first tries app/hotsql.py's BOOK_SQL, which books only when all of these plainly hold
    and otherwise leaves the request to this function.
    """
    if idempotency_key:
        existing = find_by_key(session, user, idempotency_key)
        if existing is not None:
            raise replay(existing, fingerprint)

    now = utcnow()
    seats = body.seats
    hold: Hold | None = None
    if body.hold_id is not None:
        hold = session.get(Hold, body.hold_id) if is_hold_id(body.hold_id) else None
        if hold is None or hold.user_id != user.id:
            raise hold_not_found(body.hold_id)
        if sorted(seats) != sorted(hold.seat_list):
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=f"passengers must name exactly the held seats: {', '.join(hold.seat_list)}",
            )
        flight_id = hold.flight_id
    else:
        assert body.flight_id is not None
        flight_id = body.flight_id
    flight = get_flight_or_404(session, flight_id, lock="share")
    ensure_open(flight)
    ensure_seats_exist(flight, seats)

    ensure_not_departed(flight, now)
    booking = Booking(
        reference=new_reference(),
        user_id=user.id,
        flight_id=flight.id,
        status="confirmed",
        total_fare=flight.fare * Decimal(len(seats)),
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        passengers=[Passenger(seat=p.seat, name=p.name.strip()) for p in body.passengers],
    )
    try:
        session.add(booking)
        # The booking row goes first: a concurrent retry with the same key waits here on the
        # (user_id, idempotency_key) unique index and then replays this booking.
        session.flush()
        if hold is not None:
            moved = cast(
                CursorResult[Any],
                session.execute(
                    sa.update(SeatClaim)
                    .where(SeatClaim.hold_id == hold.id, SeatClaim.expires_at > now)
                    .values(hold_id=None, booking_id=booking.id, expires_at=None)
                ),
            ).rowcount
            if moved != len(seats):
                raise SeatUnavailable([])
            session.execute(sa.delete(Hold).where(Hold.id == hold.id))
        else:
            claim(session, flight.id, seats, now, booking_id=booking.id)
        session.commit()
    except (SeatUnavailable, sa.exc.IntegrityError) as exc:
        session.rollback()
        if idempotency_key:
            existing = find_by_key(session, user, idempotency_key)
            if existing is not None:
                raise replay(existing, fingerprint) from None
        SEAT_CONFLICTS.labels(kind="booking").inc()
        emf.count(mc.BOOKING_CONFLICTS)
        if hold is not None:
            detail = "hold has expired or was already used; its seats are no longer reserved"
        else:
            detail = unavailable_detail(session, flight.id, now, seats, exc)
        raise HTTPException(status.HTTP_409_CONFLICT, detail=detail) from None
    BOOKINGS_CREATED.inc()
    emf.count(mc.BOOKINGS_CREATED)
    return booking


def _json(body: bytes, status_code: int, replayed: bool) -> Response:
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)


def _book_sync(
    request: Request, user_id: int, body: BookingCreate, idempotency_key: str | None, fingerprint: str
) -> Response:
    with request.app.state.sessionmaker() as session:
        user = session.get(User, user_id)
        if user is None:
            raise unauthorized()
        try:
            booking = book(session, user, body, idempotency_key, fingerprint)
        except Replay as r:
            return _json(BookingOut.model_validate(r.booking).model_dump_json().encode(), 201, True)
        return _json(BookingOut.model_validate(booking).model_dump_json().encode(), 201, False)


def book_params(
    user_id: int, flight_id: int, key: str | None, seats: list[str], names: list[str], fingerprint: str
) -> dict[str, Any]:
    """BOOK_SQL's parameters (app/hotsql.py), with a new reference and the current time."""
    return {
        "user_id": user_id,
        "flight_id": flight_id,
        "now": utcnow(),
        "key": key,
        "seats": seats,
        "names": names,
        "n": len(seats),
        "reference": new_reference(),
        "hash": fingerprint,
    }


def booked_body(params: dict[str, Any], booking_id: int, total_fare: Decimal) -> bytes:
    """The 201 body for what BOOK_SQL inserted with `params`: BookingOut's fields, as the ORM path
    answers them (tests/app/test_hot_paths.py compares the two field by field)."""
    out = {
        "id": booking_id,
        "reference": params["reference"],
        "flight_id": params["flight_id"],
        "user_id": params["user_id"],
        "status": "confirmed",
        "total_fare": str(total_fare),
        "passengers": [{"seat": s, "name": n} for s, n in zip(params["seats"], params["names"], strict=True)],
        "created_at": params["now"],
        "cancelled_at": None,
    }
    return orjson.dumps(out, option=orjson.OPT_UTC_Z)


async def book_hot(
    hot: AsyncDatabase, user_id: int, body: BookingCreate, idempotency_key: str | None, fingerprint: str
) -> bytes | None:
    """BOOK_SQL in one round trip: the 201 body, or None when the full rules must decide (app/hotsql.py)."""
    assert body.flight_id is not None
    names = [p.name.strip() for p in body.passengers]
    params = book_params(user_id, body.flight_id, idempotency_key, body.seats, names, fingerprint)
    async with hot.connection() as conn:
        try:
            row = await conn.fetchrow(BOOK.sql, *BOOK.args(params))
        except asyncpg.IntegrityConstraintViolationError:  # a concurrent winner: seat, key or reference
            return None
    if row is None:
        return None
    BOOKINGS_CREATED.inc()
    emf.count(mc.BOOKINGS_CREATED)
    return booked_body(params, row[0], row[1])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=BookingOut)
async def create_booking(
    request: Request,
    body: BookingCreate,
    user_id: TokenUserId,
    idempotency_key: Annotated[
        str | None, Header(min_length=1, max_length=255, pattern=IDEMPOTENCY_KEY_PATTERN)
    ] = None,
) -> Response:
    """Book seats now (`flight_id`) or confirm a hold (`hold_id`), with one passenger per seat.

    With an `Idempotency-Key` header a retried request returns the first booking (same status and
    body, header `Idempotent-Replayed: true`); reusing the key for a different body is a 422.
    """
    fingerprint = request_fingerprint(body)
    hot: AsyncDatabase | None = request.app.state.hot_db
    state = request.scope.get("state", {})
    failed = state.pop(HOT_ERROR, None)
    if failed is not None:
        raise failed  # app/api/hot.py already tried: the app's handlers answer (503), no second wait
    if hot is not None and body.flight_id is not None and not state.get(HOT_DECLINED):
        created = await book_hot(hot, user_id, body, idempotency_key, fingerprint)
        if created is not None:
            return _json(created, 201, False)
    return await run_in_threadpool(_book_sync, request, user_id, body, idempotency_key, fingerprint)


@router.get("", response_model=BookingPage)
def list_bookings(
    session: SessionDep,
    user: CurrentUser,
    limit: Limit = 20,
    offset: Offset = 0,
) -> BookingPage:
    """Your own bookings, newest first; an admin sees everyone's."""
    where = [] if user.is_admin else [Booking.user_id == user.id]
    total = session.scalar(sa.select(sa.func.count()).select_from(Booking).where(*where)) or 0
    rows = session.scalars(
        sa.select(Booking).where(*where).order_by(Booking.id.desc()).limit(limit).offset(offset)
    ).all()
    return BookingPage(
        items=[BookingOut.model_validate(b) for b in rows], total=total, limit=limit, offset=offset
    )


BookingReference = Annotated[
    str, Path(min_length=1, max_length=64, description="the 8-character booking reference")
]


@router.get("/by-reference/{reference}", response_model=BookingOut)
def get_booking_by_reference(reference: BookingReference, session: SessionDep, user: CurrentUser) -> Booking:
    """The booking with this reference (case-insensitive), for its owner or an admin; else 404."""
    wanted = reference.strip().upper()
    booking = None
    if len(wanted) == 8 and all(c in REFERENCE_ALPHABET for c in wanted):
        booking = session.scalar(sa.select(Booking).where(Booking.reference == wanted))
    if booking is None or (booking.user_id != user.id and not user.is_admin):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no booking with that reference")
    return booking


@router.get("/{booking_id}", response_model=BookingOut)
def get_booking(booking_id: BookingId, session: SessionDep, user: CurrentUser) -> Booking:
    return get_visible_booking(session, booking_id, user)


@router.delete("/{booking_id}", response_model=BookingOut)
def cancel_booking(booking_id: BookingId, session: SessionDep, user: CurrentUser) -> Booking:
    """Cancel the booking and free its seats (cancelling twice is harmless)."""
    booking = get_visible_booking(session, booking_id, user)
    if booking.status != "cancelled":
        booking.status = "cancelled"
        booking.cancelled_by = "customer"
        booking.cancelled_at = utcnow()
        session.execute(sa.delete(SeatClaim).where(SeatClaim.booking_id == booking.id))
        session.commit()
    return booking
