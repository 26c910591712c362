"""Signing in to the operator console from an aiohttp test client, as a browser would."""

from __future__ import annotations

import re

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    return CSRF.search(html).group(1)


async def sign_in(client, key: str, next_path: str = "/console/"):
    """GET the form (its cookie and token), POST the key; the POST's response (not followed)."""
    form = await client.get("/console/sign-in", params={"next": next_path})
    assert form.status == 200
    return await client.post("/console/sign-in", params={"next": next_path}, allow_redirects=False,
                             data={"csrf": csrf_of(await form.text()), "key": key})


async def signed_in(client, key: str) -> str:
    """Sign in and return the CSRF token of the session's forms."""
    resp = await sign_in(client, key)
    assert resp.status == 303, await resp.text()
    return csrf_of(await (await client.get("/console/")).text())
