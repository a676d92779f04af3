"""Conditional GET (RFC 9110 section 13.1.2): an ETag from the response body, 304 when it matches.

The page polls the seat map every few seconds; an unchanged map then costs a 304 with no body.
"""

from __future__ import annotations

import hashlib

from fastapi import Request, Response, status
from pydantic import BaseModel


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


def conditional_json(request: Request, model: BaseModel) -> Response:
    """`model` as JSON with a strong ETag, or an empty 304 when the request's If-None-Match matches.

    `Cache-Control: no-cache` lets a client keep the copy but makes it ask again every time.
    A 304 carries the same ETag and Cache-Control as the 200 would (RFC 9110 section 15.4.5).
    """
    body = model.model_dump_json().encode()
    headers = {"ETag": etag_for(body), "Cache-Control": "no-cache"}
    if none_match(request.headers.get("if-none-match"), headers["ETag"]):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
