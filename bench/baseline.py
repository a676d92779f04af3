"""Baseline for the benchmark: the seat-map query in the plainest FastAPI + SQLAlchemy ORM form.

No auth, middleware, metrics, logging or response models: whatever the booking API is slower than
this by is the price of those. Same tables (app.models), same two queries, same JSON shape, served
the same way (gunicorn + uvicorn workers) by bench/run.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy.orm import Session, sessionmaker

from app.models import Flight, SeatClaim

engine = sa.create_engine(os.environ["DATABASE_URL"])
Sessions = sessionmaker(engine)
app = FastAPI()


def session() -> Iterator[Session]:
    with Sessions() as s:
        yield s


@app.get("/flights/{flight_id}/seats")
def seat_map(flight_id: int, s: Annotated[Session, Depends(session)]) -> dict[str, Any]:
    flight = s.get(Flight, flight_id)
    if flight is None:
        raise HTTPException(404)
    now = datetime.now(UTC)
    taken = set(
        s.scalars(
            sa.select(SeatClaim.seat).where(
                SeatClaim.flight_id == flight_id,
                sa.or_(SeatClaim.expires_at.is_(None), SeatClaim.expires_at > now),
            )
        )
    )
    labels = [(row, letter) for row in range(1, flight.seat_rows + 1) for letter in flight.seat_letters]
    return {
        "flight_id": flight.id,
        "rows": flight.seat_rows,
        "seat_letters": flight.seat_letters,
        "seats": [
            {"seat": f"{r}{x}", "row": r, "letter": x, "available": f"{r}{x}" not in taken}
            for r, x in labels
        ],
    }
