"""``POST /oauth/token``: OAuth 2.0 client credentials (RFC 6749 sections 2.3.1, 4.4 and 5).

Errors here take RFC 6749's shape (``{"error": "invalid_client", ...}``), not the gateway's
usual one: OAuth client libraries read that shape.
"""

from __future__ import annotations

import base64
import logging
from typing import Annotated, Literal
from urllib.parse import unquote_plus

import msgspec
from aiohttp import web

from gateway.errors import ChecksShed, Refused, http_status
from gateway.web.appkeys import PARTNER_AUTH, TRACE_ID
from gateway.web.bodies import FORM, read_form
from gateway.web.openapi import CLIENT_BASIC, operation

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

Credential = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class TokenRequest(msgspec.Struct, kw_only=True):
    """The form fields; client_id and client_secret go here or in HTTP Basic, not both."""

    grant_type: Literal["client_credentials"]
    client_id: Credential | None = None
    client_secret: Credential | None = None
    scope: Annotated[str, msgspec.Meta(max_length=256, description="Ignored: a client's access is its dealer")] \
        | None = None


class TokenResponse(msgspec.Struct, kw_only=True):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: Annotated[int, msgspec.Meta(description="Seconds until the token expires")]


class OAuthError(msgspec.Struct, kw_only=True, omit_defaults=True):
    """RFC 6749 section 5.2."""

    error: Literal["invalid_request", "invalid_client", "unsupported_grant_type", "invalid_grant",
                   "unauthorized_client", "invalid_scope", "temporarily_unavailable"]
    error_description: str | None = None


def _error(status: int, error: str, description: str, **extra: str) -> web.Response:
    headers = {**NO_STORE, **extra}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="oauth"'
    return web.Response(body=msgspec.json.encode(OAuthError(error=error, error_description=description)),
                        status=status, headers=headers, content_type="application/json")


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except ValueError:  # not base64 (raw header bytes too), or not UTF-8 inside
        return None
    client_id, colon, secret = decoded.partition(":")
    return (unquote_plus(client_id), unquote_plus(secret)) if colon else None


@routes.post("/oauth/token")
@operation(summary="Get an access token (client credentials)", tag="oauth", security=CLIENT_BASIC,
           body=TokenRequest, body_media=FORM, error_type=OAuthError,
           responses={200: (TokenResponse, "A bearer token for /partner/v1")},
           errors={400: "invalid_request (also: the form is not UTF-8, or a field comes twice) or "
                        "unsupported_grant_type", 401: "invalid_client (with WWW-Authenticate)",
                   413: "invalid_request: the body is over http.max_body_bytes or has more than 1000 fields",
                   429: "temporarily_unavailable: too many secret checks at once (with Retry-After)"},
           description="Send `grant_type=client_credentials` as a form, with the client's id and secret either "
                       "as form fields or as HTTP Basic credentials (not both). Errors follow RFC 6749 5.2.")
async def token(request: web.Request) -> web.Response:
    if request.content_type != FORM:
        return _error(400, "invalid_request", f"The body must be {FORM}.")
    try:
        form = await read_form(request)
    except Refused as exc:  # 413 over a cap, 400 not UTF-8: said in RFC 6749's shape
        return _error(http_status(exc), "invalid_request", exc.message)
    fields = dict(form)
    if len(fields) < len(form):
        return _error(400, "invalid_request", "A parameter was given more than once.")
    if fields.get("grant_type") not in (None, "client_credentials"):
        return _error(400, "unsupported_grant_type", "Only grant_type=client_credentials is supported.")
    try:
        body = msgspec.convert(fields, TokenRequest)
    except msgspec.ValidationError as exc:
        return _error(400, "invalid_request", str(exc))
    basic = _basic(request.headers.get("Authorization", ""))
    if basic and (body.client_id or body.client_secret):
        return _error(400, "invalid_request", "Give the client credentials in the body or in HTTP Basic, not both.")
    if request.headers.get("Authorization") and not basic:
        return _error(401, "invalid_client", "The Authorization header is not valid HTTP Basic.")
    client_id, secret = basic or (body.client_id, body.client_secret)
    if not client_id or not secret:
        return _error(401, "invalid_client", "Client authentication is required.")
    try:
        issued = await request.app[PARTNER_AUTH].issue(client_id, secret, request.remote)
    except ChecksShed as shed:
        return _error(429, "temporarily_unavailable", "Too many client secret checks at once; try again later.",
                      **{"Retry-After": str(shed.retry_after)})
    if issued is None:
        log.info("trace=%s oauth: client authentication failed", request[TRACE_ID])
        return _error(401, "invalid_client", "Client authentication failed.")
    log.info("trace=%s oauth: token issued to %s (dealer %s)", request[TRACE_ID], client_id, issued.dealer_id)
    return web.Response(body=msgspec.json.encode(TokenResponse(access_token=issued.access_token, token_type="Bearer",
                                                               expires_in=issued.expires_in)),
                        headers=NO_STORE, content_type="application/json")
