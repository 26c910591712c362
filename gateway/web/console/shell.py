"""The console's HTML: one page shell (its style, navigation and headers) and the small pieces pages share.

Every value shown goes through ``e`` (HTML escaping). The one script, /console/static/console.js,
only refreshes the parts marked ``data-live``; everything else works without it.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from urllib.parse import urlsplit

from aiohttp import web

from gateway.core.banners import Banner
from gateway.web.appkeys import CONFIG
from gateway.web.console.keys import SESSION
from gateway.web.page import page_headers

STYLE = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f5f6f8;color:#1d2433}
a{color:#1a4fa0}
.skip{position:absolute;left:-999px}.skip:focus{left:.5rem;top:.5rem;background:#fff;padding:.4rem}
header{background:#1d2433;color:#fff}
nav{display:flex;flex-wrap:wrap;align-items:center;gap:.25rem 1rem;max-width:70rem;margin:0 auto;padding:.6rem 1rem}
nav a{color:#fff;font-weight:600;text-decoration:none;padding:.3rem 0}
nav a[aria-current]{text-decoration:underline}
nav form{margin-left:auto}
nav button{background:#fff;color:#1d2433}
main{max-width:70rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
.card{background:#fff;border-radius:.6rem;padding:1rem;margin:0 0 1rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
.card h2,.card h3{margin-top:0}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;vertical-align:top;padding:.45rem .5rem;border-bottom:1px solid #d5d9e0}
th{background:#e9ecf1}
.muted{color:#4a5568}
.banners{display:flex;flex-wrap:wrap;gap:.4rem;margin:.5rem 0;padding:0;list-style:none}
.banner{border-left:.35rem solid;border-radius:.3rem;padding:.25rem .6rem;font-weight:600}
.banner span{font-weight:400}
.green{background:#e3f4e8;color:#14532d;border-color:#1f8f4e}
.yellow{background:#fff4cc;color:#5c4400;border-color:#c89b00}
.blue{background:#e0ecff;color:#0b3a82;border-color:#1f5fbf}
.red{background:#fde2e2;color:#8a1111;border-color:#c62828}
.grey{background:#ececec;color:#333;border-color:#777}
.chip{display:inline-block;border-radius:1rem;padding:0 .6rem;font-size:.9rem;font-weight:600}
label{display:block;font-weight:600;margin:.8rem 0 .2rem}
input[type=text],input[type=password],select,textarea{width:100%;max-width:40rem;font:inherit;padding:.5rem;
border:1px solid #6b7280;border-radius:.3rem;background:#fff;color:#1d2433}
textarea{min-height:7rem}
fieldset{border:1px solid #c3c8d1;border-radius:.4rem;margin:1rem 0;padding:.5rem 1rem}
legend{font-weight:600}
.check{display:flex;gap:.5rem;align-items:baseline;font-weight:400;margin:.3rem 0}
button{font:inherit;font-weight:600;padding:.5rem 1rem;border:0;border-radius:.3rem;background:#1f5fbf;color:#fff;
cursor:pointer}
.notice{padding:.6rem .8rem;border-radius:.3rem;margin:0 0 1rem}
pre{white-space:pre-wrap;word-break:break-word;margin:0;font:inherit}
@media (max-width:40rem){nav form{margin-left:0}main{padding:.6rem}}
""".strip()

NAV = [("alarms", "/", "Alarms"), ("sites", "/sites", "Sites"), ("health", "/health", "Outbox health")]


def e(value: object) -> str:
    """``value`` as HTML text (None as nothing)."""
    return "" if value is None else escape(str(value))


def base(request: web.Request) -> str:
    """The console's URL path: ``/console`` under ``http.public_url``'s path (a proxy's prefix)."""
    return urlsplit(request.config_dict[CONFIG].http.public_url).path.rstrip("/") + "/console"


def url(request: web.Request, path: str) -> str:
    return base(request) + path


def when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else ""


def ago(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    return f"{seconds // 60} min" if seconds < 7200 else f"{seconds // 3600} h {seconds % 3600 // 60} min"


def csrf_field(request: web.Request) -> str:
    return f'<input type="hidden" name="csrf" value="{e(request[SESSION].csrf)}">'


def banners(items: list[Banner]) -> str:
    if not items:
        return ""
    return '<ul class="banners">' + "".join(
        f'<li class="banner {b.tone}">{e(b.label)}{f" <span>{e(b.detail)}</span>" if b.detail else ""}</li>'
        for b in items) + "</ul>"


def table(headers: list[str], rows: list[list[str]], caption: str) -> str:
    """A table (cells already HTML) that scrolls sideways on a narrow screen."""
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return (f'<div class="scroll"><table><caption class="muted">{e(caption)}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def page(request: web.Request, title: str, body: str, *, current: str | None = None,
         parts: dict[str, str] | None = None, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A whole console page; with ``?part=ID`` just the live part ``ID`` of it (for console.js)."""
    part = request.query.get("part")
    if parts and part in parts:
        html = parts[part]
    else:
        nav = script = ""
        if SESSION in request:  # the script, like every console path, needs a session
            script = f'<script src="{e(url(request, "/static/console.js"))}" defer></script>'
            links = "".join(f'<a href="{e(url(request, path))}"{" aria-current=page" if name == current else ""}>'
                            f"{e(label)}</a>" for name, path, label in NAV)
            nav = (f'<header><nav aria-label="Console">{links}<form method="post" action="'
                   f'{e(url(request, "/sign-out"))}">{csrf_field(request)}<button type="submit">Sign out</button>'
                   "</form></nav></header>")
        html = ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width,initial-scale=1">'
                f'<meta name="robots" content="noindex"><title>{e(title)} - Gateway console</title>'
                f"<style>{STYLE}</style>{script}</head>"
                f'<body><a class="skip" href="#main">Skip to the content</a>{nav}'
                f'<main id="main"><h1>{e(title)}</h1>{body}</main></body></html>')
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8",
                        headers={**page_headers(STYLE, script_src="'self'"), **(headers or {})})


def live(part_id: str, html: str, label: str) -> str:
    """A part of a page that console.js refreshes in place (``?part=part_id`` answers it alone)."""
    return f'<section id="{e(part_id)}" data-live aria-label="{e(label)}" aria-live="polite">{html}</section>'
