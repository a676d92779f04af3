-- GET /flights/{id}/seats for the seeded flight (BENCH_FLIGHT_ID).
wrk.method = "GET"
wrk.path = "/flights/" .. os.getenv("BENCH_FLIGHT_ID") .. "/seats"
wrk.headers["Accept"] = "application/json"
