"""The welcome page a contact opens from the welcome text, and its Confirm button.

The token in the path is the only credential, so the page keeps it from leaking: no
referrer, no framing, no resource but the configured logo, and no script but the gateway's own
push-subscribe.js on the confirmed page when push alerts are set up (gateway/web/push_pages.py). Confirming takes a
POST (a form button) because link previewers and prefetchers follow GET links by themselves.
An unknown, expired or voided token gets one "not valid" page that says nothing more.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from aiohttp import web

from gateway.web.appkeys import CONFIG, PUSH, TRACE_ID, WELCOME
from gateway.web.page import page

routes = web.RouteTableDef()

STYLE = """
body{margin:0;font:17px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f5f8;color:#1d2433}
main{max-width:34rem;margin:0 auto;padding:1.5rem 1.25rem 3rem}
header{display:flex;align-items:center;gap:.9rem;margin-bottom:1.25rem}
header img{width:3.5rem;height:3.5rem;object-fit:contain;border-radius:.5rem;background:#fff}
header h1{font-size:1.3rem;margin:0}
.card{background:#fff;border-radius:.9rem;padding:1.25rem;box-shadow:0 1px 4px rgba(0,0,0,.08)}
.video{display:block;margin:1.1rem 0;padding:.85rem 1rem;border:2px solid #1f5fbf;border-radius:.6rem;
color:#1f5fbf;text-decoration:none;font-weight:600;text-align:center}
button{width:100%;padding:1rem;font-size:1.1rem;font-weight:700;color:#fff;background:#1f5fbf;border:0;
border-radius:.6rem}
.done{border-left:.4rem solid #1f8f4e}
.muted{color:#5b6578;font-size:.9rem}
.push{margin-top:1rem}
.push button{background:#fff;color:#1f5fbf;border:2px solid #1f5fbf}
""".strip()


def _img_source(logo_url: str | None) -> str:
    if not logo_url:
        return "'none'"
    url = urlsplit(logo_url)
    return "data:" if url.scheme == "data" else f"{url.scheme}://{url.netloc}"


def _page(request: web.Request, title: str, body: str, status: int = 200, *, script: bool = False) -> web.Response:
    config = request.app[CONFIG]
    station = request.app[WELCOME].central_station
    logo = (f'<img src="{escape(config.welcome.logo_url)}" alt="">' if config.welcome.logo_url else "")
    return page(f"{title} - {station}", f"<main><header>{logo}<h1>{escape(station)}</h1></header>{body}</main>",
                style=STYLE, status=status, img_src=_img_source(config.welcome.logo_url),
                script_src="'self'" if script else None)


def _push_offer(request: web.Request) -> str:
    """The "Also alert me on this device" button (push.backend webpush only): push-subscribe.js does the rest.
    Relative URLs, like the Confirm form's, so a path prefix in front of the gateway keeps working."""
    push = request.app.get(PUSH)
    if push is None:
        return ""
    token = escape(request.match_info["token"])
    up = "../" * (request.path.count("/") - 1)  # from /welcome/T or /welcome/T/confirm to the gateway's root
    return (f'<section class="card push"><button type="button" id="push-subscribe" data-key="{push.public_key}" '
            f'data-worker="{up}push/sw.js" data-scope="{up}push/" data-action="{up}welcome/{token}/push">Also '
            'alert me on this device</button><p id="push-status" class="muted" role="status">Alarm alerts with '
            'Confirm and Cancel buttons, in this browser, besides the texts.</p></section>'
            f'<script src="{up}push/subscribe.js" defer></script>')


def _not_found(request: web.Request) -> web.Response:
    return _page(request, "Link not valid", '<section class="card"><h2>This link is not valid</h2>'
                 '<p>It may have expired or been replaced by a newer one. Please ask your security company '
                 'to send you a new welcome message.</p></section>', status=404)


def _thanks(request: web.Request, first_name: str) -> web.Response:
    offer = _push_offer(request)
    return _page(request, "Confirmed", f'<section class="card done"><h2>Thank you, {escape(first_name)}!</h2>'
                 "<p>You are confirmed as an alarm contact. When an alarm goes off you will receive a text "
                 f"asking you to confirm or cancel it.</p></section>{offer}", script=bool(offer))


@routes.get("/welcome/{token}")
async def welcome_page(request: web.Request) -> web.Response:
    found = await request.app[WELCOME].find(request.match_info["token"])
    if found is None:
        return _not_found(request)
    welcome, contact, site = found
    if welcome.state == "confirmed":
        return _thanks(request, contact.first_name)
    config = request.app[CONFIG].welcome
    video = (f'<a class="video" href="{escape(config.video_url)}" rel="noopener noreferrer" target="_blank">'
             "&#9654; Watch the introduction video</a>" if config.video_url else "")
    action = escape(f"{request.match_info['token']}/confirm")  # relative: works behind a path prefix too
    return _page(request, "Welcome", (
        f'<section class="card"><h2>Welcome, {escape(contact.first_name)}</h2>'
        f"<p>{escape(config.message)}</p>"
        f'<p class="muted">Alarm contact for {escape(site.name)}</p>{video}'
        f'<form method="post" action="{action}"><button type="submit">Confirm</button></form></section>'))


@routes.post("/welcome/{token}/confirm")
async def confirm(request: web.Request) -> web.Response:
    found = await request.app[WELCOME].find(request.match_info["token"])
    if found is None:
        return _not_found(request)
    welcome, contact, _ = found
    await request.app[WELCOME].confirm(welcome, contact, request[TRACE_ID])
    return _thanks(request, contact.first_name)
