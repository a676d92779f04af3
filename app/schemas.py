"""Request and response bodies of the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator

# Database ids are 32-bit integers; a larger number must be a 4xx, not a database error.
MAX_ID = 2**31 - 1
MAX_OFFSET = 1_000_000

SEAT_RE = re.compile(r"^([1-9][0-9]{0,2})([A-Z])$")
MAX_SEATS_PER_REQUEST = 9


# NUL is refused by PostgreSQL text, lone surrogates cannot be encoded as UTF-8 at all, and other
# control characters have no business in names or credentials: refuse them all, on every backend.
_UNSTORABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def has_unstorable_chars(value: str) -> bool:
    return _UNSTORABLE.search(value) is not None


def _plain_text(value: str) -> str:
    if has_unstorable_chars(value):
        raise ValueError("must not contain control characters (such as NUL) or unpaired surrogates")
    return value


PlainText = Annotated[str, AfterValidator(_plain_text)]


def _seat(value: str) -> str:
    value = value.strip().upper()
    if not SEAT_RE.match(value):
        raise ValueError("not a seat label like '12A' (row number, then seat letter)")
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
    """Timezone-aware, and representable in UTC (0001-01-01T00:00+01:00 is not: it is in year 0)."""
    if value.tzinfo is None:
        raise ValueError("must include a time zone, e.g. 2030-01-31T08:00:00Z")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the range of representable UTC times") from None


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
AirportCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="IATA airport code, e.g. LHR")]


# --- auth -----------------------------------------------------------------------------------------
class UserCreate(BaseModel):
    email: EmailStr
    password: PlainText = Field(min_length=8, max_length=128)


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
Rows = Annotated[int, Field(ge=1, le=99, description="number of seat rows")]
SeatLetters = Annotated[
    str, Field(pattern=r"^[A-Z]{1,10}$", description="seat letters of a row, e.g. ABCDEF")
]
Fare = Annotated[
    Decimal, Field(ge=0, le=100000, max_digits=8, decimal_places=2, description="price of one seat")
]
FlightStatus = Literal["scheduled", "cancelled"]


class FlightCreate(BaseModel):
    number: str = Field(pattern=r"^[A-Z0-9]{2}[0-9]{1,4}$", description="e.g. BK101")
    origin: AirportCode
    destination: AirportCode
    departure_at: AwareDatetime
    arrival_at: AwareDatetime
    rows: Rows
    seat_letters: SeatLetters
    fare: Fare

    @model_validator(mode="after")
    def _check(self) -> FlightCreate:
        if self.origin == self.destination:
            raise ValueError("destination must differ from origin")
        if self.arrival_at <= self.departure_at:
            raise ValueError("arrival_at must be after departure_at")
        if len(set(self.seat_letters)) != len(self.seat_letters):
            raise ValueError("seat_letters must not repeat a letter")
        return self


class FlightUpdate(BaseModel):
    """Fields to change; absent (or null) ones stay as they are."""

    model_config = ConfigDict(extra="forbid")
    departure_at: AwareDatetime | None = None
    arrival_at: AwareDatetime | None = None
    rows: Rows | None = None
    seat_letters: SeatLetters | None = None
    fare: Fare | None = None

    @model_validator(mode="after")
    def _check(self) -> FlightUpdate:
        if self.seat_letters is not None and len(set(self.seat_letters)) != len(self.seat_letters):
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
    status: FlightStatus
    cancelled_at: datetime | None


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
    status: FlightStatus
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
    name: PlainText = Field(min_length=1, max_length=100, pattern=r"\S")


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
    # 'cancelled_by_airline' when the flight was cancelled (stored as status + cancelled_by).
    status: Literal["confirmed", "cancelled", "cancelled_by_airline"] = Field(validation_alias="api_status")
    total_fare: Decimal
    passengers: list[PassengerOut]
    created_at: datetime
    cancelled_at: datetime | None


class BookingPage(BaseModel):
    items: list[BookingOut]
    total: int
    limit: int
    offset: int
