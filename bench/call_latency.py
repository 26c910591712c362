"""From a verification asked for by call to the call ringing at (Twilio's) Calls API, through a real daemon.

Starts ``gateway serve`` on a temp SQLite file with the Twilio carrier pointed at the fake Twilio
(tests/fake_twilio.py, on its own thread and event loop, 127.0.0.1), seeds one site with ``--contacts``
contacts, then ``--rounds`` times posts ``POST /ext/v1/verifications`` with ``"method": "call"`` to every
contact and times, from just before the POST, until the fake's Calls resource has taken each call
(``calls.create``: the moment Twilio would start ringing the phone). Then it answers one call of the
last round on its signed webhooks (TwiML, press 1) to show the round trip works. Prints the figures;
exit 0 when the run completed whatever they are, 1 when something broke. Every wait is bounded.

    .venv/bin/python bench/call_latency.py                # 20 rounds of 1 call
    .venv/bin/python bench/call_latency.py --contacts 5   # 5 calls at once per round
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.daemon import Daemon  # noqa: E402
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, TWILIO_NUMBER, fake_twilio_in_a_thread  # noqa: E402
from tests.faults.harness import call, seed_site  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--contacts", type=int, default=1)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fake_twilio_in_a_thread() as (fake, run_in_fake):
        d = Daemon(Path(tmp), carrier={"backend": "twilio", "from_number": TWILIO_NUMBER, "twilio": {
            "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "api_base_url": fake.url, "max_per_second": 100}},
            outbox={"poll_seconds": 1.0})
        try:
            site = seed_site(d, args.contacts)
            d.start()
            fake.deliver_to = d.url
            seconds: list[float] = []
            for _ in range(args.rounds):
                before = len(fake.calls.placed)
                start = time.monotonic()
                status, body = call(d, "POST", "/ext/v1/verifications", {
                    "site_id": site, "contacts": ["all"], "method": "call", "message": "Alarm at Main Office."})
                if status != 200:
                    print(f"the API answered {status}: {body}", file=sys.stderr)
                    return 1
                deadline = start + 30
                while len(fake.calls.placed) < before + args.contacts and time.monotonic() < deadline:
                    time.sleep(0.001)
                placed = fake.calls.placed[before:]
                if len(placed) < args.contacts:
                    print(f"only {len(placed)} of {args.contacts} calls placed in 30 s", file=sys.stderr)
                    return 1
                seconds.extend(c.at - start for c in placed)
            last = fake.calls.placed[-1]
            twiml = run_in_fake(fake.calls.answer(last))
            pressed = run_in_fake(fake.calls.press(last, digits="1"))
            ok = twiml[0] == 200 and pressed[0] == 200 and "CONFIRMED" in last.said
        finally:
            d.stop()
            d.close()
    ms = sorted(s * 1000 for s in seconds)
    print(f"calls placed: {len(ms)} ({args.rounds} rounds of {args.contacts})")
    print(f"API request to Calls.create at the fake Twilio: p50 {statistics.median(ms):.1f} ms, "
          f"p95 {ms[int(len(ms) * 0.95) - 1]:.1f} ms, max {ms[-1]:.1f} ms, min {ms[0]:.1f} ms")
    print(f"answered the last call on its signed webhooks (TwiML, press 1): {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
