"""Browser tests of the seat-picker page: headless Debian Chromium driven by Playwright, against the
real server (`python -m app serve`, gunicorn + 2 uvicorn workers) on the test PostgreSQL.

Chromium comes from Debian (`apt-get install chromium`, done by .ci/run), never from `playwright
install`. Without it these tests skip, except under CI=true (or BOOKING_REQUIRE_BROWSER_TEST=1),
where they fail. Screenshots go to build/screenshots/ (and to docs/img/ with
BOOKING_DOCS_SCREENSHOTS=1, to refresh the ones the docs show).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from tests.app.server import REPO, LiveServer, live_server
from tests.conftest import PgServer

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/web is a browser test (`-m "not browser"` leaves them out)."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO / "build" / "screenshots"
DOCS_IMAGES = REPO / "docs" / "img"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-1"
PASSWORD = "traveller-pass-1"
SHORT_HOLD_SECONDS = 6
# Chromium logs every 4xx/5xx answer to fetch() as a console error; tests that expect one allow it.
RESOURCE_STATUS = re.compile(r"Failed to load resource: the server responded with a status of (\d{3})")


def _browser_required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("BOOKING_REQUIRE_BROWSER_TEST") == "1"


def chromium_path() -> str:
    path = os.environ.get("BOOKING_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if Path(path).exists():
        return path
    reason = "Chromium not found (apt-get install chromium; or set BOOKING_CHROMIUM)"
    if _browser_required():
        pytest.fail(f"browser tests are required in CI but {reason}")
    pytest.skip(reason)


def save_screenshot(page: Any, name: str, **kwargs: Any) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), **kwargs)
    if os.environ.get("BOOKING_DOCS_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMAGES / name)
    return path


# --- the site --------------------------------------------------------------------------------------
_codes = itertools.count()
_numbers = itertools.count(5000)  # flight numbers below 5000 are the ones tests choose themselves


def airport_pair() -> tuple[str, str]:
    """Two airport codes no other test uses, so a search finds exactly this test's flights."""
    n = next(_codes)
    return f"Q{chr(65 + n // 26 % 26)}{chr(65 + n % 26)}", f"Z{chr(65 + n // 26 % 26)}{chr(65 + n % 26)}"


@dataclass
class Site:
    """A running server plus an HTTP client for setting up and checking what the page did."""

    server: LiveServer
    admin: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def register(self, email: str | None = None, password: str = PASSWORD) -> tuple[str, dict[str, str]]:
        email = email or f"t{secrets.token_hex(5)}@example.com"
        with self.client() as c:
            r = c.post("/auth/register", json={"email": email, "password": password})
            assert r.status_code == 201, r.text
        return email, self.login(email, password)

    def login(self, email: str, password: str) -> dict[str, str]:
        with self.client() as c:
            r = c.post("/auth/token", data={"username": email, "password": password})
            assert r.status_code == 200, r.text
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def flight(self, **overrides: Any) -> dict[str, Any]:
        origin, destination = airport_pair()
        departure = datetime(2031, 6, 1, 9, 30, tzinfo=UTC)
        body: dict[str, Any] = {
            "number": f"BK{next(_numbers)}",
            "origin": origin,
            "destination": destination,
            "departure_at": departure.isoformat(),
            "arrival_at": (departure + timedelta(hours=2, minutes=5)).isoformat(),
            "rows": 8,
            "seat_letters": "ABCDEF",
            "fare": "129.00",
        }
        body.update(overrides)
        with self.client() as c:
            r = c.post("/flights", json=body, headers=self.admin)
            assert r.status_code == 201, r.text
            result: dict[str, Any] = r.json()
            return result

    def book(self, headers: dict[str, str], flight_id: int, seats: list[str]) -> dict[str, Any]:
        passengers = [{"seat": s, "name": f"Passenger {s}"} for s in seats]
        with self.client() as c:
            r = c.post("/bookings", json={"flight_id": flight_id, "passengers": passengers}, headers=headers)
            assert r.status_code == 201, r.text
            result: dict[str, Any] = r.json()
            return result

    def session(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        """What the page keeps in sessionStorage once `email` has signed in."""
        headers = self.login(email, password)
        user = self.get("/auth/me", headers)
        token = headers["Authorization"].removeprefix("Bearer ")
        return {"token": token, "expiresAt": (datetime.now(UTC).timestamp() + 3000) * 1000, "user": user}

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        with self.client() as c:
            r = c.get(path, headers=headers or {})
            assert r.status_code == 200, r.text
            return r.json()

    def seat_available(self, flight_id: int) -> dict[str, bool]:
        return {s["seat"]: s["available"] for s in self.get(f"/flights/{flight_id}/seats")["seats"]}


@pytest.fixture(scope="session")
def site_database(pg_server: PgServer) -> Iterator[str]:
    name = "booking_web"
    yield pg_server.create_database(name)
    pg_server.drop_database(name)


def _start_site(db_url: str, log_path: Path, **env: str) -> Iterator[Site]:
    workers = int(env.pop("WEB_CONCURRENCY", "2"))
    full_env = {"DATABASE_URL": db_url, "JWT_SECRET": "browser-test-jwt-secret-of-enough-length", **env}
    with live_server(full_env, log_path, workers=workers) as server:
        yield Site(server)


def _make_admin(site: Site, db_url: str) -> None:
    """Register the admin through the API and promote it in the database (what create-admin does)."""
    site.register(ADMIN_EMAIL, ADMIN_PASSWORD)
    engine = sa.create_engine(db_url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET is_admin = true WHERE email = :e"), {"e": ADMIN_EMAIL})
    engine.dispose()
    site.admin = site.login(ADMIN_EMAIL, ADMIN_PASSWORD)


@pytest.fixture(scope="session")
def site(site_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The site as deployed: default hold TTL (10 minutes), two workers."""
    chromium_path()  # no browser, no point starting servers
    for running in _start_site(site_database, tmp_path_factory.mktemp("site") / "server.log"):
        _make_admin(running, site_database)
        yield running


@pytest.fixture(scope="session")
def short_hold_site(
    site: Site, site_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """The same database (and signing key) behind a server whose holds last SHORT_HOLD_SECONDS."""
    log = tmp_path_factory.mktemp("short-hold-site") / "server.log"
    for running in _start_site(
        site_database, log, HOLD_TTL_SECONDS=str(SHORT_HOLD_SECONDS), WEB_CONCURRENCY="1"
    ):
        running.admin = site.admin
        yield running


# --- the browser -----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if _browser_required():
            pytest.fail("browser tests are required in CI but the playwright package is not installed")
        pytest.skip("playwright is not installed")
    with sync_playwright() as playwright:
        # Playwright gives each launch a fresh temporary profile (--user-data-dir) of its own.
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@dataclass
class Watched:
    """A page plus everything that went wrong on it: console errors, uncaught exceptions, failed
    requests and HTTP error answers. `allowed_statuses` are answers the test provokes on purpose."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    error_responses: list[str] = field(default_factory=list)
    responses: list[tuple[int, str]] = field(default_factory=list)
    allowed_statuses: set[int] = field(default_factory=set)

    def problems(self) -> list[str]:
        unexpected_console = [
            text
            for text in self.console_errors
            if not ((m := RESOURCE_STATUS.search(text)) and int(m.group(1)) in self.allowed_statuses)
        ]
        unexpected_status = [
            entry
            for entry in self.error_responses
            if int(entry.split(" ", 1)[0]) not in self.allowed_statuses
        ]
        return [
            *(f"console error: {t}" for t in unexpected_console),
            *(f"uncaught exception: {t}" for t in self.page_errors),
            *(f"request failed: {t}" for t in self.failed_requests),
            *(f"HTTP error: {t}" for t in unexpected_status),
        ]


PageFactory = Callable[..., Watched]


@pytest.fixture
def open_page(browser: Any) -> Iterator[PageFactory]:
    """open_page(url, **context_options) → Watched; a fresh browser context (own sessionStorage) each.

    At the end of the test every page must be free of console errors, uncaught exceptions, failed
    requests and unexpected HTTP errors.
    """
    contexts: list[Any] = []
    watched: list[Watched] = []

    def factory(url: str, session: dict[str, Any] | None = None, **options: Any) -> Watched:
        context = browser.new_context(
            viewport=options.pop("viewport", {"width": 1100, "height": 900}), **options
        )
        context.set_default_timeout(20_000)
        if session is not None:
            # Signed in from the first request on, as after signing in and reloading the tab.
            context.add_init_script(
                f"sessionStorage.setItem('booking.session', {json.dumps(json.dumps(session))})"
            )
        contexts.append(context)
        page = context.new_page()
        w = Watched(page)
        page.on("console", lambda m: w.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: w.page_errors.append(str(e)))
        page.on("requestfailed", lambda r: w.failed_requests.append(f"{r.method} {r.url}: {r.failure}"))

        def on_response(r: Any) -> None:
            w.responses.append((r.status, r.url))
            if r.status >= 400:
                w.error_responses.append(f"{r.status} {r.request.method} {r.url}")

        page.on("response", on_response)
        watched.append(w)
        page.goto(url)
        return w

    yield factory
    try:
        problems = [p for w in watched for p in w.problems()]
        assert not problems, "\n".join(problems)
    finally:
        for context in contexts:
            context.close()


# --- steps many tests take -------------------------------------------------------------------------
def seat(page: Any, label: str) -> Any:
    return page.locator(f'#cabin button[data-seat="{label}"]')


def sign_in_from_header(page: Any, email: str, password: str = PASSWORD) -> None:
    page.get_by_role("button", name="Sign in", exact=True).first.click()
    panel = page.locator(".auth-panel")
    panel.get_by_label("Email").fill(email)
    panel.get_by_label("Password").fill(password)
    panel.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text(f"Signed in as {email}").wait_for()


def open_flight(page: Any, site: Site, flight_id: int) -> None:
    page.goto(f"{site.url}/#/flight/{flight_id}")
    page.locator("#cabin button.seat").first.wait_for()
