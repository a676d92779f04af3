"""Request and response bodies of the API."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator

# Database ids are 32-bit integers; a larger number must be a 4xx, not a database error.
MAX_ID = 2**31 - 1
MAX_OFFSET = 1_000_000

SEAT_RE = re.compile(r"^([1-9][0-9]{0,2})([A-Z])$")
MAX_SEATS_PER_REQUEST = 9


def _seat(value: str) -> str:
    value = value.strip().upper()
    if not SEAT_RE.match(value):
        raise ValueError(f"seat {value!r} is not a seat label like '12A' (row number, then seat letter)")
    return value


SeatLabel = Annotated[str, AfterValidator(_seat)]


def _distinct_seats(seats: list[str]) -> list[str]:
    dupes = sorted({s for s in seats if seats.count(s) > 1})
    if dupes:
        raise ValueError(f"seats must be distinct; repeated: {', '.join(dupes)}")
    return seats


SeatList = Annotated[
    list[SeatLabel],
    Field(min_length=1, max_length=MAX_SEATS_PER_REQUEST),
    AfterValidator(_distinct_seats),
]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must include a time zone, e.g. 2030-01-31T08:00:00Z")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
AirportCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="IATA airport code, e.g. LHR")]


# --- auth -----------------------------------------------------------------------------------------
class UserCreate(BaseModel):
    email: EmailStr
    password: str = Field(min_length=8, max_length=128)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    email: str
    is_admin: bool


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int


# --- flights ----------------------------------------------------------------------------------------
class FlightCreate(BaseModel):
    number: str = Field(pattern=r"^[A-Z0-9]{2}[0-9]{1,4}$", description="e.g. BK101")
    origin: AirportCode
    destination: AirportCode
    departure_at: AwareDatetime
    arrival_at: AwareDatetime
    rows: int = Field(ge=1, le=99, description="number of seat rows")
    seat_letters: str = Field(pattern=r"^[A-Z]{1,10}$", description="seat letters of a row, e.g. ABCDEF")
    fare: Decimal = Field(ge=0, le=100000, decimal_places=2, description="price of one seat")

    @model_validator(mode="after")
    def _check(self) -> FlightCreate:
        if self.origin == self.destination:
            raise ValueError("destination must differ from origin")
        if self.arrival_at <= self.departure_at:
            raise ValueError("arrival_at must be after departure_at")
        if len(set(self.seat_letters)) != len(self.seat_letters):
            raise ValueError("seat_letters must not repeat a letter")
        return self


class FlightOut(BaseModel):
    id: int
    number: str
    origin: str
    destination: str
    departure_at: datetime
    arrival_at: datetime
    rows: int
    seat_letters: str
    fare: Decimal
    seats_total: int
    seats_available: int


class FlightPage(BaseModel):
    items: list[FlightOut]
    total: int
    limit: int
    offset: int


class SeatOut(BaseModel):
    seat: str
    row: int
    letter: str
    available: bool


class SeatMap(BaseModel):
    flight_id: int
    rows: int
    seat_letters: str
    seats: list[SeatOut]


# --- holds ------------------------------------------------------------------------------------------
class HoldCreate(BaseModel):
    seats: SeatList


class HoldOut(BaseModel):
    id: str
    flight_id: int
    seats: list[str]
    expires_at: datetime
    status: Literal["active", "expired"]


# --- bookings ---------------------------------------------------------------------------------------
class PassengerIn(BaseModel):
    seat: SeatLabel
    name: str = Field(min_length=1, max_length=100, pattern=r"\S")


class BookingCreate(BaseModel):
    """Either `flight_id` (book these seats now) or `hold_id` (confirm a hold), never both."""

    flight_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    hold_id: str | None = Field(default=None, min_length=1, max_length=36)
    passengers: list[PassengerIn] = Field(min_length=1, max_length=MAX_SEATS_PER_REQUEST)

    @model_validator(mode="after")
    def _check(self) -> BookingCreate:
        if (self.flight_id is None) == (self.hold_id is None):
            raise ValueError("give exactly one of flight_id (book seats now) or hold_id (confirm a hold)")
        _distinct_seats([p.seat for p in self.passengers])
        return self

    @property
    def seats(self) -> list[str]:
        return [p.seat for p in self.passengers]


class PassengerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    seat: str
    name: str


class BookingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    reference: str
    flight_id: int
    user_id: int
    status: Literal["confirmed", "cancelled"]
    total_fare: Decimal
    passengers: list[PassengerOut]
    created_at: datetime
    cancelled_at: datetime | None


class BookingPage(BaseModel):
    items: list[BookingOut]
    total: int
    limit: int
    offset: int
