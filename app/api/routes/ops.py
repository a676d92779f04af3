from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from app.core import draining, metrics
from app.core.db import DatabaseUnavailable
from app.core.migrations import current_revision, head_revision

router = APIRouter(tags=["ops"])

RETRY_AFTER_SECONDS = "5"


@router.get("/healthz", responses={503: {"description": "draining after SIGTERM: stop sending new work"}})
def healthz() -> JSONResponse:
    """The process is alive and serving (no database check: a DB outage must not kill tasks).

    While the server drains after SIGTERM it still serves, but answers 503 here so the load
    balancer marks the target unhealthy and routes new work elsewhere (app/core/draining.py).
    """
    if draining.is_draining():
        return JSONResponse({"status": "draining"}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
    return JSONResponse({"status": "ok"})


@router.get("/readyz", responses={503: {"description": "database unreachable or schema not at head"}})
def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers and its schema is at the newest migration."""
    engine: sa.Engine = request.app.state.engine
    head = head_revision()
    try:
        with engine.connect() as conn:
            current = current_revision(conn)
    except (sa.exc.SQLAlchemyError, DatabaseUnavailable) as exc:
        return JSONResponse(
            {"status": "unavailable", "detail": f"database unreachable: {type(exc).__name__}"},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    if current != head:
        return JSONResponse(
            {
                "status": "unavailable",
                "detail": f"database schema at {current}, expected {head}",
                "revision": current,
                "head": head,
            },
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    return JSONResponse({"status": "ready", "revision": current})


@router.get("/metrics", include_in_schema=False)
def prometheus_metrics(request: Request) -> Response:
    # Metrics are for scrapers inside the task or VPC. The load balancer adds X-Forwarded-For to
    # every request it passes on, so its presence means the request came from the internet; the ALB
    # also refuses /metrics itself, and this check holds when a path encoding slips past its rule.
    # Not served at all where METRICS_ENABLED is off (Lambda: no scraper, per-environment counts only).
    if "x-forwarded-for" in request.headers or not request.app.state.settings.METRICS_ENABLED:
        return JSONResponse({"detail": "Not Found"}, status_code=status.HTTP_404_NOT_FOUND)
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
