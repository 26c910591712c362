"""The one HTML page shell (the welcome page, the verification link pages) and the headers that guard it."""

from __future__ import annotations

import base64
import functools
import hashlib
from html import escape

from aiohttp import web


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


def page(title: str, body: str, *, style: str, status: int = 200, img_src: str = "'none'",
         script_src: str | None = None) -> web.Response:
    """A page titled ``title`` (escaped here) around ``body`` (markup: its caller escapes what it puts in)."""
    html = ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f'<meta name="robots" content="noindex"><title>{escape(title)}</title>'
            f"<style>{style}</style></head><body>{body}</body></html>")
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8",
                        headers=page_headers(style, img_src, script_src))
