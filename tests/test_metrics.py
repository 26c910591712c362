"""What the metrics count that the shipped alerts (monitoring/alerts.yml) read: carrier errors by code, the last
success, a keyword reload rejected after the table in force was loaded."""

from __future__ import annotations

import pytest

from gateway.services.keyword_holder import KeywordFile
from gateway.daemon.metrics import Metrics
from gateway.model import Contact
from tests.conftest import KEYWORDS, OTHER_PHONE, PHONE
from tests.fake_twilio import Answer, with_twilio
from tests.helpers import deliver, post_alarm, scrape


@pytest.fixture
def config(config, fake_twilio):
    return with_twilio(config, fake_twilio, max_per_second=100)


async def test_carrier_refusals_and_failed_reports_count_by_code_and_a_success_is_stamped(
        client, tw, auth, store, site, contact, clock):
    await store.add_contact(Contact(id=0, site_id=site.id, first_name="Jane", last_name="Doe", phone=OTHER_PHONE,
                                    auto_notify=True, created_at=clock.now()))
    tw.errors_for[OTHER_PHONE] = Answer(status=400, code=21211, message="The 'To' number is not valid")
    await post_alarm(client, auth, site.id, "BA", event_id="evt_1")
    await deliver(client)
    [sent] = tw.received
    assert sent.to == PHONE
    samples = await scrape(client)
    assert samples[("gateway_carrier_errors_total", (("carrier", "twilio"), ("code", "21211")))] == 1.0
    assert samples[("gateway_carrier_last_success_timestamp_seconds", (("carrier", "twilio"),))] == \
        clock.now().timestamp()
    failed_rows = samples[("gateway_event_log_rows_total", (("code", "SMSFAIL"),))]

    for _ in range(2):  # Twilio may call back twice: the second report settles nothing and counts nothing
        assert (await tw.report(sent.sid, "undelivered", "30003"))[0] == 204
    samples = await scrape(client)
    assert samples[("gateway_carrier_errors_total", (("carrier", "twilio"), ("code", "30003")))] == 1.0
    assert samples[("gateway_event_log_rows_total", (("code", "SMSFAIL"),))] == failed_rows + 1


async def test_a_retried_carrier_error_counts_each_attempt(client, tw, auth, site, contact, clock):
    tw.script.append(Answer(status=503, message="Service unavailable"))
    await post_alarm(client, auth, site.id, "BA", event_id="evt_1")
    await deliver(client)
    samples = await scrape(client)
    assert samples[("gateway_carrier_errors_total", (("carrier", "twilio"), ("code", "503")))] == 1.0
    assert ("gateway_carrier_last_success_timestamp_seconds", (("carrier", "twilio"),)) not in samples
    clock.advance(60)
    await deliver(client)
    assert len(tw.received) == 1
    samples = await scrape(client)
    assert samples[("gateway_carrier_last_success_timestamp_seconds", (("carrier", "twilio"),))] == \
        clock.now().timestamp()


async def test_a_stale_text_is_counted_from_zero_before_the_first(client):
    assert (await scrape(client))[("gateway_event_log_rows_total", (("code", "SMSSTALE"),))] == 0.0


def test_a_rejected_reload_is_stamped_until_a_good_one_loads(tmp_path, clock):
    path = tmp_path / "keywords.yaml"
    path.write_text(KEYWORDS.read_text())
    metrics = Metrics()
    keywords = KeywordFile(path, metrics, clock)
    value = metrics.registry.get_sample_value
    loaded = value("gateway_keyword_table_loaded_timestamp_seconds")
    assert value("gateway_keyword_reload_rejected_timestamp_seconds") == 0  # never rejected
    clock.advance(60)
    path.write_text("auto_processes: [\n")
    assert keywords.reload() is False
    rejected = value("gateway_keyword_reload_rejected_timestamp_seconds")
    assert rejected == clock.now().timestamp() > loaded  # the alert's test: rejected after the table in force
    clock.advance(60)
    path.write_text(KEYWORDS.read_text())
    assert keywords.reload() is True
    assert value("gateway_keyword_table_loaded_timestamp_seconds") == clock.now().timestamp() > rejected
