"""Reading request bodies and query strings into typed values, with the INTERFACE error shape."""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec
from aiohttp import web

from gateway.web.appkeys import MAX_BODY
from gateway.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

T = TypeVar("T")
_PATH = re.compile(r"at `\$\.?([^`]*)`")


def _field(message: str) -> str | None:
    match = _PATH.search(message)
    return match.group(1) if match else None


async def decode_json(request: web.Request, kind: type[T]) -> T:
    """The body as ``kind``: 415 when not JSON, 413 when over the cap, 400 malformed, 422 invalid."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType()
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise PayloadTooLarge(f"The request body is larger than {request.app[MAX_BODY]} bytes.",
                              limit=request.app[MAX_BODY]) from exc
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as exc:
        message = str(exc)
        details = {"field": _field(message)} if _field(message) else {}
        raise ValidationFailed(message, **details) from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}") from None


def query_int(request: web.Request, name: str, default: int, *, minimum: int | None = None,
              maximum: int | None = 2**62) -> int:
    """An integer query parameter; 422 naming it when it is not one or out of range (the default maximum
    keeps every value inside SQLite's 64-bit integers)."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(f"Query parameter {name!r} must be an integer.", field=name) from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValidationFailed(f"Query parameter {name!r} must be between {minimum} and {maximum}.", field=name)
    return value


def respond(value: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """``value`` (msgspec structs, lists, dicts) as a JSON response."""
    return web.Response(body=msgspec.json.encode(value), status=status, headers=headers,
                        content_type="application/json")
