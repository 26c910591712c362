"""Admission of argon2 checks (gateway/auth/admission.py): buckets, lanes and shedding, time moved by a ManualClock."""

from __future__ import annotations

import asyncio
import logging
import random
import secrets

import aiohttp
import pytest

from gateway.auth.admission import LOG_EVERY_SECONDS, CheckAdmission
from gateway.auth.apikeys import create_key, split_key
from gateway.clock import ManualClock
from gateway.config import CredentialChecks
from gateway.errors import ChecksShed
from gateway.daemon.metrics import Metrics
from gateway.auth.oauth import create_client

LIMITS = CredentialChecks(per_second=20, burst=40, per_caller_per_minute=10, per_caller_burst=10, queue=8,
                          stranger_queue=4)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def gate(clock: ManualClock, metrics: Metrics) -> CheckAdmission:
    return CheckAdmission(LIMITS, clock, metrics)


async def admitted(gate: CheckAdmission, caller: str, *, known: bool, checks: int = 2) -> bool:
    try:
        async with gate.turn("pin", caller, known=known, checks=checks):
            return True
    except ChecksShed:
        return False


def shed_count(metrics: Metrics, kind: str, reason: str) -> float:
    return metrics.registry.get_sample_value("gateway_credential_checks_shed_total", {"kind": kind, "reason": reason}) \
        or 0.0


async def test_unflooded_a_stranger_and_a_contact_are_both_checked(gate, metrics):
    assert await admitted(gate, "phone:+15550001111", known=True)
    assert await admitted(gate, "phone:+15559990000", known=False)
    assert metrics.registry.get_sample_value("gateway_credential_checks_shed_total",
                                             {"kind": "pin", "reason": "caller"}) is None


async def test_a_callers_bucket_sheds_its_own_flood_and_refills_with_the_clock(gate, clock, metrics):
    for _ in range(LIMITS.per_caller_burst // 2):
        assert await admitted(gate, "phone:+15550001111", known=True)
    with pytest.raises(ChecksShed) as shed:
        async with gate.turn("pin", "phone:+15550001111", known=True, checks=2):
            raise AssertionError("checked past the caller's bucket")
    assert (shed.value.reason, shed.value.known, shed.value.retry_after) == ("caller", True, 12)  # 2 checks at 10/min
    assert await admitted(gate, "phone:+15550002222", known=True)  # another number has its own bucket
    clock.advance(11)
    assert not await admitted(gate, "phone:+15550001111", known=True)
    clock.advance(2)
    assert await admitted(gate, "phone:+15550001111", known=True)
    assert shed_count(metrics, "pin", "caller") == 2


async def test_strangers_share_an_overall_bucket_that_known_callers_never_wait_on(gate, clock, metrics):
    strangers = (f"phone:+1555999{n:04d}" for n in range(1000))
    for _ in range(LIMITS.burst // 2):
        assert await admitted(gate, next(strangers), known=False)
    assert not await admitted(gate, next(strangers), known=False)
    assert shed_count(metrics, "pin", "overall") == 1
    for n in range(5):  # contacts are let in, their checks put the overall bucket in debt
        assert await admitted(gate, f"phone:+1555000{n:04d}", known=True)
    clock.advance(0.5)  # 10 checks at 20/s: the debt is paid, nothing saved yet
    assert not await admitted(gate, next(strangers), known=False)
    clock.advance(0.5)
    assert await admitted(gate, next(strangers), known=False)


async def test_known_callers_leave_the_overall_bucket_at_most_one_bucketful_in_debt(gate, clock):
    for n in range(LIMITS.burst):  # 80 checks on a full bucket of 40: 40 of debt, not more
        assert await admitted(gate, f"phone:+1555000{n:04d}", known=True)
    clock.advance(2)  # the debt paid at 20/s
    assert not await admitted(gate, "phone:+15559990000", known=False)
    clock.advance(0.25)
    assert await admitted(gate, "phone:+15559990000", known=False)


async def test_a_shed_stranger_keeps_its_own_tokens(gate):
    for n in range(LIMITS.burst // 2):
        assert await admitted(gate, f"phone:+1555999{n:04d}", known=False)
    for _ in range(LIMITS.per_caller_burst):  # shed by the overall bucket: its own stays full
        assert not await admitted(gate, "phone:+15558880000", known=False)
    assert (await _shed(gate, "phone:+15558880000", known=False)).reason == "overall"


async def _shed(gate, caller, *, known, checks=2) -> ChecksShed:
    with pytest.raises(ChecksShed) as shed:
        async with gate.turn("pin", caller, known=known, checks=checks):
            pass
    return shed.value


async def test_known_callers_go_first_and_a_full_lane_sheds_at_once(gate, metrics):
    order: list[str] = []
    release = asyncio.Event()

    async def hold() -> None:
        async with gate.turn("pin", "phone:holder", known=True, checks=2):
            await release.wait()

    async def check(caller: str, known: bool) -> None:
        async with gate.turn("pin", caller, known=known, checks=2):
            order.append(caller)

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(check(f"stranger{n}", False)) for n in range(2)]
    await asyncio.sleep(0)
    assert gate.waiting(False) == LIMITS.stranger_queue
    assert (await _shed(gate, "stranger9", known=False)).reason == "queue"  # at once, while the others wait
    waiting += [asyncio.create_task(check(f"contact{n}", True)) for n in range(2)]
    await asyncio.sleep(0)
    assert gate.waiting(True) == 4
    release.set()
    await asyncio.wait_for(asyncio.gather(holder, *waiting), 5)
    assert order == ["contact0", "contact1", "stranger0", "stranger1"]
    assert gate.waiting(True) == gate.waiting(False) == 0
    assert shed_count(metrics, "pin", "queue") == 1


async def test_a_cancelled_waiter_gives_up_its_place(gate):
    release = asyncio.Event()
    ran: list[str] = []

    async def hold() -> None:
        async with gate.turn("pin", "phone:holder", known=True, checks=2):
            await release.wait()

    async def check(caller: str) -> None:
        async with gate.turn("pin", caller, known=False, checks=2):
            ran.append(caller)

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    gone, kept = asyncio.create_task(check("gone")), asyncio.create_task(check("kept"))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.sleep(0)
    assert gate.waiting(False) == 2
    release.set()
    await asyncio.wait_for(asyncio.gather(holder, kept), 5)
    assert ran == ["kept"] and gone.cancelled()
    assert await admitted(gate, "phone:after", known=False)  # the thread was handed on, not lost


async def test_shed_checks_are_logged_at_most_once_a_minute(gate, clock, metrics, caplog):
    caplog.set_level(logging.WARNING, logger="gateway.auth.admission")
    for n in range(LIMITS.burst // 2):
        assert await admitted(gate, f"phone:+1555999{n:04d}", known=False)
    for n in range(50):
        assert not await admitted(gate, f"phone:+1555888{n:04d}", known=False)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "1 shed since the last such line (pin 1)" in lines[0]
    clock.advance(LOG_EVERY_SECONDS - 10)
    for n in range(LIMITS.burst // 2):  # refilled by 50 s at 20/s: spend it again
        await admitted(gate, f"phone:+1555777{n:04d}", known=False)
    assert len(caplog.records) == 1
    clock.advance(10)
    for n in range(LIMITS.burst // 2 + 1):
        await admitted(gate, f"phone:+1555666{n:04d}", known=False)
    assert len(caplog.records) == 2 and "50 shed since the last such line (pin 50)" in caplog.records[1].getMessage()
    assert shed_count(metrics, "pin", "overall") == 51


def test_limits_below_one_pin_text_are_a_configuration_error():
    from gateway.config import ConfigFileError, parse_config

    with pytest.raises(ConfigFileError, match="credential_checks.per_caller_burst: expected int >= 2"):
        parse_config("credential_checks: {per_caller_burst: 1}\n", "gateway.yaml")


# The call sites, in the application with the test clock standing still (buckets refill only when it moves).

@pytest.fixture
def counted(monkeypatch) -> list[str]:
    """Every argon2 check the bearer-key and OAuth paths run, by the module that ran it."""
    import gateway.auth.apikeys
    import gateway.auth.oauth

    checks: list[str] = []
    for module in (gateway.auth.apikeys, gateway.auth.oauth):
        def counting(hash_, secret, real=module.verify_secret_async, name=module.__name__):
            checks.append(name)
            return real(hash_, secret)
        monkeypatch.setattr(module, "verify_secret_async", counting)
    return checks


def guessed_key() -> dict[str, str]:
    return {"Authorization": f"Bearer gwk_{secrets.token_hex(6)}_{secrets.token_urlsafe(24)}"}


async def test_guessed_api_keys_are_refused_unchecked_while_a_real_key_gets_in(client, store, clock, counted):
    for _ in range(CredentialChecks().per_caller_burst):  # one remote address's guesses spend its bucket
        assert (await client.get("/ext/v1/event-log", headers=guessed_key())).status == 401
    counted.clear()
    resp = await client.get("/ext/v1/event-log", headers=guessed_key())
    assert resp.status == 401 and (await resp.json())["error"]["code"] == "UNAUTHORIZED"
    assert counted == []  # answered at once: the same 401, nothing checked
    real = await create_key(store, "real", clock)
    assert (await client.get("/ext/v1/event-log", headers={"Authorization": f"Bearer {real}"})).status == 200
    assert counted == ["gateway.auth.apikeys"]  # a known key id has a bucket of its own


async def test_wrong_secrets_for_a_known_key_id_get_429_after_its_bucket(client, store, clock, counted):
    real = await create_key(store, "real", clock)
    key_id = split_key(real)[0]
    wrong = {"Authorization": f"Bearer gwk_{key_id}_wrong"}
    for _ in range(CredentialChecks().per_caller_burst):
        assert (await client.get("/ext/v1/event-log", headers=wrong)).status == 401
    resp = await client.get("/ext/v1/event-log", headers=wrong)
    assert resp.status == 429 and resp.headers["Retry-After"] == "6"  # one check at 10 a minute
    assert (await resp.json())["error"]["code"] == "RATE_LIMITED"
    assert len(counted) == CredentialChecks().per_caller_burst
    clock.advance(6)
    assert (await client.get("/ext/v1/event-log", headers={"Authorization": f"Bearer {real}"})).status == 200


async def test_guessed_oauth_clients_get_401_unchecked_and_a_known_client_429(client, store, clock, counted):
    def form(client_id: str, secret: str) -> dict[str, str]:
        return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}

    for _ in range(CredentialChecks().per_caller_burst):
        assert (await client.post("/oauth/token", data=form(secrets.token_hex(8), "guess"))).status == 401
    counted.clear()
    resp = await client.post("/oauth/token", data=form(secrets.token_hex(8), "guess"))
    assert resp.status == 401 and (await resp.json())["error"] == "invalid_client" and counted == []
    client_id, secret = await create_client(store, "12345", None, clock)
    assert (await client.post("/oauth/token", data=form(client_id, secret))).status == 200
    for _ in range(CredentialChecks().per_caller_burst - 1):
        assert (await client.post("/oauth/token", data=form(client_id, "wrong"))).status == 401
    resp = await client.post("/oauth/token", data=form(client_id, secret))
    assert resp.status == 429 and resp.headers["Retry-After"] == "6"
    assert (await resp.json())["error"] == "temporarily_unavailable"
    clock.advance(6)
    assert (await client.post("/oauth/token", data=form(client_id, secret))).status == 200


async def test_shed_checks_show_in_the_metrics(client, counted):
    for _ in range(CredentialChecks().per_caller_burst + 3):
        await client.get("/ext/v1/event-log", headers=guessed_key())
    text = await (await client.get("/metrics")).text()
    assert 'gateway_credential_checks_shed_total{kind="api_key",reason="caller"} 3.0' in text


# A real daemon: a flood of PIN texts from random numbers while a contact logs in.

FLOOD_TEXTS = 400  # 800 argon2 checks, 15-30 s of the argon2 thread if each were run
LOGIN_BOUND_SECONDS = 10.0  # generous: a login admitted before the flood takes well under a second


async def test_a_contact_logs_in_through_a_flood_of_strangers_pins(tmp_path):
    from tests.daemon import Daemon

    d = Daemon(tmp_path, logging={"level": "INFO"})
    try:
        site = d.cli("site", "add", "--dealer", "12345", "--name", "Main Office").stdout.split("\t")[0]
        contact = d.cli("contact", "add", "--site", site, "--first-name", "Ann", "--last-name", "Lee",
                        "--phone", "+15550123456").stdout.split("\t")[0]
        d.cli("contact", "set-pin", contact, input="48213579\n")
        d.start()
        inbound = f"{d.url}/carriers/loopback/inbound"
        rng = random.Random(8)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                         timeout=aiohttp.ClientTimeout(total=120)) as http:
            async def text(phone: str, body: str, timeout: float = 120) -> list[str]:
                async with http.post(inbound, json={"from": phone, "body": body},
                                     timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
                    assert resp.status == 200, await resp.text()
                    return (await resp.json())["replies"]

            flood = [asyncio.create_task(text(f"+1555{rng.randrange(200, 300)}{rng.randrange(10**4):04d}",
                                              f"SITES {rng.randrange(10**8):08d}")) for _ in range(FLOOD_TEXTS)]
            try:
                await asyncio.sleep(0.5)  # the flood is in (or queued, without the fix) before the contact texts
                logins = [await text("+15550123456", "48213579", timeout=LOGIN_BOUND_SECONDS) for _ in range(3)]
                replies = await asyncio.wait_for(asyncio.gather(*flood), 120)
            finally:
                for task in flood:
                    task.cancel()
        assert all(login[0].startswith("PIN accepted until ") for login in logins), logins
        assert {tuple(r) for r in replies} == {("PIN not accepted.",)}
        status, metrics = d.request("GET", "/metrics")
        shed = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.decode().splitlines()
                   if line.startswith('gateway_credential_checks_shed_total{kind="pin"'))
        assert shed >= FLOOD_TEXTS / 2  # the overall bucket holds 20 PIN texts and refills 10 a second
        assert d.stop() == 0
        lines = [line for line in d.log.read_text().splitlines() if "credential checks:" in line]
        assert 1 <= len(lines) <= 2 and "WARNING" in lines[0]
    finally:
        d.close()
