"""Signing in to the console with an API key, and signing out."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from gateway.auth.console_sessions import COOKIE, SIGN_IN_COOKIE, SIGN_IN_FORM_SECONDS
from gateway.errors import TooManyRequests, Unauthorized
from gateway.web.appkeys import CONFIG
from gateway.web.console.keys import FORM, SESSION, SESSIONS
from gateway.web.console.shell import base, e, page, url

routes = web.RouteTableDef()


def _next(request: web.Request, wanted: str | None) -> str:
    """Where to go after signing in: a console path only (never another site: no open redirect)."""
    home = url(request, "/")
    if not wanted or not wanted.startswith(base(request) + "/") or "\\" in wanted:
        return home
    parts = urlsplit(wanted)
    return wanted if not parts.scheme and not parts.netloc and "//" not in parts.path else home


def _cookie(request: web.Request, response: web.Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path=base(request) + "/", httponly=True, samesite="Strict",
                        secure=request.config_dict[CONFIG].http.public_url.lower().startswith("https://"))


def _form(request: web.Request, message: str = "", status: int = 200, headers: dict | None = None,
          ended: bool = False) -> web.Response:
    sessions = request.app[SESSIONS]
    nonce = sessions.sign_in_nonce()
    wanted = _next(request, request.query.get("next"))
    notice = f'<p class="notice red" role="alert">{e(message)}</p>' if message else ""
    if ended:
        notice = ('<p class="notice yellow" role="status">Your session has ended (it expired, you signed out, '
                  "or its key was revoked). Sign in again.</p>")
    body = (f'{notice}<form class="card" method="post" action="{e(url(request, "/sign-in"))}?next='
            f'{e(wanted)}"><input type="hidden" name="csrf" value="{e(sessions.sign_in_token(nonce))}">'
            '<label for="key">API key</label><input type="password" id="key" name="key" required autocomplete="off" '
            'spellcheck="false" placeholder="gwk_...">'
            '<p class="muted">A key from <code>gateway api-key add</code>, or the daemon\'s <code>operator.key</code>.'
            '</p><button type="submit">Sign in</button></form>')
    response = page(request, "Sign in to the gateway console", body, status=status, headers=headers)
    _cookie(request, response, SIGN_IN_COOKIE, nonce, SIGN_IN_FORM_SECONDS)
    return response


@routes.get("/sign-in", name="sign_in_form")
async def sign_in_form(request: web.Request) -> web.Response:
    cookie = request.cookies.get(COOKIE)
    if cookie and await request.app[SESSIONS].session(cookie) is not None:
        return web.Response(status=303, headers={"Location": _next(request, request.query.get("next"))})
    return _form(request, ended=cookie is not None)


@routes.post("/sign-in", name="sign_in")
async def sign_in(request: web.Request) -> web.Response:
    sessions, form = request.app[SESSIONS], request[FORM]
    if not sessions.sign_in_token_ok(request.cookies.get(SIGN_IN_COOKIE), form.get("csrf")):
        return _form(request, "This sign-in form is out of date or did not come from this console: "
                              "try again.", status=403)
    try:
        cookie, session = await sessions.sign_in(form.get("key", "")[:200], request.remote)
    except TooManyRequests as exc:
        return _form(request, "Too many sign-in attempts from here; wait a minute and try again.", status=429,
                     headers=exc.headers)
    except Unauthorized:
        return _form(request, "That API key is not valid.", status=401)
    response = web.Response(status=303, headers={"Location": _next(request, request.query.get("next")),
                                                 "Cache-Control": "no-store"})
    _cookie(request, response, COOKIE, cookie, int(sessions.settings.session_minutes * 60))
    response.del_cookie(SIGN_IN_COOKIE, path=base(request) + "/")
    return response


@routes.post("/sign-out")
async def sign_out(request: web.Request) -> web.Response:
    request.app[SESSIONS].sign_out(request[SESSION])
    response = web.Response(status=303, headers={"Location": url(request, "/sign-in"), "Cache-Control": "no-store"})
    response.del_cookie(COOKIE, path=base(request) + "/")
    return response
