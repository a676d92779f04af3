-- GET /flights/{id}/seats: the statements the booking API sends for one request, as captured with
-- log_statement = all (";" is SQLAlchemy's pool pre-ping). -D flight_id=… picks the flight.
;
BEGIN;
SELECT flights.id, flights.number, flights.origin, flights.destination, flights.departure_at, flights.arrival_at, flights.seat_rows, flights.seat_letters, flights.fare, flights.created_at FROM flights WHERE flights.id = :flight_id;
SELECT seat_claims.seat FROM seat_claims WHERE seat_claims.flight_id = :flight_id AND (seat_claims.expires_at IS NULL OR seat_claims.expires_at > now());
ROLLBACK;
