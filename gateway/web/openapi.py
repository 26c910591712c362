"""The OpenAPI 3.1 document, built from the router and the msgspec types the handlers use.

A handler describes itself with :func:`operation`; its method and path come from the route
it is registered under, and its schemas from the same msgspec types that decode its body
and encode its answer, so the document cannot drift from the code. To document a new
path, decorate its handler (under the ``routes.get(...)`` line) and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import msgspec
from aiohttp import web

from gateway import __version__
from gateway.web.appkeys import CONFIG

routes = web.RouteTableDef()

API_KEY = "apiKey"
PARTNER_OAUTH = "partnerOAuth"
CLIENT_BASIC = "clientBasic"
TRACE_HEADER = "x-partner-trace-id"
REF = "#/components/schemas/{name}"

Timestamp = Annotated[str, msgspec.Meta(description="UTC, ISO 8601 with milliseconds", examples=[
    "2026-01-15T10:30:00.000Z"], extra_json_schema={"format": "date-time"})]


class ErrorInfo(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(description="Machine-readable, e.g. CONTACT_NOT_FOUND")]
    message: str
    details: dict[str, Any]


class ErrorBody(msgspec.Struct):
    """Every JSON error but those of /oauth/token (RFC 6749 fixes theirs)."""

    error: ErrorInfo


@dataclass(frozen=True)
class Param:
    """A path, query or header parameter; ``kind`` is a type msgspec can describe."""

    name: str
    where: str  # path | query | header
    kind: Any = str
    description: str = ""
    required: bool | None = None  # None: required for path parameters only


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    security: str | None
    responses: Mapping[int, tuple[Any, str]]  # status -> (type or None for no body, description)
    errors: Mapping[int, str] = field(default_factory=dict)  # status -> description, body ErrorBody
    body: Any = None
    body_media: str = "application/json"
    params: Sequence[Param] = ()
    description: str = ""
    error_type: Any = ErrorBody
    extra: Mapping[str, Any] = field(default_factory=dict)  # merged into the operation object


def operation(**fields: Any) -> Callable:
    """Describe a handler for /openapi.json (see :class:`Operation` for the fields)."""
    spec = Operation(**fields)

    def mark(handler: Callable) -> Callable:
        handler.__openapi__ = spec
        return handler

    return mark


SECURITY_SCHEMES = {
    API_KEY: {"type": "http", "scheme": "bearer", "bearerFormat": "gwk_<id>_<secret>",
              "description": "An API key from `gateway api-key add` (only its argon2 hash is stored)."},
    PARTNER_OAUTH: {"type": "oauth2", "description": "OAuth 2.0 client credentials; each client acts for one "
                    "dealer. The token is opaque; send it as `Authorization: Bearer <token>`.",
                    "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {}}}},
    CLIENT_BASIC: {"type": "http", "scheme": "basic",
                   "description": "client_id and client_secret (each form-urlencoded) as HTTP Basic credentials."},
}


def _routes(app: web.Application):
    """``app``'s routes and those of its sub-applications (the carrier's, under /carriers/<name>/)."""
    yield from app.router.routes()
    for resource in app.router.resources():
        sub = resource.get_info().get("app")
        if isinstance(sub, web.Application):
            yield from _routes(sub)


def _documented(app: web.Application) -> list[tuple[str, str, Operation]]:
    found = []
    for route in _routes(app):
        spec = getattr(route.handler, "__openapi__", None)
        if spec is not None and route.resource is not None and route.method != "HEAD":
            found.append((route.resource.canonical, route.method.lower(), spec))
    return found


def _types(ops: Sequence[Operation]) -> list[Any]:
    kinds = []
    for op in ops:
        kinds += [t for t, _ in op.responses.values() if t is not None]
        kinds += [p.kind for p in op.params]
        if op.errors:
            kinds.append(op.error_type)
        if op.body is not None:
            kinds.append(op.body)
    return list(dict.fromkeys(kinds))


def build(app: web.Application) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every documented route of ``app``."""
    found = _documented(app)
    kinds = _types([op for _, _, op in found])
    schemas, components = msgspec.json.schema_components(kinds, ref_template=REF)
    schema_of = dict(zip(kinds, schemas))
    paths: dict[str, dict[str, Any]] = {}
    for path, method, op in sorted(found, key=lambda f: f[0]):
        paths.setdefault(path, {})[method] = _operation(path, method, op, schema_of)
    config = app[CONFIG]
    return {
        "openapi": "3.1.0",
        "info": {"title": "alarm-sms-gateway", "version": __version__, "description": DESCRIPTION},
        "servers": [{"url": config.http.public_url.rstrip("/")}],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": SECURITY_SCHEMES},
    }


def _operation(path: str, method: str, op: Operation, schema_of: dict) -> dict[str, Any]:
    trace = {"name": TRACE_HEADER, "in": "header", "required": False, "schema": {"type": "string"},
             "description": "Your id for this request (letters, digits, `._:-`, up to 128); echoed in the "
                            "response and written into its log lines and event-log rows. Otherwise one is made."}
    params = [trace]
    names = set(re.findall(r"{(\w+)}", path))
    for p in op.params:
        required = p.where == "path" if p.required is None else p.required
        params.append({"name": p.name, "in": p.where, "required": required, "description": p.description,
                       "schema": schema_of[p.kind]})
    missing = names - {p.name for p in op.params if p.where == "path"}
    assert not missing, f"{method.upper()} {path}: describe the path parameter(s) {missing}"
    out: dict[str, Any] = {"summary": op.summary, "tags": [op.tag], "operationId": _op_id(method, path),
                           "parameters": params, "responses": {}}
    if op.description:
        out["description"] = op.description
    if op.security == CLIENT_BASIC:
        out["security"] = [{CLIENT_BASIC: []}, {}]
    elif op.security:
        out["security"] = [{op.security: []}]
    else:
        out["security"] = []
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {op.body_media: {"schema": schema_of[op.body]}}}
    echo = {TRACE_HEADER: {"description": "The request's trace id.", "schema": {"type": "string"}}}
    for status, (kind, text) in op.responses.items():
        response: dict[str, Any] = {"description": text, "headers": echo}
        if kind is not None:
            response["content"] = {"application/json": {"schema": schema_of[kind]}}
        out["responses"][str(status)] = response
    for status, text in op.errors.items():
        out["responses"][str(status)] = {"description": text, "headers": echo,
                                         "content": {"application/json": {"schema": schema_of[op.error_type]}}}
    out.update(op.extra)
    return out


def _op_id(method: str, path: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", path.replace("{", "by_")) if w]
    return method + "".join(w[:1].upper() + w[1:] for w in words)


DESCRIPTION = """\
The SMS gateway's HTTP APIs.

* `/ext/v1`: the automation platform's API, bearer API key.
* `/partner/v1`: the partner Contacts API, OAuth 2.0 client credentials (`POST /oauth/token`);
  each client acts for exactly one dealer.

Every error but those of `/oauth/token` has the shape
`{"error": {"code": "...", "message": "...", "details": {...}}}`; a validation error (422)
names the offending field in `details.field`. `/oauth/token` answers errors as RFC 6749
section 5.2 requires: `{"error": "invalid_client", "error_description": "..."}`.

Contact ids are numbers (`contact_id`, e.g. `1`); in paths they are written as that number.

Another dealer's `dealerId` is answered 403 `DEALER_FORBIDDEN` whether or not that dealer
exists. A site or contact that is not the caller's is answered 404 exactly as one that does
not exist, so nothing can be learned about other dealers' data.
"""


@routes.get("/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(build(request.app))
