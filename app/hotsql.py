"""The SQL of the PostgreSQL hot paths: one statement, one round trip per request.

bench/run.py builds its pgbench scripts from these very strings (`pgbench_sql`), so the ceiling it
measures runs exactly what the endpoints send.

The booking statement is the fast path of the rules in app/api/routes/bookings.py (`book`): it only
inserts when every rule plainly holds (the user exists, the key is unused, the flight exists and has
not departed, every seat exists and has no claim row at all, not even an expired one). When it
inserts nothing, or a constraint fires (a concurrent winner for a seat or for the same key), the
request takes the full path, which applies the same rules with their exact error messages, sweeps
expired claims and replays idempotent retries. So the fast path can refuse more than the rules do,
never less, and the unique (flight_id, seat) index stays the one authority for the seat invariant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from app.core.db import startup_options

# Session settings of the hot pool's connections (app/core/asyncdb.py), and of pgbench's in bench/run.py.
# - plan_cache_mode=force_generic_plan: PostgreSQL re-plans a prepared statement on every execution
#   while its average "custom" plan looks cheaper than the generic one (docs: PREPARE, Notes; runtime
#   config "plan_cache_mode"), which on a young or never-ANALYZEd database is always: planning
#   BOOK_SQL cost ~0.5 ms of database CPU per booking, two to three times its execution.
# - enable_seqscan=off: a generic plan is kept until its tables' statistics change, and one made while
#   the tables were a page or two (statistics of a young database) scans them sequentially, which gets
#   slower with every row they gain (1.4 ms of database CPU per booking after 9,000 bookings, against
#   0.4 with index scans). Every access in these statements is a point lookup on a unique index.
# Both statements are written so that these plans probe the unique indexes whatever the statistics;
# tests/app/test_hot_paths.py EXPLAINs them on a fresh, a tiny and a full database.
HOT_SESSION_SETTINGS = {"plan_cache_mode": "force_generic_plan", "enable_seqscan": "off"}
# The same as libpq startup options (pgbench's PGOPTIONS).
HOT_SESSION_OPTIONS = startup_options(HOT_SESSION_SETTINGS)

# flight row + live claims in one statement; NULL row → 404.
SEAT_MAP_SQL = """\
SELECT f.seat_rows, f.seat_letters,
       ARRAY(SELECT c.seat FROM seat_claims c
             WHERE c.flight_id = f.id AND (c.expires_at IS NULL OR c.expires_at > %(now)s::timestamptz)),
       f.status
FROM flights f WHERE f.id = %(flight_id)s::int"""

BOOK_SQL = """\
WITH ok AS (
  SELECT f.id, f.fare * %(n)s::int AS total
  FROM flights f JOIN users u ON u.id = %(user_id)s::int
  WHERE f.id = %(flight_id)s::int AND f.status <> 'cancelled' AND f.departure_at > %(now)s::timestamptz
    AND NOT EXISTS (SELECT 1 FROM bookings b
                    WHERE b.user_id = %(user_id)s::int AND b.idempotency_key = %(key)s::text)
    -- One probe of uq_seat_claims_flight_seat per requested seat, whatever the statistics: with
    -- `c.seat = ANY(...)` a generic plan read every claim of the flight (HOT_SESSION_OPTIONS).
    AND NOT EXISTS (SELECT 1 FROM unnest(%(seats)s::text[]) s(seat)
                    WHERE (SELECT true FROM seat_claims c WHERE c.flight_id = f.id AND c.seat = s.seat))
    AND NOT EXISTS (SELECT 1 FROM unnest(%(seats)s::text[]) s
                    WHERE left(s, -1)::int NOT BETWEEN 1 AND f.seat_rows
                       OR strpos(f.seat_letters, right(s, 1)) = 0)
  -- Like the full path's FOR SHARE: a concurrent flight cancellation waits for this booking, or
  -- this booking waits for it and then sees the flight cancelled.
  FOR SHARE OF f
), b AS (
  INSERT INTO bookings (reference, user_id, flight_id, status, total_fare, idempotency_key, request_hash,
                        created_at)
  SELECT %(reference)s::text, %(user_id)s::int, ok.id, 'confirmed', ok.total, %(key)s::text, %(hash)s::text,
         %(now)s::timestamptz
  FROM ok RETURNING id, total_fare
), p AS (
  INSERT INTO passengers (booking_id, seat, name)
  SELECT b.id, x.seat, x.name FROM b, unnest(%(seats)s::text[], %(names)s::text[]) AS x(seat, name)
), c AS (
  INSERT INTO seat_claims (flight_id, seat, booking_id)
  SELECT %(flight_id)s::int, x.seat, b.id FROM b, unnest(%(seats)s::text[]) AS x(seat)
)
SELECT b.id, b.total_fare FROM b"""

_PARAM = re.compile(r"%\((\w+)\)s")


def pgbench_sql(sql: str) -> str:
    """The same statement with pgbench variables (`:name`) where it has `%(name)s`."""
    return _PARAM.sub(r":\1", sql)


@dataclass(frozen=True)
class Numbered:
    """A statement with PostgreSQL's own `$n` parameters (what asyncpg sends), and the names they stand
    for: one number per name, however often the name appears."""

    sql: str
    names: tuple[str, ...]

    def args(self, params: Mapping[str, object]) -> list[object]:
        return [params[name] for name in self.names]


def numbered(sql: str) -> Numbered:
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return Numbered(_PARAM.sub(number, sql), tuple(names))


SEAT_MAP = numbered(SEAT_MAP_SQL)
BOOK = numbered(BOOK_SQL)
