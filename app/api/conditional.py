"""Conditional GET (RFC 9110 section 13.1.2): an ETag from the response body, 304 when it matches.

The page polls the seat map every few seconds; an unchanged map then costs a 304 with no body.
"""

from __future__ import annotations

import hashlib

from fastapi import Request, Response, status


def etag_for(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def none_match(if_none_match: str | None, etag: str) -> bool:
    """True when the If-None-Match header matches `etag`, i.e. the client's copy is current.

    If-None-Match uses the weak comparison: a `W/` prefix is ignored on either side, and `*` matches
    any current representation (RFC 9110 section 13.1.2).
    """
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


def conditional(
    if_none_match: str | None, body: bytes, etag: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body: `body` as JSON with a strong ETag (`etag`, when the caller already
    has `etag_for(body)`), or an empty 304 when `if_none_match` matches. `Cache-Control: no-cache`
    lets a client keep the copy but makes it ask again every time. A 304 carries the same ETag and
    Cache-Control as the 200 would (RFC 9110 section 15.4.5). Also used before routing by
    app/api/hot.py."""
    headers = {"ETag": etag or etag_for(body), "Cache-Control": "no-cache"}
    if none_match(if_none_match, headers["ETag"]):
        return status.HTTP_304_NOT_MODIFIED, headers, b""
    return status.HTTP_200_OK, headers, body


def conditional_bytes(request: Request, body: bytes, etag: str | None = None) -> Response:
    code, headers, content = conditional(request.headers.get("if-none-match"), body, etag)
    if code == status.HTTP_304_NOT_MODIFIED:
        return Response(status_code=code, headers=headers)
    return Response(content, media_type="application/json", headers=headers)
