"""Booking references (8 unambiguous characters, uniformly drawn) and request fingerprints (the same
bytes hashed by every release, so an idempotent retry matches what an earlier one stored)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.api.routes.bookings import REFERENCE_ALPHABET, new_reference, request_fingerprint


def test_booking_references_use_every_character_in_every_position() -> None:
    """new_reference reads one random number as 8 base-31 digits: each position must still range over
    the whole alphabet (a digit off by one, or a position left constant, would show here)."""
    refs = [new_reference() for _ in range(3000)]
    assert all(len(r) == 8 and set(r) <= set(REFERENCE_ALPHABET) for r in refs)
    for position in range(8):
        assert {r[position] for r in refs} == set(REFERENCE_ALPHABET), position
    assert len(set(refs)) == len(refs)


class _Dumped:
    """Stands in for a BookingCreate: request_fingerprint only calls model_dump(mode="json")."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def model_dump(self, mode: str) -> dict[str, Any]:
        assert mode == "json"
        return self.data


def _json_dumps_fingerprint(data: dict[str, Any]) -> str:
    """What releases before the orjson fast path stored."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


passengers = st.fixed_dictionaries({"seat": st.text(max_size=4), "name": st.text()})
bodies = st.fixed_dictionaries(
    {
        "flight_id": st.none() | st.integers(min_value=1, max_value=2**31 - 1),
        "hold_id": st.none() | st.text(max_size=36),
        "passengers": st.lists(
            st.fixed_dictionaries({"seat": st.text(max_size=4), "name": st.text()}), max_size=9
        ),
    }
)


@given(bodies)
def test_fingerprint_bytes_are_those_json_dumps_wrote(data: dict[str, Any]) -> None:
    assert request_fingerprint(_Dumped(data)) == _json_dumps_fingerprint(data)  # type: ignore[arg-type]


def test_fingerprint_of_non_ascii_and_del_is_unchanged() -> None:
    for name in ("Zoë Ångström", "a\x7fb", "\u2028", "😀", "tab\there"):
        data = {"flight_id": 7, "hold_id": None, "passengers": [{"seat": "1A", "name": name}]}
        assert request_fingerprint(_Dumped(data)) == _json_dumps_fingerprint(data)  # type: ignore[arg-type]
