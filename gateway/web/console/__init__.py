"""The operator console at /console/: a sub-application whose every page but sign-in needs a session.

Without a valid session cookie any console path redirects to the sign-in page; every POST must
carry the session's CSRF token. Errors are HTML pages here, not the JSON error shape of the APIs.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from importlib import resources
from urllib.parse import quote

from aiohttp import web

from gateway.auth.console_sessions import COOKIE, ConsoleSessions, load_secret
from gateway.errors import Refused, http_status
from gateway.services.alarm_board import AlarmBoard
from gateway.services.dispatch_desk import DispatchDesk
from gateway.web.appkeys import API_KEYS, CLOCK, CONFIG, KEYWORDS, STORE
from gateway.web.console import alarms, dispatch, health, sign_in, sites
from gateway.web.bodies import read_form
from gateway.web.console.keys import BOARD, DESK, FORM, SESSION, SESSIONS
from gateway.web.console.shell import e, page, url

PUBLIC = {"sign_in", "sign_in_form"}  # route names reachable without a session
SCRIPT = resources.files("gateway.web").joinpath("static/console.js").read_text()


def setup(app: web.Application) -> None:
    """Mount the console on ``app`` (after the services it uses are in ``app``)."""
    console = web.Application(middlewares=[signed_in])
    console[SESSIONS] = ConsoleSessions(app[API_KEYS], app[CLOCK], app[CONFIG].console)
    console[BOARD] = AlarmBoard(app[STORE], app[CLOCK])
    console[DESK] = DispatchDesk(app[STORE], app[KEYWORDS], app[CLOCK])
    for module in (sign_in, alarms, sites, dispatch, health):
        console.add_routes(module.routes)
    console.router.add_get("/static/console.js", script)
    console.router.add_route("*", "/{tail:.*}", not_found)  # unknown console paths need a session too
    # On the root app, set up before its store and loops (create_app appends those after this): a missing
    # secret file then stops the start before any loop thread could keep the process alive.
    app.cleanup_ctx.append(functools.partial(_secret, sessions=console[SESSIONS]))
    app.router.add_get("/console", slash)
    app.add_subapp("/console/", console)


async def slash(request: web.Request) -> web.Response:
    return web.Response(status=308, headers={"Location": url(request, "/")})


async def _secret(app: web.Application, *, sessions: ConsoleSessions) -> AsyncIterator[None]:
    config = app[CONFIG]
    configured = config.console.secret_file
    path = config.resolve(configured) if configured else config.state_folder / "console.key"
    sessions.secret = load_secret(path, create=configured is None)
    yield


def to_sign_in(request: web.Request) -> web.Response:
    back = request.path_qs if request.method == "GET" and "part=" not in request.query_string else url(request, "/")
    return web.Response(status=303, headers={"Location": url(request, f"/sign-in?next={quote(back, safe='')}"),
                                             "Cache-Control": "no-store"})


@web.middleware
async def signed_in(request: web.Request, handler) -> web.StreamResponse:
    try:
        if request.match_info.route.name not in PUBLIC:
            session = await request.app[SESSIONS].session(request.cookies.get(COOKIE))
            if session is None:
                return to_sign_in(request)
            request[SESSION] = session
        if request.method == "POST":
            request[FORM] = await read_form(request)
            if SESSION in request and not request.app[SESSIONS].csrf_ok(request[SESSION], request[FORM].get("csrf")):
                return page(request, "Form refused", '<p class="notice red">This form did not come from this '
                            "console session (or the session changed). Go back, reload the page and try again.</p>",
                            status=403)
        return await handler(request)
    except Refused as exc:
        return page(request, "Not possible", f'<p class="notice red">{e(exc.message)}</p>', status=http_status(exc),
                    headers=getattr(exc, "headers", None))


async def script(request: web.Request) -> web.Response:
    return web.Response(text=SCRIPT, content_type="text/javascript", charset="utf-8",
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})


async def not_found(request: web.Request) -> web.Response:
    return page(request, "Not found", f'<p>There is no console page here. <a href="{e(url(request, "/"))}">'
                "Back to the alarms</a>.</p>", status=404)
