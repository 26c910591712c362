"""``gateway db copy``: a populated store moved between engines keeps every row and id; then a daemon
on PostgreSQL takes the PIN, the API key and the event-log cursor of a station that ran on SQLite."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.errors import GatewayError
from gateway.model import (
    AlarmEvent, Contact, Decision, DeliveryReport, Dispatch, InboundMessage, InterfaceState, LogEntry, Notification,
    OutboundMessage, PhoneLookup, ReplyRef, SiteGroup,
)
from gateway.stores import OAuthClient, open_store
from gateway.stores.copy import copy_store
from gateway.stores.migrations import TABLES
from tests.conftest import OTHER_PHONE, PHONE
from tests.daemon import Daemon
from tests.stores.conftest import text_for, verification
from tests.stores.test_engines_end_to_end import call, seed, text


async def populate(store, clock) -> None:
    """A row in every table, each written through the store's own methods."""
    from gateway.model import Site

    site = await store.add_site(Site(id="site_main", dealer_id="12345", name="Main Office", created_at=clock.now()))
    group = await store.add_site_group(SiteGroup(id="grp_1", dealer_id="12345", name="Retail", created_at=clock.now()))
    await store.add_site_to_group(group.id, site.id)
    john = await store.add_contact(Contact(id=0, site_id=site.id, first_name="John", last_name="Doe", phone=PHONE,
                                           auto_notify=True, language="es-MX", created_at=clock.now()))
    await store.add_contact(Contact(id=0, site_id=None, group_id=group.id, first_name="Gina", last_name="Lee",
                                    phone=OTHER_PHONE, created_at=clock.now()))
    await store.set_pin(john.id, "$argon2id$pin", clock.now() + timedelta(days=30))
    await store.set_duress_pin(john.id, "$argon2id$duress")
    v = verification(site, [john], clock, event_id="evt_1")
    await store.commit(Decision(
        alarm=AlarmEvent(id="evt_1", site_id=site.id, event_code="BA", zone="3", received_at=clock.now()),
        opened=[v], outbound=[text_for(v, john)],
        reply_refs=[ReplyRef(phone=PHONE, ref=1, alarm_key="evt_1", verification_id=v.id, site_id=site.id,
                             created_at=clock.now(), held_until=v.timeout_at)],
        log=[LogEntry(code="BA", at=clock.now(), site_id=site.id, details={"zone": "3"})],
        dispatches=[Dispatch(id="dsp_1", site_id=site.id, template="fire", code="SMSDISP", created_at=clock.now(),
                             reply_until=clock.now() + timedelta(minutes=10), recipients=((john.id, PHONE),))],
        notifications=[Notification(event_type="verification.sent", at=clock.now(), data={"verification_id": v.id})]))
    await store.commit(Decision(
        inbound=InboundMessage(carrier="loopback", carrier_message_id="SM1", from_phone=PHONE, to_phone="+15550000000",
                               body="hello", received_at=clock.now()),
        replies=["Hello John"], interface_state=InterfaceState(phone=PHONE, failures=1, failures_since=clock.now())))
    [item] = await store.claim_outbound(clock.now(), clock.now() + timedelta(seconds=60), 10)
    await store.outbound_sent(item, "loopback", "LB1", clock.now())
    await store.record_loopback(item, clock.now())
    await store.delivery_report(DeliveryReport(carrier="loopback", carrier_message_id="LB1", status="delivered",
                                               at=clock.now()), lambda i, r: [])
    await store.add_api_key("k1", "automation", "$argon2id$key", clock.now())
    await store.add_oauth_client(OAuthClient(client_id="acme", dealer_id="12345", secret_hash="$argon2id$c",
                                             created_at=clock.now()))
    await store.add_oauth_token("tok", "acme", "12345", clock.now(), clock.now() + timedelta(hours=1))
    await store.set_opt_out("+15550009999", True, "STOP", clock.now(), [LogEntry(code="SMSOPTOUT", at=clock.now())])
    await store.save_lookup(PhoneLookup(phone=PHONE, valid=True, line_type="mobile", looked_up_at=clock.now()))
    await store.start_welcome(john.id, "wh", clock.now() + timedelta(days=14), OutboundMessage(
        to_phone=PHONE, body="Welcome", kind="welcome", contact_id=john.id), [], clock.now())
    await store.add_response_token("r" * 64, v.id, john.id, clock.now() + timedelta(hours=1))
    await store.fan_out_webhook_events(clock.now(), lambda kind, at: ["https://hooks.example/all"], 10)
    await store.reserve_pace("+15550000000", 0.1, clock.now())
    await store.record_loopback_inbound(InboundMessage(carrier="loopback", carrier_message_id="LBIN1", from_phone=PHONE,
                                                       to_phone="+15550000000", body="missed", received_at=clock.now()))
    await store.save_push_subscription(john.id, "https://push.example/a", "P256", "AUTH", clock.now())


async def snapshot(store) -> dict:
    """What the store says through its methods, for comparing two stores."""
    return {
        "contacts": await store.list_contacts("site_main"), "groups": await store.group_sites("grp_1"),
        "log": await store.event_log(site_id=None, after=0, limit=100),
        "verification": await store.get_verification("ver_1"), "view": await store.inbound_view(PHONE, _now(store)),
        "key": await store.api_key_hash("k1"), "client": await store.oauth_client("acme"),
        "token": await store.oauth_token("tok"), "opted_out": await store.opted_out("+15550009999"),
        "lookup": await store.cached_lookup(PHONE), "welcome": await store.welcome_by_token("wh", _now(store)),
        "link": await store.response_token("r" * 64), "sent": await store.loopback_messages(to_phone=None, after=0,
                                                                                           limit=10),
        "alarm": await store.get_alarm_event("evt_1"), "depth": await store.outbox_depth(),
        "missed": await store.loopback_inbound("+15550000000", _now(store) - timedelta(hours=1), 10),
        "push": await store.push_subscriptions(1),
    }


def _now(store):
    return store.clock.now()


@pytest.mark.parametrize("source_engine, target_engine", [
    ("sqlite", "sqlite"),
    pytest.param("sqlite", "postgres", marks=pytest.mark.postgres),
    pytest.param("postgres", "sqlite", marks=pytest.mark.postgres),
])
async def test_every_table_is_copied_with_its_ids(request, tmp_path, clock, source_engine, target_engine):
    def url(engine: str, name: str) -> str:
        return request.getfixturevalue("pg_url") if engine == "postgres" else f"sqlite:///{tmp_path}/{name}.sqlite3"

    source, target = open_store(url(source_engine, "a"), clock=clock), open_store(url(target_engine, "b"), clock=clock)
    await source.open()
    await target.open()
    try:
        await populate(source, clock)
        assert {t: await source.db.count(t) for t in TABLES if not await source.db.count(t)} == {}  # none empty
        seen = []
        copied = await copy_store(source, target, progress=lambda t, done, total: seen.append((t, done, total)))
        assert copied == {t: await source.db.count(t) for t in TABLES}
        assert seen[0] == ("sites", 0, 1) and ("event_log", copied["event_log"], copied["event_log"]) in seen
        assert await snapshot(target) == await snapshot(source)

        old_log = await target.event_log(site_id=None, after=0, limit=100)
        new = await target.add_contact(Contact(id=0, site_id="site_main", first_name="New", last_name="One",
                                               created_at=clock.now()))
        await target.commit(Decision(log=[LogEntry(code="AFTER", at=clock.now())]))
        assert new.id > max(c.id for c in await source.list_contacts("site_main"))  # ids follow the copied ones
        assert [r.code for r in await target.event_log(site_id=None, after=old_log[-1].id, limit=10)] == ["AFTER"]

        with pytest.raises(GatewayError, match="already holds data"):
            await copy_store(source, target)
        await copy_store(source, target, force=True)
        assert await snapshot(target) == await snapshot(source)
    finally:
        await source.close()
        await target.close()


@pytest.mark.postgres
def test_a_station_moves_from_sqlite_to_postgresql_and_carries_on(tmp_path, pg_url):
    for folder in ("old", "new"):
        (tmp_path / folder).mkdir()
    old = Daemon(tmp_path / "old")
    try:
        site_id = seed(old)
        old.cli("contact", "set-pin", "1", input="48213579\n")
        old.cli("contact", "set-pin", "1", "--duress", input="97531864\n")
        key = old.cli("api-key", "add", "--name", "automation").stdout.strip()
        old.start()
        assert call(old, "POST", "/ext/v1/events", {"site_id": site_id, "event_code": "BA"}, key=key)[0] == 201
        assert text(old, "YES")[0].startswith("Thank you John.")
        before = call(old, "GET", "/ext/v1/event-log", key=key)[1]
        assert old.stop() == 0
        result = old.cli("db", "copy", "--from", f"sqlite:///{old.db}", "--to", pg_url)
    finally:
        old.close()
    counts = dict(line.split("\t") for line in result.stdout.splitlines() if "\t" in line)
    assert (counts["contacts"], counts["api_keys"], counts["event_log"]) == ("1", "1", str(len(before["data"])))
    assert "copying event_log:" in result.stderr

    new = Daemon(tmp_path / "new", database={"url": pg_url})
    try:
        refused = new.cli("db", "copy", "--from", f"sqlite:///{tmp_path / 'old' / 'gateway.sqlite3'}", "--to", pg_url,
                          check=False)
        assert refused.returncode == 2 and "already holds data" in refused.stderr
        new.start()
        assert call(new, "GET", "/ext/v1/event-log", key=key)[1]["data"] == before["data"]  # the key, every row
        assert "Main Office" in text(new, "STATUS 48213579")[0]  # the PIN
        assert "Main Office" in text(new, "STATUS 97531864")[0]  # the duress PIN: the same answer
        after = call(new, "GET", f"/ext/v1/event-log?after={before['next_after']}", key=key)[1]["data"]
        assert after and all(r["id"] > before["next_after"] for r in after)  # the cursor goes on where it was
        assert "DURESS" in [r["code"] for r in after]
        assert new.stop() == 0
    finally:
        new.close()
