"""The booking API application (`app.main:app`)."""

from __future__ import annotations

import gc
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import sqlalchemy as sa
from fastapi import FastAPI, Request, status
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline

from app.api.hot import HotPaths
from app.api.routes import auth, bookings, flights, holds, ops
from app.core import emf
from app.core import metric_catalogue as mc
from app.core.asyncdb import AsyncDatabase
from app.core.config import Settings, get_settings
from app.core.db import DatabaseUnavailable, make_engine, make_sessionmaker, secret_credentials
from app.core.errors import install_error_handlers
from app.core.limits import BodySizeLimitMiddleware
from app.core.logging import RequestLogMiddleware, configure_logging
from app.seats import FlightDeparted
from app.web import install_web

log = logging.getLogger("booking.app")

DB_UNAVAILABLE_DETAIL = "database temporarily unavailable; retry shortly"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.LOG_LEVEL)
    engine = make_engine(settings)
    # The hot paths' async pool (PostgreSQL only); it shares the secret cache with the sync engine.
    hot_db = None if engine.dialect.name == "sqlite" else AsyncDatabase(settings, secret_credentials(engine))

    emf.configure(settings.METRICS_NAMESPACE, settings.METRICS_FLUSH_SECONDS)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        emf.start()  # in the worker, after gunicorn forked it: each worker flushes its own counts
        # Everything alive after start-up (modules, routes, pydantic schemas: ~140k objects) lives
        # for the whole process: moving it out of the collector's reach keeps full collections, and
        # the 80-130 ms pauses they caused under load, small.
        gc.collect()
        gc.freeze()
        yield
        if hot_db is not None:
            await hot_db.close()
        engine.dispose()
        emf.shutdown()  # the last partial minute, after in-flight requests finished

    # /docs and /redoc with Swagger UI and ReDoc served from the installed fastapi-offline package
    # (under /static-offline-docs), so they work without reaching a CDN.
    application = FastAPIOffline(
        title="Booking API",
        version="1.0.0",
        description="Flights, seat holds and bookings.",
        lifespan=lifespan,
        # No OpenTelemetry here (metrics are Prometheus and EMF, logs our JSON lines): FastAPI's native
        # telemetry would otherwise look up three global OTel providers (environment reads) on every
        # request to find them unconfigured (fastapi.telemetry.TelemetryConfig).
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    application.state.settings = settings
    application.state.engine = engine
    application.state.sessionmaker = make_sessionmaker(engine)
    application.state.hot_db = hot_db
    if settings.JWT_SECRET is not None:
        application.state.jwt_secret = settings.JWT_SECRET.get_secret_value()
    else:
        # Tokens then only work within this process; `serve` sets one for all its workers.
        log.warning("JWT_SECRET is not set; using a random per-process signing key")
        application.state.jwt_secret = secrets.token_urlsafe(32)

    application.add_middleware(HotPaths)  # inside the log, limits and CORS: same log line, metrics
    # The last added is outermost: the log sees every answer, and CORS headers go on 413s too.
    application.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.MAX_BODY_BYTES)
    if settings.cors_origins:
        application.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Idempotent-Replayed", "Retry-After"],
            max_age=600,
        )
    application.add_middleware(RequestLogMiddleware)
    install_error_handlers(application)
    for module in (ops, auth, flights, holds, bookings):
        application.include_router(module.router)
    install_web(application)

    @application.exception_handler(FlightDeparted)
    async def flight_departed(request: Request, exc: FlightDeparted) -> JSONResponse:
        return JSONResponse(
            {"detail": f"flight {exc} has already departed"}, status_code=status.HTTP_409_CONFLICT
        )

    @application.exception_handler(sa.exc.OperationalError)
    @application.exception_handler(sa.exc.InterfaceError)
    @application.exception_handler(sa.exc.TimeoutError)
    @application.exception_handler(DatabaseUnavailable)
    @application.exception_handler(psycopg.OperationalError)
    async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        emf.count(mc.DATABASE_UNAVAILABLE)
        log.warning("database unavailable: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return JSONResponse(
            {"detail": DB_UNAVAILABLE_DETAIL},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": ops.RETRY_AFTER_SECONDS},
        )

    return application


app = create_app()
