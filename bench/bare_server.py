"""The baseline for bench/inbound.py: a bare aiohttp app answering the loopback inbound path.

It does what any handler must (read and decode the JSON body) and answers the same
shape as the gateway, ``{"message_id", "replies": [], "duplicate": false}``, with no
store, no pipeline and no logging. ``python bench/bare_server.py --port P``; SIGTERM stops it.
"""

from __future__ import annotations

import argparse

from aiohttp import web


async def inbound(request: web.Request) -> web.Response:
    payload = await request.json()
    return web.json_response({"message_id": payload.get("message_id"), "replies": [], "duplicate": False})


async def readyz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ready"})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    app = web.Application()
    app.add_routes([web.post("/carriers/loopback/inbound", inbound), web.get("/readyz", readyz)])
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
