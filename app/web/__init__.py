"""The seat-picker web page: `/` and its assets under `/static/`, served by the API itself.

Plain HTML, CSS and JavaScript modules from `static/` (shipped as package data and in the image):
no build step, no CDN. Every page and asset response carries a Content-Security-Policy that allows
only this origin and no inline script or style, so injected markup cannot run code or load anything
from elsewhere; the API's own JSON responses are left as they are (and /docs keeps working).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PREFIX = "/static"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # The page's URLs carry flight and booking ids: tell no other site where a traveller came from.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    # File names carry no content hash (there is no build step), so browsers revalidate every
    # asset with its ETag instead of running a stale script after a deploy.
    "Cache-Control": "no-cache",
}


class SecurityHeaders:
    """Pure ASGI wrapper that sets SECURITY_HEADERS on every response of the wrapped app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
        self.names = {name for name, _ in self.headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in self.names]
                message = {**message, "headers": kept + self.headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=SECURITY_HEADERS)


def install_web(application: FastAPI) -> None:
    """Serve the page at `/` and its assets at `/static/…`."""
    application.add_api_route("/", index, methods=["GET"], include_in_schema=False)
    application.mount(STATIC_PREFIX, SecurityHeaders(StaticFiles(directory=STATIC_DIR)), name="static")
