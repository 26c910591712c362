"""Security headers: those of every response (HSTS behind https, no Server banner) and those of the HTML pages."""

from __future__ import annotations

import base64
import functools
import hashlib

from aiohttp import web

HSTS = "max-age=31536000"  # a year; no includeSubDomains: the gateway's host decides only for itself


@functools.cache
def _style_source(style: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(style.encode()).digest()).decode() + "'"


def page_headers(style: str, img_src: str = "'none'", script_src: str | None = None) -> dict[str, str]:
    """The headers of an HTML page whose URL holds a credential (a link token), or of a console page.

    Nothing loads but ``style`` (by its hash: no 'unsafe-inline'), images from ``img_src`` and, when
    given, scripts from ``script_src`` (which may then fetch from this origin); the page may not be
    framed, sniffed as another type, cached, indexed, or named in a Referer.
    """
    scripts = f"script-src {script_src}; connect-src 'self'; " if script_src else ""
    csp = (f"default-src 'none'; style-src {_style_source(style)}; img-src {img_src}; {scripts}form-action 'self'; "
           "frame-ancestors 'none'; base-uri 'none'")
    return {"Content-Security-Policy": csp, "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def install(app: web.Application, public_url: str) -> None:
    """Set the headers every response of ``app`` carries (its sub-applications' too)."""
    https = public_url.lower().startswith("https://")

    async def every_response(request: web.Request, response: web.StreamResponse) -> None:
        response.headers.popall("Server", None)  # "Python/3.11 aiohttp/3.x" tells an attacker which CVEs to try
        if https:
            response.headers["Strict-Transport-Security"] = HSTS

    app.on_response_prepare.append(every_response)
