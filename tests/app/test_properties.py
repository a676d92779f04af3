"""Property-based proof that no request gets a 5xx: hypothesis-made hostile bodies and values on
both databases, and schemathesis-made requests for every operation in /openapi.json on PostgreSQL.

Bounded and reproducible: a fixed number of examples per test, derandomized (a pinned seed), no
example database, and no deadline (a loaded CI machine is slow, not wrong).
"""

from __future__ import annotations

import json
import math
from datetime import timedelta, timezone
from typing import Any
from urllib.parse import quote

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode

from tests.app.conftest import Api, flight_body

PROPERTY_SETTINGS = settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Every code point, including lone surrogates (category Cs) and the C0 controls PostgreSQL refuses.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
edge_text = st.sampled_from(
    ["\x00", "a\x00b", "\ud800", "\udfff", "x\ud83d", "\x1b[31m", "\x7f", "\ufeff", "\U0010ffff", "", " "]
)
edge_numbers = st.sampled_from(
    [
        math.nan,
        math.inf,
        -math.inf,
        1e308,
        -1e308,
        5e-324,
        -0.0,
        2**31 - 1,
        2**31,
        2**63,
        -(2**63) - 1,
        10**30,
        0,
        -1,
    ]
)
offsets = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda m: timezone(timedelta(minutes=m))
)
any_datetime = st.one_of(
    st.datetimes(timezones=offsets).map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            "0001-01-01T00:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59.999999Z",
            "9999-12-31T23:59:59-01:00",
            "2031-02-29T10:00:00Z",
            "2032-02-29T10:00:00Z",
            "10000-01-01T00:00:00Z",
            "-0001-01-01T00:00:00Z",
            "2031-05-01T09:00:00",
        ]
    ),
)
scalar = st.one_of(any_text, edge_text, edge_numbers, st.integers(), st.floats(), st.booleans(), st.none())
hostile = st.one_of(
    scalar, any_datetime, st.lists(scalar, max_size=3), st.dictionaries(any_text, scalar, max_size=3)
)


def body_bytes(value: Any) -> bytes:
    # ensure_ascii escapes lone surrogates as \\udXXX and allow_nan writes NaN/Infinity: both are what
    # a hostile client sends, and Python's JSON parser (FastAPI's) accepts both.
    return json.dumps(value, ensure_ascii=True, allow_nan=True).encode()


def mutate(base: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """The valid body with some fields replaced by hostile values (and maybe an unknown field)."""
    body = dict(base)
    for key in data.draw(st.sets(st.sampled_from(sorted(base)), min_size=1, max_size=3)):
        body[key] = data.draw(st.one_of(hostile, any_datetime) if key.endswith("_at") else hostile)
    return body


def assert_safe(r: Any) -> None:
    assert r.status_code < 500, f"{r.status_code}: {r.text[:300]}"
    if r.headers.get("content-type", "").startswith("application/json"):
        r.json()  # the answer is valid JSON (no NaN, no unencodable characters)


@pytest.fixture
def world(api: Api) -> tuple[Api, dict[str, str], dict[str, str], int]:
    admin = api.admin()
    user = api.user()
    flight = api.flight(admin)
    return api, admin, user, flight["id"]


def test_hostile_bodies_never_get_a_5xx(world: tuple[Api, dict[str, str], dict[str, str], int]) -> None:
    api, admin, user, flight_id = world
    json_headers = {"content-type": "application/json"}
    targets = [
        ("POST", "/flights", flight_body(number="BK7"), admin),
        (
            "PATCH",
            f"/flights/{flight_id}",
            {"departure_at": "2031-05-01T10:00:00Z", "fare": "5.00", "rows": 4},
            admin,
        ),
        ("POST", f"/flights/{flight_id}/holds", {"seats": ["1A"]}, user),
        ("POST", "/bookings", {"flight_id": flight_id, "passengers": [{"seat": "1B", "name": "Ann"}]}, user),
        ("POST", "/auth/register", {"email": "new@example.com", "password": "long-enough-1"}, {}),
    ]

    @PROPERTY_SETTINGS
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        method, path, base, auth = data.draw(st.sampled_from(targets))
        body = mutate(base, data)
        r = api.client.request(method, path, content=body_bytes(body), headers={**json_headers, **auth})
        assert_safe(r)

    run()


def test_hostile_query_path_and_form_values_never_get_a_5xx(
    world: tuple[Api, dict[str, str], dict[str, str], int],
) -> None:
    api, admin, user, flight_id = world

    edge_dates = st.sampled_from(["9999-12-31", "0001-01-01", "2031-02-29", "10000-01-01", "0000-01-01"])

    @settings(PROPERTY_SETTINGS, max_examples=120)
    @given(
        value=st.one_of(edge_text, edge_dates, any_text, any_datetime, edge_numbers.map(str)),
        which=st.integers(0, 7),
    )
    def run(value: str, which: int) -> None:
        # Percent-encode as UTF-8 where possible; a lone surrogate goes out as its raw UTF-8-ish bytes.
        raw = value.encode("utf-8", "surrogatepass")
        q = quote(raw, safe="")
        if which == 0:
            r = api.client.get(f"/flights?date={q}&origin={q}&include_past={q}")
        elif which == 1:
            r = api.client.get(f"/flights?limit={q}&offset={q}&destination={q}")
        elif which == 2:
            r = api.client.get(f"/flights/{q}/seats")
        elif which == 3:
            r = api.client.get(f"/holds/{q}", headers=user)
        elif which == 4:
            r = api.client.get(f"/bookings/by-reference/{q}", headers=user)
        elif which == 5:
            r = api.client.post(
                "/auth/token",
                content=f"username={q}&password={q}".encode(),
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
        elif which == 6:
            header = raw[:200].replace(b"\r", b"").replace(b"\n", b"").replace(b"\x00", b"") or b"k"
            r = api.client.post(
                "/bookings",
                json={"flight_id": flight_id, "passengers": [{"seat": "3C", "name": "Bo"}]},
                headers={**user, "Idempotency-Key": header},
            )
        else:
            r = api.client.get(f"/bookings/{q}", headers=admin)
        assert_safe(r)

    run()


# Examples per operation and generation mode: about 20 operations x 2 modes x 15 is ~600 requests,
# under a minute here.
SCHEMATHESIS_EXAMPLES = 15


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_every_operation_in_the_openapi_schema_never_gets_a_5xx(
    world: tuple[Api, dict[str, str], dict[str, str], int],
) -> None:
    """schemathesis, authenticated as an admin: schema-valid and schema-invalid data for each
    operation of /openapi.json, with the seed pinned."""
    api, admin, _user, _flight_id = world
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results) >= 15, "every operation in the schema is testable"
    # Cancelling the flight first would turn every later hold and booking into a 409: last.
    operations.sort(key=lambda op: op.path.endswith("/cancel"))
    statuses: set[int] = set()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(PROPERTY_SETTINGS, max_examples=SCHEMATHESIS_EXAMPLES)
            @hypothesis.seed(20261130)
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                response = case.call(headers=admin)
                statuses.add(response.status_code)
                case.validate_response(response, checks=[not_a_server_error])

            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                # No invalid request exists for an operation without parameters (GET /healthz).
                assert mode is GenerationMode.NEGATIVE, operation.label
    # The run reached the operations themselves, not only validation.
    assert {200, 201, 404, 422} <= statuses, statuses
