"""The web page as the API serves it (no browser): security headers, assets, packaging, and the seat
map's conditional GET. tests/web drives the page itself in Chromium."""

from __future__ import annotations

import glob
import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from docker.utils.build import PatternMatcher
from fastapi.testclient import TestClient

from app.api.conditional import etag_for, none_match
from app.main import create_app
from app.web import STATIC_DIR
from tests.app.conftest import Api, make_settings

ROOT = Path(__file__).resolve().parents[2]
ASSETS = sorted(p for p in STATIC_DIR.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The app without a database behind it: the page and its assets never touch one."""
    db = tmp_path_factory.mktemp("web") / "unused.db"
    with TestClient(create_app(make_settings(f"sqlite:///{db}"))) as c:
        yield c


def _csp(headers: Any) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in headers["content-security-policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_the_page_is_served_at_the_root_with_strict_headers(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = _csp(r.headers)
    assert csp["default-src"] == ["'none'"]
    for directive in ("script-src", "style-src", "img-src", "connect-src"):
        assert csp[directive] == ["'self'"], directive
    assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    policy = r.headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert not re.search(r"https?:|\*|data:|blob:", policy), "no other origin, scheme or wildcard"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-cache"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self.style_blocks = 0
        self.style_attrs = 0
        self.handlers: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.urls += [v for k, v in attrs if k in ("src", "href") and v and not v.startswith("#")]
        self.style_attrs += "style" in a
        self.handlers += [k for k in a if k.startswith("on")]
        self.style_blocks += tag == "style"
        self._in_script = tag == "script" and "src" not in a

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


def test_the_page_needs_nothing_the_policy_forbids(client: TestClient) -> None:
    """No inline script, style or event handler (the CSP would block them) and no other origin."""
    page = _Page()
    page.feed(client.get("/").text)
    assert (page.inline_scripts, page.style_blocks, page.style_attrs, page.handlers) == (0, 0, 0, [])
    assert page.urls and all(u.startswith("/") and not u.startswith("//") for u in page.urls), page.urls
    for url in page.urls:
        assert client.get(url).status_code == 200, url


def test_scripts_build_the_page_without_markup_strings_or_eval() -> None:
    """Text from the API goes into the page as text nodes; nothing is parsed as HTML or code."""
    for path in STATIC_DIR.rglob("*.js"):
        source = path.read_text()
        for banned in (
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
            'setAttribute("style"',
            "http://",
            "https://",
        ):
            assert banned not in source, f"{path.name} uses {banned}"
        for module in re.findall(r'from "(\./[^"]+)"', source):
            assert (path.parent / module).is_file(), f"{path.name} imports missing {module}"


@pytest.mark.parametrize("asset", ASSETS, ids=lambda p: str(p.relative_to(STATIC_DIR)))
def test_every_asset_is_served_with_its_type_and_the_headers(client: TestClient, asset: Path) -> None:
    url = f"/static/{asset.relative_to(STATIC_DIR).as_posix()}"
    r = client.get(url)
    assert r.status_code == 200
    assert r.content == asset.read_bytes()
    expected = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml"}
    assert r.headers["content-type"].split(";")[0] == expected[asset.suffix]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "unsafe-inline" not in r.headers["content-security-policy"]
    # No hashed file names (no build step), so browsers must revalidate; unchanged files cost a 304.
    assert r.headers["cache-control"] == "no-cache"
    again = client.get(url, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


def test_a_missing_asset_is_a_404(client: TestClient) -> None:
    assert client.get("/static/js/nope.js").status_code == 404
    assert client.get("/static/../main.py").status_code == 404


def test_the_assets_are_package_data() -> None:
    """pyproject's package-data globs (relative to app/) pick up every file of app/web/static."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["app"]
    packaged = {Path(p) for pattern in patterns for p in glob.glob(str(ROOT / "app" / pattern))}
    missing = [str(a.relative_to(ROOT)) for a in ASSETS if a not in packaged]
    assert ASSETS and not missing, f"not in package data: {missing}"


def test_the_image_build_context_keeps_the_assets() -> None:
    """app/ is the build context and `COPY . /srv/app` takes it whole, minus app/.dockerignore."""
    patterns = [
        line.strip()
        for line in (ROOT / "app" / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    matcher = PatternMatcher(patterns)
    app_dir = ROOT / "app"
    ignored = [a for a in ASSETS if matcher.matches(a.relative_to(app_dir).as_posix())]
    assert not ignored
    assert "COPY . /srv/app" in (app_dir / "Dockerfile").read_text()


# --- conditional GET of the seat map -------------------------------------------------------------------
def test_none_match() -> None:
    tag = '"abc"'
    assert none_match('"abc"', tag)
    assert none_match('W/"abc"', tag)  # weak comparison
    assert none_match('"x", W/"abc" ,"y"', tag)
    assert none_match("*", tag)
    assert not none_match('"abcd"', tag)
    assert not none_match(None, tag)
    assert not none_match("", tag)
    assert etag_for(b"{}") == etag_for(b"{}") != etag_for(b"{ }")


def test_seat_map_etag_and_304(api: Api) -> None:
    admin = api.admin()
    flight = api.flight(admin)
    url = f"/flights/{flight['id']}/seats"
    first = api.client.get(url)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert first.headers["cache-control"] == "no-cache"
    assert first.json()["seats"][0] == {"seat": "1A", "row": 1, "letter": "A", "available": True}

    unchanged = api.client.get(url, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    assert api.client.get(url, headers={"If-None-Match": f"W/{etag}"}).status_code == 304
    assert api.client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200

    user = api.user()
    r = api.client.post(f"/flights/{flight['id']}/holds", json={"seats": ["2B"]}, headers=user)
    assert r.status_code == 201, r.text
    changed = api.client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert {s["seat"]: s["available"] for s in changed.json()["seats"]}["2B"] is False
    assert api.client.get(url, headers={"If-None-Match": changed.headers["etag"]}).status_code == 304
    # A 404 is not cached: no ETag on it.
    missing = api.client.get("/flights/999999/seats")
    assert missing.status_code == 404 and "etag" not in missing.headers
