"""Subcommands that run or talk to the daemon: serve, chat, event."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

import aiohttp

from gateway.daemon import logs
from gateway.config import Config
from gateway.errors import GatewayError, InvalidPhoneNumber
from gateway.core.phone import to_e164
from gateway.web.app import operator_key_path

POLL_SECONDS = 0.5
CALL_KEYS = (*"0123456789*#", "busy", "no-answer", "failed", "machine", "hangup")


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("chat", parents=[common], help="an interactive phone on the loopback carrier of a running daemon")
    p.add_argument("--from", dest="from_", required=True, metavar="NUMBER", help="the phone you pretend to be")
    p.add_argument("--url", help="daemon base URL (default: from the config's http host and port)")
    p.set_defaults(run=chat)

    p = sub.add_parser("event", parents=[common], help="post an alarm event to a running daemon")
    p.add_argument("--site", required=True)
    p.add_argument("--code", required=True, help="alarm event code, e.g. BA")
    p.add_argument("--zone")
    p.add_argument("--text")
    p.add_argument("--event-id", help="your id for the event (default: the gateway makes one)")
    p.add_argument("--url", help="daemon base URL (default: from the config's http host and port)")
    p.add_argument("--api-key", help="bearer key (default: $GATEWAY_API_KEY, else the daemon's operator key file)")
    p.set_defaults(run=event)


async def serve(config: Config, args: argparse.Namespace) -> int:
    from gateway.daemon.serve import serve as run

    logs.configure(config.logging.level, config.logging.format)
    return await run(config)


def _base_url(config: Config, url: str | None) -> str:
    return (url or f"http://{config.http.host}:{config.http.port}").rstrip("/")


def _error(body: dict) -> str:
    err = body.get("error", {}) if isinstance(body, dict) else {}
    return f"{err.get('code', '?')}: {err.get('message', body)}"


async def event(config: Config, args: argparse.Namespace) -> int:
    key = args.api_key or os.environ.get("GATEWAY_API_KEY")
    if not key:
        try:
            key = operator_key_path(config).read_text().strip()
        except OSError:
            raise GatewayError(f"no API key: pass --api-key, set GATEWAY_API_KEY, or run this where the daemon's "
                               f"{operator_key_path(config)} is readable") from None
    payload = {"site_id": args.site, "event_code": args.code, "zone": args.zone, "text": args.text,
               "event_id": args.event_id}
    url = _base_url(config, args.url) + "/ext/v1/events"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http:
        try:
            async with http.post(url, json={k: v for k, v in payload.items() if v is not None},
                                 headers={"Authorization": f"Bearer {key}"}) as resp:
                body = await resp.json(content_type=None)
        except aiohttp.ClientError as exc:
            raise GatewayError(f"cannot reach the daemon at {url}: {exc}") from None
    if resp.status >= 400:
        print(f"error: {_error(body)}", file=sys.stderr)
        return 1
    data = body["data"]
    print(f"event {data['event_id']} {data['event_code']}{' (duplicate: nothing sent)' if data['duplicate'] else ''}")
    for v in data["verifications"]:
        print(f"  verification {v['verification_id']} ({v['process']}) to {len(v['sent_to'])} contact(s), "
              f"times out {v['timeout_at']}")
    if not data["verifications"] and not data["duplicate"]:
        print(f"  logged {', '.join(data['logged'])}; no verification text sent")
    return 0


async def chat(config: Config, args: argparse.Namespace) -> int:
    try:
        phone = to_e164(args.from_, config.phone.default_region)
    except InvalidPhoneNumber as exc:
        raise GatewayError(f"--from: {exc.message}") from None
    base = _base_url(config, args.url)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http:
        ringing: list[int] = []  # the loopback calls to this phone still going, oldest first
        try:
            cursor = await _print_outbox(http, base, phone, after=0, history=5, ringing=ringing)
        except aiohttp.ClientError as exc:
            raise GatewayError(f"cannot reach the daemon at {base}: {exc}") from None
        print(f"You are {phone}. Type a text and press Enter; Ctrl-D to quit.", file=sys.stderr)
        poller = asyncio.create_task(_poll_outbox(http, base, phone, cursor, ringing))
        loop = asyncio.get_running_loop()
        try:
            while True:
                line = await loop.run_in_executor(None, sys.stdin.readline)
                if not line:
                    break
                if not line.strip():
                    continue
                if ringing and line.strip().lower() in CALL_KEYS:
                    await _on_call(http, base, ringing, line.strip().lower())
                    continue
                answer = await _post(http, base, "/carriers/loopback/inbound",
                                     {"from": phone, "body": line.rstrip("\n")})
                if answer is None:
                    continue
                _, body = answer
                for reply in body.get("replies", []):
                    print(f"< {reply}", flush=True)
        finally:
            poller.cancel()
    return 0


async def _post(http: aiohttp.ClientSession, base: str, path: str, payload: dict) -> tuple[int, dict] | None:
    """POST ``payload`` to the daemon: its status and JSON body, an error answer printed; None when it cannot be
    reached (said on stderr)."""
    try:
        async with http.post(f"{base}{path}", json=payload) as resp:
            status, body = resp.status, await resp.json(content_type=None)
    except aiohttp.ClientError as exc:
        print(f"! cannot reach the daemon at {base}: {exc}", file=sys.stderr)
        return None
    if status >= 400:
        print(f"! {_error(body)}", file=sys.stderr)
    return status, body


async def _on_call(http: aiohttp.ClientSession, base: str, ringing: list[int], key: str) -> None:
    """Press ``key`` on the oldest call still going (or end it busy, no-answer, machine, hang up)."""
    payload = {"digits": key} if len(key) == 1 else {"result": "completed" if key == "hangup" else key}
    answer = await _post(http, base, f"/carriers/loopback/calls/{ringing[0]}", payload)
    if answer is None:
        return
    status, body = answer
    if body.get("says"):
        print(f"< (call) {body['says']}", flush=True)
    if status >= 400 or not body.get("listening"):
        print("< (call ended)", flush=True)
        ringing.pop(0)


async def _print_outbox(http: aiohttp.ClientSession, base: str, phone: str, after: int, history: int = 0,
                        ringing: list[int] | None = None) -> int:
    """Print messages to ``phone`` after ``after`` (only the last ``history`` when set); the new cursor."""
    found: list[dict] = []
    for _ in range(100):  # pages of 1000: bounded
        async with http.get(f"{base}/carriers/loopback/outbox", params={"to": phone, "after": after,
                                                                         "limit": 1000}) as resp:
            if resp.status != 200:
                raise GatewayError(f"{base}/carriers/loopback/outbox answered {resp.status}: "
                                   "is the daemon running with the loopback carrier?")
            page = (await resp.json())["messages"]
        found.extend(page)
        if not page:
            break
        after = page[-1]["id"]
    for message in found[-history:] if history else found:
        if message.get("kind") == "call" and ringing is not None:
            ringing.append(message["id"])
            print(f"< incoming call: {message['body']}\n  (type 1, 2 or 9 to press a key; busy, no-answer, "
                  "machine or hangup to end it)", flush=True)
        else:
            print(f"< {message['body']}", flush=True)
    return after


async def _poll_outbox(http: aiohttp.ClientSession, base: str, phone: str, cursor: int, ringing: list[int]) -> None:
    while True:
        await asyncio.sleep(POLL_SECONDS)
        try:
            cursor = await _print_outbox(http, base, phone, cursor, ringing=ringing)
        except (aiohttp.ClientError, GatewayError) as exc:
            print(f"! outbox: {exc}", file=sys.stderr)
