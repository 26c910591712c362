"""Reading request bodies and query strings into typed values; what does not fit is refused (gateway/errors.py)."""

from __future__ import annotations

import re
from typing import TypeVar
from urllib.parse import parse_qsl

import msgspec
from aiohttp import web
from multidict import MultiDict

from gateway.web.appkeys import MAX_BODY
from gateway.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

T = TypeVar("T")
FORM = "application/x-www-form-urlencoded"
# aiohttp's own cap; a Twilio webhook has a few dozen fields, an OAuth token request four.
MAX_FORM_FIELDS = 1000
_PATH = re.compile(r"at `\$\.?([^`]*)`")


def _field(message: str) -> str | None:
    match = _PATH.search(message)
    return match.group(1) if match else None


async def decode_json(request: web.Request, kind: type[T]) -> T:
    """The body as ``kind``: 415 when not JSON, 413 when over the cap, 400 malformed, 422 invalid."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType()
    raw = await _read(request)
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as exc:
        message = str(exc)
        details = {"field": _field(message)} if _field(message) else {}
        raise ValidationFailed(message, **details) from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}") from None


async def read_form(request: web.Request) -> MultiDict[str]:
    """A urlencoded form body, every key in wire order: 415 when not a form, 413 over the byte or field
    cap, 400 when it (or a %-escape in it) is not UTF-8."""
    if request.content_type != FORM:
        raise UnsupportedMediaType(f"The body must be {FORM}.")
    raw = await _read(request)
    try:
        pairs = parse_qsl(raw.decode(), keep_blank_values=True, errors="strict", max_num_fields=MAX_FORM_FIELDS)
    except UnicodeDecodeError:
        raise BadRequest("The form body is not valid UTF-8.") from None
    except ValueError:  # parse_qsl's "Max number of fields exceeded"
        raise PayloadTooLarge(f"The form has more than {MAX_FORM_FIELDS} fields.", limit=MAX_FORM_FIELDS) from None
    return MultiDict(pairs)


def too_large(request: web.Request) -> PayloadTooLarge:
    """The 413 for a body over ``http.max_body_bytes`` (the cap lives on the root app, seen from sub-apps too)."""
    limit = request.config_dict[MAX_BODY]
    return PayloadTooLarge(f"The request body is larger than {limit} bytes.", limit=limit)


async def _read(request: web.Request) -> bytes:
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large(request) from None


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
