"""The loopback carrier's own guard: a daemon that serves its unauthenticated paths beyond this machine says so."""

from __future__ import annotations

import logging
from datetime import datetime

import msgspec
import pytest


@pytest.mark.parametrize("host, warned", [("0.0.0.0", True), ("127.0.0.1", False)])
async def test_serve_logs_the_warning_at_start(aiohttp_client, config, clock, caplog, host, warned):
    from gateway.web.app import create_app

    exposed = msgspec.structs.replace(config, http=msgspec.structs.replace(config.http, host=host))
    with caplog.at_level(logging.WARNING):
        await aiohttp_client(create_app(exposed, clock=clock, run_loops=False))  # the test server binds 127.0.0.1
    assert any("NO authentication" in r.getMessage() and r.levelno == logging.WARNING
               for r in caplog.records) is warned


async def test_twilio_test_numbers_are_refused_with_twilios_error(client, auth, store, site, clock):
    """+15005550009 is Twilio's "cannot take texts" test number: the send fails as Twilio's would, 21614."""
    from gateway.model import Contact
    from tests.helpers import deliver, event_log, outbox

    landline = await store.add_contact(Contact(id=0, site_id=site.id, first_name="Lana", last_name="Line",
                                               phone="+15005550009", created_at=clock.now()))
    resp = await client.post("/ext/v1/dispatches", headers=auth, json={
        "site_id": site.id, "contacts": [landline.id], "text": "Police dispatched."})
    assert resp.status == 201, await resp.text()
    await deliver(client)
    failed = [r for r in await event_log(client, auth, site.id) if r["code"] == "SMSFAIL"]
    assert [(r["contact_id"], r["details"]["error_code"]) for r in failed] == [(landline.id, "21614")]
    assert "not a mobile number" in failed[0]["comment"]
    assert await outbox(client, "+15005550009") == []


@pytest.mark.parametrize("rate", [4.0, None])
async def test_loopback_sends_keep_the_configured_pace(aiohttp_client, config, clock, rate):
    """``carrier.loopback.max_per_second`` paces the loopback carrier like a real one (bench/storm.py's drain)."""
    import asyncio

    from gateway.clock import ManualClock
    from gateway.model import PRIORITY_NOTICE, Decision, OutboundMessage
    from gateway.web.app import create_app
    from gateway.web.appkeys import SENDER, STORE
    from tests.conftest import PHONE
    from tests.helpers import outbox

    class SteppingClock(ManualClock):  # a paced send's wait moves the clock instead of taking time
        async def sleep(self, seconds: float) -> None:
            self.advance(seconds)
            await asyncio.sleep(0)

    clock = SteppingClock(clock.now())
    carrier = msgspec.structs.replace(config.carrier, loopback=msgspec.structs.replace(
        config.carrier.loopback, max_per_second=rate))
    app = create_app(msgspec.structs.replace(config, carrier=carrier), clock=clock, run_loops=False)
    client = await aiohttp_client(app)
    await app[STORE].commit(Decision(outbound=[OutboundMessage(to_phone=PHONE, body=f"notice {i}", kind="notice",
                                                               priority=PRIORITY_NOTICE) for i in range(8)]))
    assert await app[SENDER].run_once() == 8
    sent = [datetime.fromisoformat(m["sent_at"]) for m in await outbox(client, PHONE)]
    gaps = [(b - a).total_seconds() for a, b in zip(sent, sent[1:])]
    assert gaps == pytest.approx([1 / rate] * 7 if rate else [0.0] * 7)
