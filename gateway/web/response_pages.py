"""The pages behind the links in verification emails: confirm or cancel an alarm with one click.

A GET shows what the click will do and a button (``/v/{token}`` alone: both buttons); only the POST answers (mail scanners follow
links, they do not submit forms). An unknown, used or expired token gets the same page, which
names nothing (gateway/services/responses.py decides which links open).
"""

from __future__ import annotations

import html

from aiohttp import web

from gateway.web.appkeys import RESPONSE_LINKS, TRACE_ID
from gateway.web.page import page

routes = web.RouteTableDef()
LABELS = {"confirm": "Confirm the alarm", "cancel": "Cancel the alarm"}
STYLE = ("body{font:18px/1.4 system-ui,sans-serif;margin:2em auto;max-width:28em;padding:0 1em}"
         "button{font-size:1.1em;padding:.7em 1.4em;border-radius:.4em;border:0;background:#b00020;color:#fff}")
GONE = "This link is no longer valid: it was used already, or the alarm verification is over."


def _page(title: str, body: str, status: int = 200) -> web.Response:
    return page(title, f"<h1>{html.escape(title)}</h1>{body}", style=STYLE, status=status)


def _gone() -> web.Response:
    return _page("Link not valid", f"<p>{GONE}</p>", status=404)


@routes.get("/v/{token}")
async def choose(request: web.Request) -> web.Response:
    """Both buttons: where a push notification's click leads when the browser shows no actions."""
    message = await request.app[RESPONSE_LINKS].message(request.match_info["token"], "confirm")
    if message is None:
        return _gone()
    token = html.escape(request.match_info["token"])
    forms = "".join(f'<form method=post action="{token}/{action}"><button type=submit>{html.escape(label)}</button>'
                    f"</form>" for action, label in LABELS.items())
    return _page("Confirm or cancel the alarm", f"<p>{html.escape(message)}</p>{forms}")


@routes.get("/v/{token}/{action}")
async def show(request: web.Request) -> web.Response:
    action = request.match_info["action"]
    message = await request.app[RESPONSE_LINKS].message(request.match_info["token"], action)
    if message is None:
        return _gone()
    label = LABELS[action]
    return _page(label, f"<p>{html.escape(message)}</p>"
                        f"<form method=post><button type=submit>{html.escape(label)}</button></form>")


@routes.post("/v/{token}/{action}")
async def answer(request: web.Request) -> web.Response:
    response = await request.app[RESPONSE_LINKS].answer(request.match_info["token"], request.match_info["action"],
                                                        request[TRACE_ID])
    if response is None:
        return _gone()
    return _page(f"Alarm {response}", f"<p>Thank you. The central station has your answer: the alarm is "
                                      f"<strong>{response}</strong>.</p>")
