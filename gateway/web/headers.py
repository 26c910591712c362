"""The security headers of every response: HSTS behind https, no Server banner (the HTML pages' own: web/page.py)."""

from __future__ import annotations

from aiohttp import web

HSTS = "max-age=31536000"  # a year; no includeSubDomains: the gateway's host decides only for itself


def install(app: web.Application, public_url: str) -> None:
    """Set the headers every response of ``app`` carries (its sub-applications' too)."""
    https = public_url.lower().startswith("https://")

    async def every_response(request: web.Request, response: web.StreamResponse) -> None:
        response.headers.popall("Server", None)  # "Python/3.11 aiohttp/3.x" tells an attacker which CVEs to try
        if https:
            response.headers["Strict-Transport-Security"] = HSTS

    app.on_response_prepare.append(every_response)
