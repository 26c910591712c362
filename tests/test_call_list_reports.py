"""A call list through the real twilio client and the fake Twilio: the carrier's report that a text was
undelivered moves the list on to the next contact without waiting out the step."""

from __future__ import annotations

import pytest

from gateway.web.appkeys import ESCALATION, STORE
from tests.fake_twilio import with_twilio
from tests.helpers import deliver, event_log, post_alarm
from tests.test_call_lists import A, B, _people, last_step_extra, second_method  # noqa: F401  (fixtures)
from tests.test_call_lists import config as call_list_config  # noqa: F401


@pytest.fixture
def config(call_list_config, fake_twilio):  # noqa: F811
    return with_twilio(call_list_config, fake_twilio, max_per_second=100, request_timeout_seconds=0.5)


async def test_an_undelivered_report_moves_the_list_on_at_once(client, tw, auth, site, clock):
    await _people(client.app[STORE], site, clock)
    await post_alarm(client, auth, site.id, "BA")
    await deliver(client)
    assert [m.form["To"] for m in tw.received] == [A]
    await tw.report(tw.received[0].sid, "undelivered", error_code="30003")
    await client.app[ESCALATION].run_once()  # the clock has not moved: the step's sixty seconds are not up
    await deliver(client)
    assert [m.form["To"] for m in tw.received] == [A, B]
    rows = await event_log(client, auth, site.id)
    assert [(r["code"], (r["details"] or {}).get("step")) for r in rows if r["code"] in ("SMSFAIL", "SMSSTEP")] == [
        ("SMSFAIL", None), ("SMSSTEP", 2)]
