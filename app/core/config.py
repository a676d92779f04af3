"""Runtime settings, read from the environment (the task definition, run-local or the tests)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core.lambda_pool import LAMBDA_POOL_DEFAULTS

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def default_sqlite_url(root: Path = PROJECT_ROOT) -> str:
    """The database used when neither DATABASE_URL nor DB_HOST is set.

    In a source checkout (pyproject.toml beside app/) it is the checkout's `.local/booking.db`, the
    file `scripts/run-local` serves, whatever directory a command runs from, so `python -m app
    create-admin` and the local server always share it. In the image (only app/ is copied) it is a
    file under /tmp, the only writable path there.
    """
    if (root / "pyproject.toml").is_file():
        return f"sqlite:///{root / '.local' / 'booking.db'}"
    return "sqlite:////tmp/booking.db"


DEFAULT_SQLITE_URL = default_sqlite_url()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=True)

    DATABASE_URL: str | None = None
    DB_HOST: str | None = None
    DB_PORT: int = Field(default=5432, ge=1, le=65535)
    DB_NAME: str = "booking"
    DB_USERNAME: str | None = None
    DB_PASSWORD: SecretStr | None = None
    DB_SSLMODE: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = "prefer"
    DB_SECRET_ARN: str | None = None
    DB_CONNECT_TIMEOUT_SECONDS: int = Field(default=3, ge=1, le=60)
    DB_STATEMENT_TIMEOUT_MS: int = Field(default=5000, ge=100)
    DB_POOL_SIZE: int = Field(default=5, ge=1)
    DB_MAX_OVERFLOW: int = Field(default=10, ge=0)
    DB_POOL_TIMEOUT_SECONDS: float = Field(default=10, gt=0)
    AWS_REGION: str | None = None

    # HS256 wants at least 32 bytes of key (RFC 7518 3.2).
    JWT_SECRET: SecretStr | None = Field(default=None, min_length=32)
    # Lambda has no `secrets` injection like an ECS task definition: the function gets the secret's
    # ARN instead and app/lambda_handler.py reads the value at init (JWT_SECRET, if set, wins).
    JWT_SECRET_ARN: str | None = None
    JWT_TTL_MINUTES: int = Field(default=60, ge=1, le=7 * 24 * 60)
    HOLD_TTL_SECONDS: int = Field(default=600, ge=1, le=24 * 3600)

    # Request bodies larger than this are refused with 413 before they are parsed.
    MAX_BODY_BYTES: int = Field(default=64 * 1024, ge=1024, le=64 * 1024 * 1024)
    # Comma-separated origins allowed to call the API from a browser (CORS); empty: none.
    CORS_ORIGINS: str = ""

    LOG_LEVEL: str = "INFO"
    PORT: int = Field(default=8000, ge=1, le=65535)
    WEB_CONCURRENCY: int = Field(default=2, ge=1, le=64)
    # After SIGTERM: serve on with /healthz at 503 for DRAIN_SECONDS (the stack derives it from the
    # target group's health check; 0 outside a load balancer), then give in-flight requests up to
    # GRACEFUL_TIMEOUT_SECONDS. The task's stopTimeout covers both (app/core/draining.py).
    # CloudWatch namespace of the EMF metrics on stdout (app/core/emf.py); unset: no EMF records (local runs).
    METRICS_NAMESPACE: str | None = Field(default=None, min_length=1, max_length=255)
    METRICS_FLUSH_SECONDS: float = Field(default=60, ge=1, le=3600)
    # Serve Prometheus's /metrics. Off on Lambda: there is no scraper inside an execution environment,
    # each environment would only show its own counts, and the route must not face the internet.
    METRICS_ENABLED: bool = True
    DRAIN_SECONDS: float = Field(default=0, ge=0, le=110)
    GRACEFUL_TIMEOUT_SECONDS: int = Field(default=20, ge=1, le=110)

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.CORS_ORIGINS.split(",") if o.strip()]

    @property
    def db_connections_per_process(self) -> int:
        """The most connections one process (one Lambda execution environment) can open."""
        return self.DB_POOL_SIZE + self.DB_MAX_OVERFLOW

    @property
    def is_sqlite(self) -> bool:
        if self.DATABASE_URL:
            return self.DATABASE_URL.startswith("sqlite")
        return self.DB_HOST is None


@lru_cache
def get_settings() -> Settings:
    return Settings()


# No Prometheus /metrics either: no scraper reaches an execution environment (metrics go out as EMF).
LAMBDA_DEFAULTS: dict[str, object] = {**LAMBDA_POOL_DEFAULTS, "METRICS_ENABLED": False}


def lambda_settings(settings: Settings) -> Settings:
    """`settings` with the Lambda pool size and no `/metrics`, unless the environment sets them explicitly."""
    update = {k: v for k, v in LAMBDA_DEFAULTS.items() if k not in settings.model_fields_set}
    return settings.model_copy(update=update)
