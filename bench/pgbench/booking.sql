-- POST /bookings (one seat): the statements the booking API sends for one request, as captured with
-- log_statement = all (";" is SQLAlchemy's pool pre-ping). Every transaction books a new seat: client
-- c's n-th booking is global number n * clients + c, laid out over consecutive flights of 99 x 10
-- seats from :first_flight. -D first_flight=… user_id=… clients=… n=0.
\set n :n + 1
\set g :n * :clients + :client_id
\set flight :first_flight + :g / 990
\set i :g % 990
\set seat_row :i / 10 + 1
\set seat_letter :i % 10 + 1
;
BEGIN;
SELECT users.id, users.email, users.hashed_password, users.is_admin, users.created_at FROM users WHERE users.id = :user_id;
SELECT bookings.id, bookings.reference, bookings.user_id, bookings.flight_id, bookings.status, bookings.total_fare, bookings.idempotency_key, bookings.request_hash, bookings.created_at, bookings.cancelled_at FROM bookings WHERE bookings.user_id = :user_id AND bookings.idempotency_key = 'pgbench-' || :g::text;
SELECT flights.id, flights.number, flights.origin, flights.destination, flights.departure_at, flights.arrival_at, flights.seat_rows, flights.seat_letters, flights.fare, flights.created_at FROM flights WHERE flights.id = :flight;
INSERT INTO bookings (reference, user_id, flight_id, status, total_fare, idempotency_key, request_hash, created_at, cancelled_at) VALUES ('P' || lpad(:g::text, 7, '0'), :user_id, :flight, 'confirmed', 59.90, 'pgbench-' || :g::text, repeat('0', 64), now(), NULL) RETURNING bookings.id AS booking_id \gset
INSERT INTO passengers (booking_id, seat, name) VALUES (:booking_id, :seat_row::text || substr('ABCDEFGHJK', :seat_letter, 1), 'Bench Passenger') RETURNING passengers.id;
DELETE FROM seat_claims WHERE seat_claims.flight_id = :flight AND seat_claims.seat IN (:seat_row::text || substr('ABCDEFGHJK', :seat_letter, 1)) AND seat_claims.expires_at IS NOT NULL AND seat_claims.expires_at <= now();
SELECT seat_claims.seat FROM seat_claims WHERE seat_claims.flight_id = :flight AND (seat_claims.expires_at IS NULL OR seat_claims.expires_at > now()) AND seat_claims.seat IN (:seat_row::text || substr('ABCDEFGHJK', :seat_letter, 1));
INSERT INTO seat_claims (flight_id, seat, booking_id) VALUES (:flight, :seat_row::text || substr('ABCDEFGHJK', :seat_letter, 1), :booking_id) RETURNING seat_claims.id;
COMMIT;
