"""Time an in-order call list on the real application: alarm → step 1 text, → step 2 text (no answer), and
alarm → the second contact's text when the first is skipped at once (opted out).

    .venv/bin/python bench/call_list.py                 # step_seconds 10, 5 rounds
    .venv/bin/python bench/call_list.py --step-seconds 10 --rounds 3

The daemon's application (create_app with its sender and escalation loops, real clock, SQLite file, the
loopback carrier) runs in this process on 127.0.0.1; alarms are posted to POST /ext/v1/events and the
loopback outbox is polled every 5 ms. Printed: per round the milliseconds from the POST to each text appearing
in the loopback outbox, and the median. The step's own seconds are part of the second figure: what it adds
beyond them is the loop's latency (``verifications.expiry_poll_seconds``, 1 s by default). Exit 0 when every
round completed, whatever the figures; 1 when a text never came.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.auth.apikeys import create_key  # noqa: E402
from gateway.config import Config, Database, Http, Outbox, Verifications  # noqa: E402
from gateway.model import Contact, Site  # noqa: E402
from gateway.web.app import create_app  # noqa: E402
from gateway.web.appkeys import CLOCK, STORE  # noqa: E402

KEYWORDS = """
central_station: Bench
auto_processes:
  - name: call-list
    triggers: [BA]
    template: "ALARM at {site_name}. Reply YES or NO."
    timeout_seconds: 600
    escalation: {mode: in_order, step_seconds: %d, steps: [{methods: [sms]}]}
    codes: {sent: SMSSENT, response: SMSReply, pin_response: SMSPINReply, expired: SMSTIMEOUT}
    keywords:
      - {keyword: "YES", code: SMSYES, outcome: confirm}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _arrival(http: aiohttp.ClientSession, url: str, phone: str, after: int, deadline: float) -> tuple[float, int]:
    """When a text to ``phone`` shows in the loopback outbox after id ``after`` (monotonic), and its id."""
    while time.monotonic() < deadline:
        async with http.get(f"{url}/carriers/loopback/outbox", params={"to": phone, "after": after}) as resp:
            body = await resp.json()
            if "messages" not in body:
                raise AssertionError(f"loopback outbox: {body}")
            messages = body["messages"]
        if messages:
            return time.monotonic(), messages[0]["id"]
        await asyncio.sleep(0.005)
    raise TimeoutError(f"no text to {phone}")


async def run(args: argparse.Namespace, folder: Path) -> int:
    keywords = folder / "keywords.yaml"
    keywords.write_text(KEYWORDS % args.step_seconds, encoding="utf-8")
    port = free_port()
    config = Config(http=Http(port=port, public_url=f"http://127.0.0.1:{port}"),
                    database=Database(url=f"sqlite:///{folder}/gateway.sqlite3"), keywords=str(keywords),
                    outbox=Outbox(poll_seconds=1.0), verifications=Verifications(expiry_poll_seconds=1.0))
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}"
    store, clock = app[STORE], app[CLOCK]
    first, second, skipped = [], [], []
    try:
        auth = {"Authorization": f"Bearer {await create_key(store, 'bench', clock)}"}
        async with aiohttp.ClientSession() as http:
            for n in range(args.rounds):
                site = await store.add_site(Site(id=f"site_{n}", dealer_id="1", name=f"Site {n}", created_at=clock.now()))
                phones = [f"+1555020{n:03d}{i}" for i in range(3)]
                for i, phone in enumerate(phones):
                    await store.add_contact(Contact(id=0, site_id=site.id, first_name=f"C{i}", last_name="K",
                                                    phone=phone, auto_notify=True, call_order=i, created_at=clock.now()))
                deadline = time.monotonic() + args.step_seconds + 30
                start = time.monotonic()
                async with http.post(f"{url}/ext/v1/events", headers=auth,
                                     json={"site_id": site.id, "event_code": "BA"}) as resp:
                    assert resp.status in (200, 201), await resp.text()
                at, _ = await _arrival(http, url, phones[0], 0, deadline)
                first.append((at - start) * 1000)
                at, _ = await _arrival(http, url, phones[1], 0, deadline)
                second.append((at - start) * 1000)
                await store.set_opt_out(phones[0], True, "STOP", clock.now(), [])
                # Read before the POST: the skip's text may arrive before an answer to the POST does.
                before = (await (await http.get(f"{url}/carriers/loopback/outbox",
                                                params={"to": phones[1]})).json())["messages"][-1]["id"]
                start = time.monotonic()
                async with http.post(f"{url}/ext/v1/events", headers=auth,
                                     json={"site_id": site.id, "event_code": "BA", "event_id": f"evt_skip_{n}"}) as resp:
                    assert resp.status in (200, 201), await resp.text()
                at, _ = await _arrival(http, url, phones[1], before, deadline)
                skipped.append((at - start) * 1000)
                print(f"round {n + 1}: alarm -> step 1 {first[-1]:.0f} ms; -> step 2 {second[-1]:.0f} ms "
                      f"(step_seconds {args.step_seconds}); first contact opted out -> contact 2 {skipped[-1]:.0f} ms")
    except (TimeoutError, AssertionError) as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    finally:
        await runner.cleanup()
    print(f"median: step 1 {statistics.median(first):.0f} ms; step 2 {statistics.median(second):.0f} ms "
          f"({statistics.median(second) - args.step_seconds * 1000:.0f} ms beyond the step's seconds); "
          f"skip to contact 2 {statistics.median(skipped):.0f} ms")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step-seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-call-list-") as folder:
        return asyncio.run(run(args, Path(folder)))


if __name__ == "__main__":
    sys.exit(main())
