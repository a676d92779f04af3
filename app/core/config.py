"""Runtime settings, read from the environment (the task definition, run-local or the tests)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# An unset DATABASE_URL means the embedded default: a SQLite file under /tmp, the only writable
# path in the container (run-local points it at ./.local/booking.db instead).
DEFAULT_SQLITE_URL = "sqlite:////tmp/booking.db"


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
    JWT_TTL_MINUTES: int = Field(default=60, ge=1, le=7 * 24 * 60)
    HOLD_TTL_SECONDS: int = Field(default=600, ge=1, le=24 * 3600)

    LOG_LEVEL: str = "INFO"
    PORT: int = Field(default=8000, ge=1, le=65535)
    WEB_CONCURRENCY: int = Field(default=2, ge=1, le=64)
    # After SIGTERM: serve on with /healthz at 503 for DRAIN_SECONDS (the stack derives it from the
    # target group's health check; 0 outside a load balancer), then give in-flight requests up to
    # GRACEFUL_TIMEOUT_SECONDS. The task's stopTimeout covers both (app/core/draining.py).
    DRAIN_SECONDS: float = Field(default=0, ge=0, le=110)
    GRACEFUL_TIMEOUT_SECONDS: int = Field(default=20, ge=1, le=110)

    @property
    def is_sqlite(self) -> bool:
        if self.DATABASE_URL:
            return self.DATABASE_URL.startswith("sqlite")
        return self.DB_HOST is None


@lru_cache
def get_settings() -> Settings:
    return Settings()
