"""The seat map's hand-joined JSON is exactly what encoding the whole map at once gives."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from app.api.routes.flights import seat_map_body

LETTERS = st.lists(st.sampled_from("ABCDEFGHJK"), min_size=1, max_size=10, unique=True).map("".join)


def reference(flight_id: int, status: str, rows: int, letters: str, taken: set[str]) -> bytes:
    closed = status == "cancelled"
    seats = [
        {"seat": f"{r}{c}", "row": r, "letter": c, "available": not closed and f"{r}{c}" not in taken}
        for r in range(1, rows + 1)
        for c in letters
    ]
    return orjson.dumps(
        {"flight_id": flight_id, "status": status, "rows": rows, "seat_letters": letters, "seats": seats}
    )


@settings(max_examples=200, derandomize=True)
@given(
    flight_id=st.integers(1, 2**63 - 1),
    status=st.sampled_from(["scheduled", "cancelled", "delayed"]),
    rows=st.integers(1, 60),
    letters=LETTERS,
    data=st.data(),
)
def test_same_json_as_encoding_the_whole_map(
    flight_id: int, status: str, rows: int, letters: str, data: st.DataObject
) -> None:
    labels = [f"{r}{c}" for r in range(1, rows + 1) for c in letters]
    taken = set(data.draw(st.lists(st.sampled_from(labels), max_size=20)))
    body = seat_map_body(flight_id, status, rows, letters, taken)
    assert body == reference(flight_id, status, rows, letters, taken)
    assert orjson.loads(body)["seats"][0]["seat"] == "1" + letters[0]
